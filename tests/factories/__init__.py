"""factory_boy factories. Registry rows are built through citizens.services, the one writer."""

import datetime
import itertools

import factory
from django.contrib.auth.hashers import make_password

from citizens import linking, services
from citizens.choices import (
    ChangeSource,
    Education,
    FamilyRelation,
    MaritalStatus,
    Occupation,
    Registry,
    Religion,
    Role,
    Sex,
    StayPurpose,
)
from citizens.models import (
    Desa,
    Family,
    NonPermanentResident,
    PermanentResident,
    ResidentLink,
    User,
)
from citizens.nikgen import make_kk, make_nik
from submissions import services as submission_services
from submissions.choices import Channel, Kind
from submissions.models import Submission

TEST_PASSWORD = "correct-horse-battery-staple"
_serials = itertools.count(1)


def next_nik(*, region: str = "330606", birth_date: datetime.date, sex: int) -> str:
    return make_nik(region=region, birth_date=birth_date, sex=sex, serial=next(_serials) % 9999 + 1)


def next_kk(*, region: str = "330606") -> str:
    return make_kk(
        region=region, issued=datetime.date(2020, 1, 2), serial=next(_serials) % 9999 + 1
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Sequence(lambda n: f"Pengguna Uji {n}")
    role = Role.CITIZEN
    password = factory.LazyFunction(lambda: make_password(TEST_PASSWORD))


def family_create(*, desa: Desa | None = None, address: str = "Jalan Uji No. 1") -> Family:
    desa = desa or Desa.objects.filter(kecamatan__code="330606").order_by("code").first()
    return services.family_create(
        kk_number=next_kk(region=desa.kecamatan.code),
        desa=desa,
        address=address,
        rt="001",
        rw="002",
        source=ChangeSource.OFFICER,
    )


def resident_create(
    *,
    family: Family | None = None,
    full_name: str = "SITI UJI",
    birth_date: datetime.date = datetime.date(1990, 5, 17),
    sex: int = Sex.FEMALE,
    relation: int = FamilyRelation.HEAD,
    nik: str | None = None,
    **data: object,
) -> PermanentResident:
    family = family or family_create()
    values = {
        "full_name": full_name,
        "birth_place": "PURWOREJO",
        "birth_date": birth_date,
        "sex": sex,
        "religion": Religion.ISLAM,
        "marital_status": MaritalStatus.MARRIED_REGISTERED,
        "education": Education.SENIOR_SECONDARY,
        "occupation": Occupation.FARMER,
        "family_relation": relation,
        "father_name": "AYAH UJI",
        "mother_name": "IBU UJI",
        **data,
    }
    return services.permanent_resident_create(
        nik=nik or next_nik(region=family.desa.kecamatan.code, birth_date=birth_date, sex=sex),
        family=family,
        data=values,
        source=ChangeSource.OFFICER,
    )


NON_PERMANENT_BIRTH_DATE = datetime.date(2003, 4, 5)


def non_permanent_create(*, desa: Desa, **overrides: object) -> NonPermanentResident:
    """A student from Kulon Progo staying in `desa`, registered through the registry writer."""
    data: dict[str, object] = {
        "full_name": "TAMU UJI",
        "birth_place": "SLEMAN",
        "birth_date": NON_PERMANENT_BIRTH_DATE,
        "sex": Sex.MALE,
        "religion": Religion.ISLAM,
        "marital_status": MaritalStatus.SINGLE,
        "education": Education.SENIOR_SECONDARY,
        "occupation": Occupation.STUDENT,
        "mother_name": "IBU TAMU",
        "origin_address": "Jalan Asal 1",
        "origin_region_code": "3404012001",
        "domicile_desa": desa,
        "domicile_address": "Asrama Blok A",
        "domicile_rt": "001",
        "domicile_rw": "001",
        "purpose": StayPurpose.STUDY,
        "start_date": datetime.date(2026, 1, 1),
        "expected_end_date": datetime.date(2026, 12, 31),
        **overrides,
    }
    return services.non_permanent_resident_create(
        nik=next_nik(region="340401", birth_date=NON_PERMANENT_BIRTH_DATE, sex=Sex.MALE),
        data=data,
        source=ChangeSource.OFFICER,
    )


def account_link(user: User, resident: PermanentResident) -> ResidentLink:
    """Link `user` to a permanent resident as the citizen would, with the resident's details."""
    return linking.identity_link(
        user=user,
        nik=resident.nik,
        kk_number=resident.family.kk_number,
        birth_date=resident.birth_date,
        mother_name=resident.mother_name,
    )


def biodata_request_create(
    *, citizen: User, resident: PermanentResident, subject_key: str = "me-biodata"
) -> Submission:
    """A citizen's own biodata correction (occupation) about `resident`."""
    return submission_services.submission_create(
        kind=Kind.BIODATA_CORRECTION,
        filed_by=citizen,
        citizen=citizen,
        channel=Channel.CITIZEN,
        desa=resident.family.desa,
        subject_key=subject_key,
        subject_registry=Registry.PERMANENT,
        subject_id=resident.pk,
        family=resident.family,
        items=[submission_services.Item(field="occupation", before="9", after="65")],
    )


def death_report_create(*, operator: User, resident: PermanentResident) -> Submission:
    """A village operator's assisted report of `resident`'s death, with consent."""
    return submission_services.submission_create(
        kind=Kind.DEATH,
        filed_by=operator,
        citizen=None,
        channel=Channel.ASSISTED,
        consent_given=True,
        desa=resident.family.desa,
        subject_key=f"death-{resident.pk}",
        subject_registry=Registry.PERMANENT,
        subject_id=resident.pk,
        family=resident.family,
        items=[submission_services.Item(field="life_status", before="alive", after="dead")],
    )
