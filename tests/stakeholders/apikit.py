"""Helpers for the API, feed, webhook and export tests: keys, a narrow institution, and a
resident whose unreadable elements carry marker values that must never leak."""

import datetime

from citizens.choices import Education, HealthInsurance
from citizens.models import PermanentResident, User
from stakeholders import services
from stakeholders.choices import InstitutionKind, WriteMode
from stakeholders.models import FieldAuthority, Institution
from tests.factories import resident_create
from tests.stakeholders.conftest import institution_with_agreements

# Values of elements the narrow institution may not read: none may appear in its responses.
SECRETS = (
    "RAHASIA NAMA",
    "TEMPATRAHASIA",
    "SEKOLAHRAHASIA",
    "AKTA-RAHASIA-77",
    "1961-02-03",
    "jkn_pbi",
)


def issue_key(institution: Institution, admin: User, *, valid_days: int = 30) -> str:
    _key, full = services.api_key_issue(
        institution=institution, user=admin, name="Integrasi", valid_days=valid_days
    )
    return full


def auth(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def narrow_institution() -> Institution:
    """Reads only the NIK and the education level, and writes education (adopted)."""
    institution = institution_with_agreements(
        name="Dinas Sempit", kind=InstitutionKind.EDUCATION_OFFICE
    )
    FieldAuthority.objects.filter(institution=institution).delete()
    FieldAuthority.objects.create(institution=institution, field="nik", read=True)
    FieldAuthority.objects.create(
        institution=institution, field="education", read=True, write=WriteMode.ADOPT
    )
    return institution


def secret_resident() -> PermanentResident:
    return resident_create(
        full_name="RAHASIA NAMA",
        birth_date=datetime.date(1961, 2, 3),
        birth_place="TEMPATRAHASIA",
        school_enrolment="SEKOLAHRAHASIA",
        marriage_record_number="AKTA-RAHASIA-77",
        health_insurance=HealthInsurance.JKN_PBI,
        education=Education.DIPLOMA_4_S1,
    )


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret
