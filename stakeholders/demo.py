"""Demo partner institutions for `make run`: an education office with its MoU and PKS in
force whose admin is the demo institution admin, a health office whose agreements end soon,
and the demo university. Synthetic; idempotent."""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from citizens.choices import Role
from citizens.demo import DEMO_DOMAIN, UNIVERSITY
from citizens.models import User
from stakeholders import services
from stakeholders.choices import AgreementKind, InstitutionKind
from stakeholders.models import Institution, InstitutionMember

EDUCATION_OFFICE = "Dinas Pendidikan Kabupaten Purworejo (demo)"


@dataclass(frozen=True)
class _Spec:
    code: str
    name: str
    kind: InstitutionKind
    valid_days: int  # how long from today the MoU and PKS stay valid


SPECS = (
    _Spec("disdik-demo", EDUCATION_OFFICE, InstitutionKind.EDUCATION_OFFICE, 730),
    _Spec(
        "dinkes-demo",
        "Dinas Kesehatan Kabupaten Purworejo (demo)",
        InstitutionKind.HEALTH_OFFICE,
        20,
    ),
    _Spec("univ-demo", UNIVERSITY, InstitutionKind.UNIVERSITY, 365),
)


@transaction.atomic
def demo_institutions_seed() -> list[str]:
    """Register the demo institutions with agreements, and make the demo institution admin a
    member of the education office. Returns the names created (none when already there)."""
    created = []
    today = timezone.localdate()
    for spec in SPECS:
        if Institution.objects.filter(code=spec.code).exists():
            continue
        institution = services.institution_create(
            name=spec.name,
            kind=spec.kind,
            code=spec.code,
            contact_email=f"{spec.code}@{DEMO_DOMAIN}",
        )
        signed = today - datetime.timedelta(days=60)
        for kind in (AgreementKind.MOU, AgreementKind.PKS):
            services.agreement_record(
                institution=institution,
                kind=kind,
                number=f"{kind.upper()}/{spec.code.upper()}/{signed.year}",
                purpose="Pemanfaatan dan pemutakhiran data kependudukan (demo)",
                signed_on=signed,
                valid_from=signed,
                valid_until=today + datetime.timedelta(days=spec.valid_days),
            )
        created.append(spec.name)
    _demo_admin_membership()
    return created


def _demo_admin_membership() -> None:
    admin = User.objects.filter(
        email=f"admin.institusi@{DEMO_DOMAIN}", role=Role.INSTITUTION_ADMIN
    ).first()
    head = User.objects.filter(email=f"kepala.dinas@{DEMO_DOMAIN}", role=Role.HEAD).first()
    if admin is None or head is None or InstitutionMember.objects.filter(user=admin).exists():
        return
    InstitutionMember.objects.create(
        user=admin, institution=Institution.objects.get(code=SPECS[0].code), invited_by=head
    )
