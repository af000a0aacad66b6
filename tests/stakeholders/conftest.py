"""Partner institutions of each kind with agreements in force, and their admin accounts.

Other stakeholder tests (API, management pages) import these: keep the names stable.
"""

import datetime
import itertools
from collections.abc import Callable

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.utils import timezone

from citizens.choices import Role
from citizens.models import User
from stakeholders import catalogue, services
from stakeholders.choices import AgreementKind, InstitutionKind, ReadScope
from stakeholders.models import Institution, InstitutionMember
from stakeholders.policy import Scope
from tests.factories import UserFactory

_codes = itertools.count(1)


# Before purpose limitation every institution read the whole regency; the offices of these
# fixtures keep doing so through a PKS clause that says so (purpose tests narrow it).
REGENCY_CLAUSE = "Pasal 3 ayat (1): seluruh penduduk Kabupaten Purworejo"


def institution_with_agreements(
    *,
    name: str,
    kind: InstitutionKind,
    valid_until: datetime.date | None = None,
    scope: Scope | None = None,
) -> Institution:
    """An institution registered with its kind's default authority, and an MoU and a PKS
    valid until `valid_until` (default: two years from today). The PKS names `scope`
    (default: every resident for the kinds an agreement may give that, nothing otherwise)."""
    if scope is None and ReadScope.REGENCY in catalogue.AGREEMENT_SCOPES[kind]:
        scope = Scope(ReadScope.REGENCY, clause=REGENCY_CLAUSE)
    today = timezone.localdate()
    until = valid_until or today + datetime.timedelta(days=730)
    start = min(today, until) - datetime.timedelta(days=365)
    institution = services.institution_create(name=name, kind=kind, code=f"{kind}-{next(_codes)}")
    for agreement_kind in (AgreementKind.MOU, AgreementKind.PKS):
        services.agreement_record(
            institution=institution,
            kind=agreement_kind,
            number=f"{agreement_kind.upper()}/{institution.code}/2026",
            purpose="Pemutakhiran data kependudukan",
            signed_on=start,
            valid_from=start,
            valid_until=until,
            scope=scope if agreement_kind == AgreementKind.PKS else None,
        )
    return institution


@pytest.fixture
def education_office(db) -> Institution:
    return institution_with_agreements(
        name="Dinas Pendidikan Kabupaten Purworejo", kind=InstitutionKind.EDUCATION_OFFICE
    )


@pytest.fixture
def health_office(db) -> Institution:
    return institution_with_agreements(
        name="Dinas Kesehatan Kabupaten Purworejo", kind=InstitutionKind.HEALTH_OFFICE
    )


@pytest.fixture
def religious_office(db) -> Institution:
    return institution_with_agreements(
        name="Kantor Kementerian Agama Kabupaten Purworejo",
        kind=InstitutionKind.RELIGIOUS_AFFAIRS_OFFICE,
    )


@pytest.fixture
def university(db) -> Institution:
    return institution_with_agreements(
        name="Universitas Muhammadiyah Purworejo", kind=InstitutionKind.UNIVERSITY
    )


@pytest.fixture
def company(db) -> Institution:
    return institution_with_agreements(name="PT Uji Purworejo", kind=InstitutionKind.COMPANY)


@pytest.fixture
def expired_office(db) -> Institution:
    """An education office whose MoU and PKS ended yesterday."""
    return institution_with_agreements(
        name="Dinas Pendidikan (MoU berakhir)",
        kind=InstitutionKind.EDUCATION_OFFICE,
        valid_until=timezone.localdate() - datetime.timedelta(days=1),
    )


@pytest.fixture
def admin_of(db) -> Callable[[Institution], User]:
    """Factory: an institution admin of `institution`, TOTP enrolled (MFA like officers),
    invited by a head of Dukcapil."""
    inviter = UserFactory(role=Role.HEAD)

    def make(institution: Institution) -> User:
        user = UserFactory(role=Role.INSTITUTION_ADMIN)
        TOTP.activate(user, generate_totp_secret())
        InstitutionMember.objects.create(user=user, institution=institution, invited_by=inviter)
        return user

    return make


@pytest.fixture
def institution_admin(admin_of, education_office) -> User:
    """The education office's admin."""
    return admin_of(education_office)
