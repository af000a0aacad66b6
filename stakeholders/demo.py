"""Demo partner institutions for `make run`: an education office with its MoU and PKS in
force whose admin is the demo institution admin, a health office whose agreements end soon,
the demo university and the demo company. Each reads only its population (stakeholders.policy):
the education office people of school age, the health office every resident (its PKS has a
clause saying so), the university and the company the non-permanent residents they host, on
an applied roster each. Synthetic; idempotent."""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from citizens.choices import Role
from citizens.demo import COMPANY, DEMO_DOMAIN, UNIVERSITY
from citizens.models import NonPermanentResident, User
from stakeholders import catalogue, services
from stakeholders.choices import (
    AgreementKind,
    InstitutionKind,
    ReadScope,
    RowOutcome,
    UploadFormat,
    UploadStatus,
)
from stakeholders.models import ExchangeBatch, ExchangeRow, Institution, InstitutionMember
from stakeholders.policy import Scope

EDUCATION_OFFICE = "Dinas Pendidikan Kabupaten Purworejo (demo)"


@dataclass(frozen=True)
class _Spec:
    code: str
    name: str
    kind: InstitutionKind
    valid_days: int  # how long from today the MoU and PKS stay valid
    scope: Scope | None = None  # the population the PKS names (None: the roster's kinds)


SPECS = (
    _Spec(
        "disdik-demo",
        EDUCATION_OFFICE,
        InstitutionKind.EDUCATION_OFFICE,
        730,
        Scope(
            ReadScope.AGE,
            min_age=catalogue.SCHOOL_AGE[0],
            max_age=catalogue.SCHOOL_AGE[1],
            clause="Pasal 3 ayat (2): penduduk usia sekolah (5-18 tahun)",
        ),
    ),
    _Spec(
        "dinkes-demo",
        "Dinas Kesehatan Kabupaten Purworejo (demo)",
        InstitutionKind.HEALTH_OFFICE,
        20,
        Scope(
            ReadScope.REGENCY,
            clause="Pasal 3 ayat (1): seluruh penduduk, untuk jaminan kesehatan (JKN)",
        ),
    ),
    _Spec("univ-demo", UNIVERSITY, InstitutionKind.UNIVERSITY, 365),
    _Spec("pt-demo", COMPANY, InstitutionKind.COMPANY, 365),
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
                scope=spec.scope if kind == AgreementKind.PKS else None,
            )
        if spec.kind in catalogue.ROSTER_KINDS:
            _demo_roster(institution)
        created.append(spec.name)
    _demo_admin_membership()
    return created


def _demo_roster(institution: Institution) -> None:
    """An applied roster of the non-permanent residents the demo population says the
    institution hosts, as if its admin had uploaded it (no file is kept)."""
    hosted = list(
        NonPermanentResident.objects.filter(host_institution=institution.name[:200])
        .order_by("pk")
        .values_list("nik_index", flat=True)
    )
    if not hosted:
        return
    now = timezone.now()
    batch = ExchangeBatch.objects.create(
        institution=institution,
        format=UploadFormat.ROSTER,
        status=UploadStatus.APPLIED,
        sha256=f"demo-roster-{institution.code}",
        rows_total=len(hosted),
        rows_done=len(hosted),
        counts={RowOutcome.UNCHANGED: len(hosted)},
        previewed_at=now,
        confirmed_at=now,
        applied_at=now,
    )
    ExchangeRow.objects.bulk_create(
        ExchangeRow(
            batch=batch, line=line, nik_index=index, outcome=RowOutcome.UNCHANGED, applied=True
        )
        for line, index in enumerate(hosted, start=2)
    )


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
