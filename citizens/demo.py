"""Synthetic, reproducible demo population and one demo account per role.

Only fabricated people: names are drawn from Faker's id_ID word lists, NIKs and KK numbers are
built with citizens.nikgen so their region, date and sex encoding are valid and consistent.
Rows are inserted in bulk, a chunk of families at a time, so 770,000 residents fit in minutes
and in little memory. Seeded rows carry no per-field history: they are the baseline that the
first real change is recorded against.
"""

import datetime
import multiprocessing
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import connection, connections, models, transaction
from faker import Faker
from faker.providers.person.id_ID import Provider as PersonProvider

from citizens import crypto, policy
from citizens.choices import (
    BloodType,
    Education,
    FamilyRelation,
    MaritalStatus,
    Occupation,
    Religion,
    Role,
    Sex,
    StayPurpose,
)
from citizens.models import (
    Desa,
    Family,
    Kecamatan,
    NonPermanentResident,
    PermanentResident,
    ResidentLink,
    User,
)
from citizens.nikgen import make_kk, make_nik

DEMO_PASSWORD = "purworejo-demo-2026"  # noqa: S105  (development only, printed by seed_demo)
DEMO_DOMAIN = "demo.purworejo.test"
UNIVERSITY = "Universitas Demo Purworejo"
COMPANY = "PT Demo Manufaktur Purworejo"
# Regions of origin for non-permanent residents and the few residents who moved in.
OUTSIDE_REGIONS = ["330501", "330711", "340101", "340402", "347101", "337401", "357801", "317101"]
RELIGION_WEIGHTS = [
    (Religion.ISLAM, 96.5),
    (Religion.PROTESTANT, 1.6),
    (Religion.CATHOLIC, 1.5),
    (Religion.BUDDHIST, 0.2),
    (Religion.HINDU, 0.1),
    (Religion.CONFUCIAN, 0.05),
    (Religion.BELIEF, 0.05),
]
ADULT_OCCUPATIONS = [
    (Occupation.FARMER, 22),
    (Occupation.HOMEMAKER, 14),
    (Occupation.SELF_EMPLOYED, 12),
    (Occupation.PRIVATE_EMPLOYEE, 10),
    (Occupation.FARM_LABOURER, 8),
    (Occupation.DAY_LABOURER, 8),
    (Occupation.TRADER, 5),
    (Occupation.UNEMPLOYED, 5),
    (Occupation.TEACHER, 2),
    (Occupation.CIVIL_SERVANT, 2),
    (Occupation.RETIRED, 2),
    (Occupation.MASON, 2),
    (Occupation.DRIVER, 2),
    (Occupation.CARPENTER, 1),
    (Occupation.TAILOR, 1),
    (Occupation.NURSE, 1),
    (Occupation.ARMED_FORCES, 1),
    (Occupation.POLICE, 1),
    (Occupation.FISHERY, 1),
]
ADULT_EDUCATION = [
    (Education.PRIMARY, 30),
    (Education.JUNIOR_SECONDARY, 22),
    (Education.SENIOR_SECONDARY, 26),
    (Education.PRIMARY_INCOMPLETE, 8),
    (Education.NONE, 4),
    (Education.DIPLOMA_3, 3),
    (Education.DIPLOMA_4_S1, 6),
    (Education.MASTER, 0.8),
    (Education.DIPLOMA_1_2, 1),
    (Education.DOCTORATE, 0.2),
]


@dataclass
class SeedResult:
    families: int = 0
    residents: int = 0
    non_permanent: int = 0
    skipped: bool = False


@dataclass
class DemoAccount:
    email: str
    role: str
    jurisdiction: str
    totp: bool


@dataclass
class _Generator:
    rng: random.Random
    today: datetime.date
    villages: list[tuple[int, str, str]]  # (desa id, kecamatan code, postal code)
    streets: list[str]
    # Shards run in parallel; NIKs from outside Purworejo get a disjoint serial range per shard.
    outside_serial_offset: int = 0
    nik_serials: dict[int, int] = field(default_factory=dict)
    kk_serials: dict[int, int] = field(default_factory=dict)

    def pick(self, weighted: list[tuple[int, float]]) -> int:
        values, weights = zip(*weighted, strict=True)
        return self.rng.choices(values, weights)[0]

    def birth_date(self, age_min: int, age_max: int) -> datetime.date:
        days = self.rng.randint(age_min * 365, age_max * 365 + 364)
        return self.today - datetime.timedelta(days=days)

    def nik(self, region: str, born: datetime.date, sex: int) -> str:
        day = born.day + (40 if sex == Sex.FEMALE else 0)
        key = int(f"{region}{day:02d}{born:%m%y}")
        serial = self.nik_serials.get(key, 0) + 1
        self.nik_serials[key] = serial
        if not region.startswith("3306"):
            serial += self.outside_serial_offset
        return make_nik(region=region, birth_date=born, sex=sex, serial=serial)

    def kk(self, region: str) -> str:
        issued = self.today - datetime.timedelta(days=self.rng.randint(0, 365 * 15))
        key = int(f"{region}{issued:%d%m%y}")
        serial = self.kk_serials.get(key, 0) + 1
        self.kk_serials[key] = serial
        return make_kk(region=region, issued=issued, serial=serial)

    def name(self, sex: int) -> str:
        if sex == Sex.MALE:
            first = self.rng.choice(PersonProvider.first_names_male)
            last = self.rng.choice(PersonProvider.last_names_male)
        else:
            first = self.rng.choice(PersonProvider.first_names_female)
            last = self.rng.choice(PersonProvider.last_names_female)
        return f"{first} {last}".upper()

    def adult_traits(self, age: int, sex: int) -> dict[str, int]:
        occupation = self.pick(ADULT_OCCUPATIONS)
        if age >= 60 and self.rng.random() < 0.5:
            occupation = Occupation.RETIRED if self.rng.random() < 0.2 else Occupation.FARMER
        if sex == Sex.MALE and occupation == Occupation.HOMEMAKER:
            occupation = Occupation.FARMER
        return {"education": self.pick(ADULT_EDUCATION), "occupation": occupation}

    def child_traits(self, age: int) -> dict[str, int]:
        if age < 5:
            education = Education.NONE
        elif age < 12:
            education = Education.PRIMARY_INCOMPLETE
        elif age < 15:
            education = Education.PRIMARY
        elif age < 18:
            education = Education.JUNIOR_SECONDARY
        else:
            education = self.pick(ADULT_EDUCATION[:3] + ADULT_EDUCATION[5:7])
        occupation = Occupation.STUDENT if 5 <= age <= 22 else Occupation.UNEMPLOYED
        return {"education": education, "occupation": occupation}

    def person(
        self,
        *,
        sex: int,
        born: datetime.date,
        region: str,
        relation: int,
        marital: int,
        father: str,
        mother: str,
        religion: int,
        traits: dict[str, int],
        birth_place: str,
    ) -> PermanentResident:
        nik = self.nik(region, born, sex)
        name = self.name(sex)
        return PermanentResident(
            nik=nik,
            nik_index=crypto.nik_index(nik),
            full_name=name,
            name_key=crypto.name_index(name),
            birth_place=birth_place,
            birth_date=born,
            sex=sex,
            blood_type=self.rng.choice(list(BloodType)).value,
            religion=religion,
            marital_status=marital,
            family_relation=relation,
            father_name=father,
            mother_name=mother,
            **traits,
        )

    def family(self, kecamatan_names: dict[str, str]) -> tuple[Family, list[PermanentResident]]:
        desa_id, kec_code, _postal = self.rng.choice(self.villages)
        kk = self.kk(kec_code)
        family = Family(
            kk_number=kk,
            kk_index=crypto.kk_index(kk),
            desa_id=desa_id,
            address=f"{self.rng.choice(self.streets)} No. {self.rng.randint(1, 150)}",
            rt=f"{self.rng.randint(1, 9):03d}",
            rw=f"{self.rng.randint(1, 6):03d}",
        )
        birth_place = "PURWOREJO" if self.rng.random() < 0.85 else kecamatan_names[kec_code].upper()
        # A few residents moved in and keep the NIK issued elsewhere (a warning, not an error).
        region = kec_code if self.rng.random() > 0.03 else self.rng.choice(OUTSIDE_REGIONS)
        religion = self.pick(RELIGION_WEIGHTS)
        shape = self.rng.random()
        members: list[PermanentResident] = []
        head_age = self.rng.randint(24, 80)
        head_sex = Sex.MALE if shape < 0.86 else Sex.FEMALE
        head_marital = MaritalStatus.MARRIED_REGISTERED
        if shape >= 0.86:
            head_marital = (
                MaritalStatus.WIDOWED if head_age > 50 else MaritalStatus.DIVORCED_REGISTERED
            )
        elif shape < 0.04:
            head_marital = MaritalStatus.SINGLE
        head = self.person(
            sex=head_sex,
            born=self.birth_date(head_age, head_age),
            region=region,
            relation=FamilyRelation.HEAD,
            marital=head_marital,
            father=self.name(Sex.MALE),
            mother=self.name(Sex.FEMALE),
            religion=religion,
            traits=self.adult_traits(head_age, head_sex),
            birth_place=birth_place,
        )
        members.append(head)
        father_name, mother_name = (
            (head.full_name, "") if head_sex == Sex.MALE else ("", head.full_name)
        )
        mother_age = head_age if head_sex == Sex.FEMALE else 0
        if head_marital == MaritalStatus.MARRIED_REGISTERED:
            wife_age = max(18, head_age - self.rng.randint(-2, 8))
            wife = self.person(
                sex=Sex.FEMALE,
                born=self.birth_date(wife_age, wife_age),
                region=region,
                relation=FamilyRelation.WIFE,
                marital=MaritalStatus.MARRIED_REGISTERED,
                father=self.name(Sex.MALE),
                mother=self.name(Sex.FEMALE),
                religion=religion,
                traits=self.adult_traits(wife_age, Sex.FEMALE),
                birth_place=birth_place,
            )
            members.append(wife)
            mother_name, mother_age = wife.full_name, wife_age
        if head_marital != MaritalStatus.SINGLE and mother_age:
            for _ in range(self.rng.choices([0, 1, 2, 3, 4], [14, 24, 34, 19, 9])[0]):
                age = mother_age - self.rng.randint(19, 40)
                if age < 0:
                    continue
                sex = self.rng.choice([Sex.MALE, Sex.FEMALE])
                members.append(
                    self.person(
                        sex=sex,
                        born=self.birth_date(age, age),
                        region=region,
                        relation=FamilyRelation.CHILD,
                        marital=MaritalStatus.SINGLE
                        if age < 25
                        else MaritalStatus.MARRIED_REGISTERED,
                        father=father_name,
                        mother=mother_name,
                        religion=religion,
                        traits=self.child_traits(age) if age < 23 else self.adult_traits(age, sex),
                        birth_place=birth_place,
                    )
                )
        if head_age < 55 and self.rng.random() < 0.08:
            age = head_age + self.rng.randint(20, 30)
            members.append(
                self.person(
                    sex=Sex.FEMALE,
                    born=self.birth_date(age, age),
                    region=region,
                    relation=FamilyRelation.PARENT,
                    marital=MaritalStatus.WIDOWED,
                    father=self.name(Sex.MALE),
                    mother=self.name(Sex.FEMALE),
                    religion=religion,
                    traits={"education": Education.PRIMARY, "occupation": Occupation.UNEMPLOYED},
                    birth_place=birth_place,
                )
            )
        return family, members

    def non_permanent(self, host: str, purpose: str) -> NonPermanentResident:
        sex = self.rng.choice([Sex.MALE, Sex.FEMALE])
        age = self.rng.randint(18, 24) if purpose == StayPurpose.STUDY else self.rng.randint(20, 45)
        born = self.birth_date(age, age)
        region = self.rng.choice(OUTSIDE_REGIONS)
        nik = self.nik(region, born, sex)
        desa_id, _kec, _postal = self.rng.choice(self.villages)
        start = self.today - datetime.timedelta(days=self.rng.randint(10, 300))
        kk = self.kk(region)
        name = self.name(sex)
        return NonPermanentResident(
            nik=nik,
            nik_index=crypto.nik_index(nik),
            kk_number=kk,
            full_name=name,
            name_key=crypto.name_index(name),
            birth_place="YOGYAKARTA",
            birth_date=born,
            sex=sex,
            religion=self.pick(RELIGION_WEIGHTS),
            marital_status=MaritalStatus.SINGLE,
            education=Education.SENIOR_SECONDARY
            if purpose == StayPurpose.STUDY
            else self.pick(ADULT_EDUCATION),
            occupation=Occupation.STUDENT
            if purpose == StayPurpose.STUDY
            else Occupation.PRIVATE_EMPLOYEE,
            father_name=self.name(Sex.MALE),
            mother_name=self.name(Sex.FEMALE),
            origin_address=f"{self.rng.choice(self.streets)} No. {self.rng.randint(1, 99)}",
            origin_region_code=f"{region}2001",
            domicile_desa_id=desa_id,
            domicile_address=f"{self.rng.choice(self.streets)} No. {self.rng.randint(1, 99)}",
            domicile_rt=f"{self.rng.randint(1, 9):03d}",
            domicile_rw=f"{self.rng.randint(1, 6):03d}",
            purpose=purpose,
            host_institution=host,
            registration_reference=f"F115/{start:%Y}/{self.rng.randint(1, 99999):05d}",
            start_date=start,
            expected_end_date=start + datetime.timedelta(days=self.rng.randint(120, 364)),
        )


def _villages() -> list[tuple[int, str, str]]:
    villages = list(
        Desa.objects.values_list("pk", "kecamatan__code", "postal_code").order_by("code")
    )
    if not villages:
        raise RuntimeError("No villages loaded: run `manage.py load_areas` first.")
    return villages


def _generator(
    seed: object, villages: list[tuple[int, str, str]], outside_serial_offset: int = 0
) -> _Generator:
    faker = Faker("id_ID")
    faker.seed_instance(str(seed))
    streets = sorted({faker.street_name() for _ in range(600)})
    return _Generator(
        rng=random.Random(str(seed)),
        today=datetime.date.today(),
        villages=villages,
        streets=streets,
        outside_serial_offset=outside_serial_offset,
    )


def _chunks(gen: _Generator, residents: int, chunk: int, names: dict[str, str]) -> Iterator[list]:
    made = 0
    batch: list[tuple[Family, list[PermanentResident]]] = []
    while made < residents:
        family, members = gen.family(names)
        members = members[: residents - made]
        made += len(members)
        batch.append((family, members))
        if sum(len(m) for _f, m in batch) >= chunk:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(model: type[models.Model], objs: list, *, need_ids: bool = False) -> None:
    """Insert many rows; on PostgreSQL with COPY, several times faster than bulk_create."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=2000)
        return
    meta = model._meta
    with connection.cursor() as cursor:
        if need_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [meta.db_table, len(objs)],
            )
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
        fields = [f for f in meta.concrete_fields if not (f.primary_key and not need_ids)]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(meta.db_table)
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row(
                    [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
                )


@dataclass(frozen=True)
class _Shard:
    index: int
    seed: int
    villages: list[tuple[int, str, str]]
    residents: int
    chunk_size: int


def _shards(
    villages: list[tuple[int, str, str]], residents: int, seed: int, workers: int, chunk_size: int
) -> list[_Shard]:
    """Split by kecamatan, so NIK and KK serials (region + date) never collide across shards."""
    groups: list[list[tuple[int, str, str]]] = [[] for _ in range(workers)]
    kecamatan = sorted({code for _pk, code, _postal in villages})
    for village in villages:
        groups[kecamatan.index(village[1]) % workers].append(village)
    groups = [g for g in groups if g]
    quotas = [residents * len(g) // len(villages) for g in groups]
    quotas[0] += residents - sum(quotas)
    return [
        _Shard(index=i, seed=seed, villages=g, residents=q, chunk_size=chunk_size)
        for i, (g, q) in enumerate(zip(groups, quotas, strict=True))
    ]


def _seed_shard(shard: _Shard) -> tuple[int, int]:
    gen = _generator(f"{shard.seed}-{shard.index}", shard.villages, shard.index * 500)
    names = dict(Kecamatan.objects.values_list("code", "name"))
    families_made = residents_made = 0
    for batch in _chunks(gen, shard.residents, shard.chunk_size, names):
        with transaction.atomic():
            families = [f for f, _m in batch]
            _insert(Family, families, need_ids=True)
            people = []
            for family, (_f, members) in zip(families, batch, strict=True):
                for member in members:
                    member.family_id = family.pk
                    people.append(member)
            _insert(PermanentResident, people)
        families_made += len(families)
        residents_made += len(people)
    return families_made, residents_made


def demo_population_seed(
    *, residents: int, seed: int, chunk_size: int = 5000, workers: int | None = None
) -> SeedResult:
    """Generate `residents` permanent residents in families, plus a few hundred non-permanent
    residents. Does nothing if the registry already holds residents (safe to run twice).

    On PostgreSQL the work is split by kecamatan over one process per core; SQLite, which
    allows one writer, uses one. The output depends only on `seed` and the number of workers.
    """
    if PermanentResident.objects.exists():
        return SeedResult(skipped=True)
    villages = _villages()
    if workers is None:
        workers = (os.cpu_count() or 1) if connection.vendor == "postgresql" else 1
    if connection.in_atomic_block:
        workers = 1  # other processes could not see this transaction's uncommitted rows
    shards = _shards(villages, residents, seed, max(1, min(workers, 16)), chunk_size)
    if len(shards) == 1:
        counts = [_seed_shard(shards[0])]
    else:
        connections.close_all()  # children must open their own connections
        with multiprocessing.get_context("fork").Pool(len(shards)) as pool:
            counts = pool.map(_seed_shard, shards)
    result = SeedResult(families=sum(f for f, _r in counts), residents=sum(r for _f, r in counts))
    gen = _generator(f"{seed}-visitors", villages, outside_serial_offset=9000)
    hosted = max(20, residents // 2500)
    visitors = [
        gen.non_permanent(
            UNIVERSITY if i % 3 else COMPANY, StayPurpose.STUDY if i % 3 else StayPurpose.WORK
        )
        for i in range(hosted)
    ]
    _insert(NonPermanentResident, visitors)
    result.non_permanent = len(visitors)
    return result


def _demo_jurisdiction() -> tuple[Desa, Kecamatan]:
    """A village with residents, in kecamatan Purworejo when it has any."""
    inhabited = Desa.objects.filter(families__isnull=False).select_related("kecamatan")
    desa = (
        inhabited.filter(kecamatan__code="330606").order_by("code").first()
        or inhabited.order_by("code").first()
        or Desa.objects.select_related("kecamatan").order_by("code").first()
    )
    if desa is None:
        raise RuntimeError("No villages loaded: run `manage.py load_areas` first.")
    return desa, desa.kecamatan


@transaction.atomic
def demo_accounts_ensure(*, password: str = DEMO_PASSWORD) -> list[DemoAccount]:
    """One verified account per role; officers and admins get TOTP enrolled. Idempotent."""
    desa, kecamatan = _demo_jurisdiction()
    specs: list[tuple[str, Role, dict[str, Any]]] = [
        ("warga", Role.CITIZEN, {}),
        ("operator.desa", Role.OPERATOR_DESA, {"jurisdiction_desa": desa}),
        ("petugas.kecamatan", Role.OFFICER_KECAMATAN, {"jurisdiction_kecamatan": kecamatan}),
        ("verifikator", Role.VERIFIER, {}),
        ("kepala.dinas", Role.HEAD, {}),
        ("admin.institusi", Role.INSTITUTION_ADMIN, {}),
        ("analis", Role.ANALYST, {}),
        ("admin", Role.SYSTEM_ADMIN, {"is_staff": True, "is_superuser": True}),
    ]
    accounts = []
    for local, role, extra in specs:
        email = f"{local}@{DEMO_DOMAIN}"
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, password, role=role, full_name=f"Demo {role.label}", **extra
            )
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        has_totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        if policy.requires_mfa(user) and not has_totp:
            TOTP.activate(user, generate_totp_secret())
            has_totp = True
        jurisdiction = str(
            extra.get("jurisdiction_desa") or extra.get("jurisdiction_kecamatan") or ""
        )
        if role == Role.CITIZEN:
            jurisdiction = _demo_citizen_link(user, desa)
        accounts.append(
            DemoAccount(email=email, role=str(role.label), jurisdiction=jurisdiction, totp=has_totp)
        )
    return accounts


def _demo_citizen_link(user: User, desa: Desa) -> str:
    """Link the demo citizen to a family head in the demo operator's village, so cek data and
    submissions can be tried at once. Returns a label for the printed account list."""
    link = ResidentLink.objects.filter(user=user).select_related("permanent_resident").first()
    if link is None:
        head = (
            PermanentResident.objects.filter(
                family__desa=desa, family_relation=FamilyRelation.HEAD, account_link__isnull=True
            )
            .order_by("pk")
            .first()
        )
        if head is None:
            return ""
        link = ResidentLink.objects.create(user=user, permanent_resident=head)
    return str(link.resident.full_name)
