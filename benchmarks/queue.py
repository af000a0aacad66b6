"""`make bench ONLY=queue`: the officer review queue over 100,000 open submissions.

The benchmark has its own database (BENCH_QUEUE_DATABASE_URL), never the 770,000-resident one
of the other benchmarks: a registry of BENCH_QUEUE_RESIDENTS residents from seed_demo, kept
between runs like registry.population does. Each run empties the review tables and inserts
exactly 100,000 open submissions as the services would have written them (tracking codes,
subject keys, routes, tiers, items, timeline events, decisions of the earlier tiers, a few
claims), then measures the queue page in-process with the Django test client under the
production settings, for a village operator, a kecamatan officer and a Dukcapil verifier.
"""

import dataclasses
import datetime
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import registry

DATABASE_URL = os.environ.get(
    "BENCH_QUEUE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/purworejo_bench_queue"
)
RESIDENTS = int(os.environ.get("BENCH_QUEUE_RESIDENTS", "50000"))
OPEN_SUBMISSIONS = 100_000
REQUESTS = int(os.environ.get("BENCH_QUEUE_REQUESTS", "50"))
WARMUP = 5
LATE_PAGE = 40
DOMAIN = "bench-queue.purworejo.test"
# Not registry.ROOT: registry imports this module before it defines ROOT.
EXPLAIN_FILE = Path(__file__).resolve().parent.parent / "var" / "bench" / "queue-explain.txt"


def _env(**extra: str) -> dict[str, str]:
    """Development settings on the queue database: seed_demo and the seeding need DEBUG."""
    return {**registry._env(), "DATABASE_URL": DATABASE_URL, **extra}


def _psql(database_url: str, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["psql", database_url, "-tAc", sql], capture_output=True, text=True, check=False
    )


def _population() -> None:
    """A registry of exactly RESIDENTS residents in the queue database, kept between runs."""
    counted = _psql(DATABASE_URL, "SELECT count(*) FROM citizens_permanentresident")
    if counted.returncode == 0 and counted.stdout.strip() == str(RESIDENTS):
        registry._manage("migrate", "--noinput", env=_env())
        return
    name = DATABASE_URL.rsplit("/", 1)[1]
    server = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", server, "-qc", sql], check=True, capture_output=True)
    registry._manage("migrate", "--noinput", env=_env())
    registry._manage("load_areas", env=_env())
    registry._manage(
        "seed_demo", "--residents", str(RESIDENTS), "--seed", "1", "--no-accounts", env=_env()
    )


# Kinds of the open work, by share: corrections and moves dominate a civil registry's desk.
KIND_SHARES = {
    "biodata": 0.30,
    "address": 0.15,
    "birth": 0.12,
    "death": 0.08,
    "move_out": 0.08,
    "arrival": 0.10,
    "non_permanent": 0.07,
    "report": 0.10,
}
# Where items wait on their route (index of the current tier), for two- and three-tier routes.
POSITION_SHARES = {2: (0.55, 0.45), 3: (0.45, 0.30, 0.25)}
ASSISTED_KINDS = frozenset({"biodata", "birth", "death", "move_out", "arrival", "non_permanent"})
CLAIMED_SHARE = 0.04
BATCH = 5000


def _kind_counts(count: int) -> dict[str, int]:
    counts = {kind: int(count * share) for kind, share in KIND_SHARES.items()}
    counts["biodata"] += count - sum(counts.values())
    return counts


@dataclass(frozen=True)
class _Planned:
    """One open submission before it is given a tier, times and a tracking code."""

    kind: str
    desa_id: int
    subject_key: str
    items: list[tuple[str, str, str, str]]  # element, before, after, basis
    filed_by: int
    citizen: int | None
    channel: str
    subject_registry: str = ""
    subject_id: int | None = None
    family_id: int | None = None
    whole_family: bool = False
    description: str = ""


@dataclass
class _Accounts:
    family: dict[int, int] = field(default_factory=dict)  # family id -> its head's account
    newcomers: list[int] = field(default_factory=list)  # unlinked citizen accounts
    operators: dict[int, tuple[int, int]] = field(default_factory=dict)  # desa -> (a, b)
    kecamatan: dict[int, int] = field(default_factory=dict)  # kecamatan id -> officer
    verifiers: list[int] = field(default_factory=list)


def _accounts_ensure(newcomers: int) -> _Accounts:
    """Officers for every desa (two operators: one files assisted requests, the other
    decides), every kecamatan and Dukcapil, all with TOTP; one citizen account per family,
    linked to its head; and unlinked accounts of newcomers. Kept between runs."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth.hashers import make_password

    from citizens.choices import FamilyRelation, Role
    from citizens.models import Desa, Kecamatan, PermanentResident, ResidentLink, User

    unusable = make_password(None)
    wanted: dict[str, dict[str, object]] = {}
    for desa_id, code in Desa.objects.values_list("pk", "code"):
        for letter in "ab":
            wanted[f"operator.{code}.{letter}@{DOMAIN}"] = {
                "role": Role.OPERATOR_DESA,
                "jurisdiction_desa_id": desa_id,
            }
    for kecamatan_id, code in Kecamatan.objects.values_list("pk", "code"):
        wanted[f"kecamatan.{code}@{DOMAIN}"] = {
            "role": Role.OFFICER_KECAMATAN,
            "jurisdiction_kecamatan_id": kecamatan_id,
        }
    for i in range(5):
        wanted[f"verifier.{i}@{DOMAIN}"] = {"role": Role.VERIFIER}
    heads: dict[int, int] = {}
    for pk, family_id, relation in PermanentResident.objects.order_by("pk").values_list(
        "pk", "family_id", "family_relation"
    ):
        if family_id not in heads or relation == FamilyRelation.HEAD:
            heads[family_id] = pk
    for family_id in heads:
        wanted[f"family.{family_id}@{DOMAIN}"] = {"role": Role.CITIZEN}
    for i in range(newcomers):
        wanted[f"newcomer.{i}@{DOMAIN}"] = {"role": Role.CITIZEN}
    have = set(User.objects.filter(email__endswith=f"@{DOMAIN}").values_list("email", flat=True))
    User.objects.bulk_create(
        (
            User(email=email, password=unusable, full_name=email.split("@")[0], **values)
            for email, values in wanted.items()
            if email not in have
        ),
        batch_size=2000,
    )
    ids = dict(User.objects.filter(email__endswith=f"@{DOMAIN}").values_list("email", "pk"))
    officers = User.objects.filter(
        email__endswith=f"@{DOMAIN}",
        role__in=[Role.OPERATOR_DESA, Role.OFFICER_KECAMATAN, Role.VERIFIER],
    ).exclude(authenticator__type=Authenticator.Type.TOTP)
    for officer in officers:
        TOTP.activate(officer, generate_totp_secret())
    linked = set(
        ResidentLink.objects.filter(user_id__in=ids.values()).values_list("user_id", flat=True)
    )
    ResidentLink.objects.bulk_create(
        (
            ResidentLink(user_id=ids[f"family.{family_id}@{DOMAIN}"], permanent_resident_id=head)
            for family_id, head in heads.items()
            if ids[f"family.{family_id}@{DOMAIN}"] not in linked
        ),
        batch_size=2000,
    )
    accounts = _Accounts(verifiers=[ids[f"verifier.{i}@{DOMAIN}"] for i in range(5)])
    for desa_id, code in Desa.objects.values_list("pk", "code"):
        accounts.operators[desa_id] = (
            ids[f"operator.{code}.a@{DOMAIN}"],
            ids[f"operator.{code}.b@{DOMAIN}"],
        )
    for kecamatan_id, code in Kecamatan.objects.values_list("pk", "code"):
        accounts.kecamatan[kecamatan_id] = ids[f"kecamatan.{code}@{DOMAIN}"]
    accounts.family = {family_id: ids[f"family.{family_id}@{DOMAIN}"] for family_id in heads}
    accounts.newcomers = [ids[f"newcomer.{i}@{DOMAIN}"] for i in range(newcomers)]
    return accounts


_BIODATA_BASIS = {
    "occupation": "Surat keterangan kerja",
    "education": "Ijazah",
    "marital_status": "Akta perkawinan",
    "birth_place": "Akta kelahiran",
}
_PLACES = ("PURWOREJO", "KUTOARJO", "KEBUMEN", "MAGELANG", "WONOSOBO", "YOGYAKARTA")
_STREETS = ("Jalan Mawar", "Jalan Melati", "Jalan Diponegoro", "Jalan Kartini", "Gang Kenanga")


def _plans(rng: random.Random, counts: dict[str, int], accounts: _Accounts) -> Iterator[_Planned]:
    """The open submissions in random order of kind, each as the kind's proposal would be:
    one item per element that really changes, subject keys and routing desa as in
    submissions.kinds. Subjects are drawn without replacement, so one open per kind and
    person holds."""
    from faker.providers.person.id_ID import Provider as Names

    from citizens import crypto
    from citizens.choices import (
        Education,
        FamilyRelation,
        LifeStatus,
        MaritalStatus,
        Occupation,
        Registry,
        Religion,
        Sex,
        StayPurpose,
    )
    from citizens.demo import OUTSIDE_REGIONS, UNIVERSITY
    from citizens.models import Desa, Family, PermanentResident
    from citizens.nikgen import make_nik

    today = datetime.date.today()
    villages = list(Desa.objects.values_list("pk", flat=True))
    families = {
        pk: (desa, rt, rw, kk, address)
        for pk, desa, rt, rw, kk, address in Family.objects.values_list(
            "pk", "desa_id", "rt", "rw", "kk_number", "address"
        )
    }
    alive = list(
        PermanentResident.objects.filter(life_status=LifeStatus.ALIVE)
        .order_by("pk")
        .values_list(
            "pk",
            "nik_index",
            "family_id",
            "family_relation",
            "birth_place",
            "religion",
            "education",
            "occupation",
            "marital_status",
        )
    )
    head_religion = {r[2]: r[5] for r in alive if r[3] == FamilyRelation.HEAD}
    niks: set[str] = set()

    def name(sex: int) -> str:
        if sex == Sex.MALE:
            return f"{rng.choice(Names.first_names_male)} {rng.choice(Names.last_names_male)}"
        return f"{rng.choice(Names.first_names_female)} {rng.choice(Names.last_names_female)}"

    def other(values: list[int], current: int) -> int:
        return rng.choice([value for value in values if value != current])

    def biodata() -> Iterator[_Planned]:
        for pk, key, family, _rel, place, _religion, education, occupation, marital in rng.sample(
            alive, counts["biodata"]
        ):
            current = {
                "occupation": str(occupation),
                "education": str(education),
                "marital_status": str(marital),
                "birth_place": place,
            }
            proposed = {
                "occupation": str(other(Occupation.values, occupation)),
                "education": str(other(Education.values, education)),
                "marital_status": str(other(MaritalStatus.values, marital)),
                "birth_place": rng.choice([p for p in _PLACES if p != place]),
            }
            elements = rng.sample(list(current), 1 if rng.random() < 0.7 else 2)
            yield _Planned(
                kind="biodata",
                desa_id=families[family][0],
                subject_key=key,
                items=[(e, current[e], proposed[e], _BIODATA_BASIS[e]) for e in elements],
                filed_by=accounts.family[family],
                citizen=accounts.family[family],
                channel="citizen",
                subject_registry=Registry.PERMANENT,
                subject_id=pk,
                family_id=family,
            )

    def address() -> Iterator[_Planned]:
        for pk, key, family, relation, *_rest in rng.sample(alive, counts["address"]):
            desa, rt, rw, _kk, street = families[family]
            # A move of the whole family is keyed by its head, so only heads move families.
            whole = relation == FamilyRelation.HEAD and rng.random() < 0.5
            goes_to = desa if rng.random() < 0.4 else rng.choice(villages)
            new_rt, new_rw = f"{rng.randint(1, 15):03d}", f"{rng.randint(1, 8):03d}"
            new_street = f"{rng.choice(_STREETS)} No. {rng.randint(1, 120)}"
            items = [
                (element, before, after, "Surat pengantar RT")
                for element, before, after in (
                    ("desa", str(desa), str(goes_to)),
                    ("rt", rt, new_rt),
                    ("rw", rw, new_rw),
                    ("address", street, new_street),
                )
                if before != after
            ]
            yield _Planned(
                kind="address",
                desa_id=goes_to,
                subject_key=key,
                items=items,
                filed_by=accounts.family[family],
                citizen=accounts.family[family],
                channel="citizen",
                subject_registry=Registry.PERMANENT,
                subject_id=pk,
                family_id=family,
                whole_family=whole,
            )

    def birth() -> Iterator[_Planned]:
        keys: set[str] = set()
        family_ids = list(families)
        while len(keys) < counts["birth"]:
            family = rng.choice(family_ids)
            desa, _rt, _rw, kk, _street = families[family]
            sex = rng.choice([Sex.MALE, Sex.FEMALE])
            child = name(sex).upper()
            key = crypto.blind_index(f"{kk}:{child}", purpose="birth")
            if key in keys:
                continue
            keys.add(key)
            born = today - datetime.timedelta(days=rng.randint(1, 60))
            values = {
                "full_name": child,
                "sex": str(sex),
                "birth_place": "PURWOREJO",
                "birth_date": born.isoformat(),
                "religion": str(head_religion.get(family, Religion.ISLAM)),
                "father_name": name(Sex.MALE).upper(),
                "mother_name": name(Sex.FEMALE).upper(),
            }
            yield _Planned(
                kind="birth",
                desa_id=desa,
                subject_key=key,
                items=[(e, "", v, "Surat keterangan lahir") for e, v in values.items()],
                filed_by=accounts.family[family],
                citizen=accounts.family[family],
                channel="citizen",
                subject_registry=Registry.FAMILY,
                subject_id=family,
                family_id=family,
            )

    def closing(kind: str, pool: list[tuple[Any, ...]]) -> Iterator[_Planned]:
        for pk, key, family, *_rest in rng.sample(pool, counts[kind]):
            when = (today - datetime.timedelta(days=rng.randint(1, 45))).isoformat()
            if kind == "death":
                basis = "Surat keterangan kematian dari desa"
                values = {"life_status": LifeStatus.DEAD, "death_date": when}
                values["death_place"] = rng.choice(_PLACES)
            else:
                basis = "Surat pengantar pindah"
                region = rng.choice(OUTSIDE_REGIONS)
                values = {
                    "life_status": LifeStatus.MOVED_AWAY,
                    "destination_address": f"{rng.choice(_STREETS)} No. {rng.randint(1, 99)}",
                    "destination_region_code": f"{region}2001",
                    "move_date": when,
                }
            yield _Planned(
                kind=kind,
                desa_id=families[family][0],
                subject_key=key,
                items=[
                    (e, LifeStatus.ALIVE if e == "life_status" else "", str(v), basis)
                    for e, v in values.items()
                ],
                filed_by=accounts.family[family],
                citizen=accounts.family[family],
                channel="citizen",
                subject_registry=Registry.PERMANENT,
                subject_id=pk,
                family_id=family,
            )

    def person() -> dict[str, str]:
        sex = rng.choice([Sex.MALE, Sex.FEMALE])
        born = today - datetime.timedelta(days=rng.randint(18 * 365, 50 * 365))
        region = rng.choice(OUTSIDE_REGIONS)
        while True:
            nik = make_nik(region=region, birth_date=born, sex=sex, serial=rng.randint(1, 9999))
            if nik not in niks:
                niks.add(nik)
                break
        return {
            "nik": nik,
            "full_name": name(sex).upper(),
            "birth_place": "YOGYAKARTA",
            "birth_date": born.isoformat(),
            "sex": str(sex),
            "religion": str(Religion.ISLAM),
            "marital_status": str(MaritalStatus.SINGLE),
            "education": str(Education.SENIOR_SECONDARY),
            "occupation": str(Occupation.PRIVATE_EMPLOYEE),
            "father_name": name(Sex.MALE).upper(),
            "mother_name": name(Sex.FEMALE).upper(),
        }

    newcomers = iter(accounts.newcomers)

    def newcomer(kind: str) -> Iterator[_Planned]:
        for _i in range(counts[kind]):
            values = person()
            desa = rng.choice(villages)
            place = {"rt": f"{rng.randint(1, 12):03d}", "rw": f"{rng.randint(1, 6):03d}"}
            street = f"{rng.choice(_STREETS)} No. {rng.randint(1, 120)}"
            if kind == "arrival":
                basis = "Surat keterangan pindah (SKPWNI)"
                values.update(desa=str(desa), address=street, **place)
            else:
                basis = "Surat keterangan dari kampus"
                start = today - datetime.timedelta(days=rng.randint(1, 30))
                values.update(
                    origin_address=f"{rng.choice(_STREETS)} No. {rng.randint(1, 99)}",
                    origin_region_code=f"{values['nik'][:6]}2001",
                    purpose=StayPurpose.STUDY,
                    host_institution=UNIVERSITY,
                    domicile_desa=str(desa),
                    domicile_rt=place["rt"],
                    domicile_rw=place["rw"],
                    domicile_address=street,
                    start_date=start.isoformat(),
                    expected_end_date=(start + datetime.timedelta(days=300)).isoformat(),
                )
            account = next(newcomers)
            yield _Planned(
                kind=kind,
                desa_id=desa,
                subject_key=crypto.nik_index(values["nik"]),
                items=[(e, "", v, basis) for e, v in values.items()],
                filed_by=account,
                citizen=account,
                channel="citizen",
            )

    def report() -> Iterator[_Planned]:
        targets = rng.sample(alive, counts["report"])
        plain = dict(
            PermanentResident.objects.filter(pk__in=[t[0] for t in targets]).values_list(
                "pk", "nik"
            )
        )
        reporters = list(accounts.family.items())
        for pk, _key, family, *_rest in targets:
            reporter_family, reporter = rng.choice(reporters)
            while reporter_family == family:
                reporter_family, reporter = rng.choice(reporters)
            yield _Planned(
                kind="report",
                desa_id=families[family][0],
                subject_key=crypto.blind_index(f"{reporter}:{plain[pk]}", purpose="report"),
                items=[("nik", "", plain[pk], "")],
                filed_by=reporter,
                citizen=reporter,
                channel="citizen",
                subject_registry=Registry.PERMANENT,
                subject_id=pk,
                family_id=family,
                description="Warga ini sudah lama tidak tinggal di alamatnya.",
            )

    not_heads = [r for r in alive if r[3] != FamilyRelation.HEAD]
    streams = {
        "biodata": biodata(),
        "address": address(),
        "birth": birth(),
        "death": closing("death", not_heads),
        "move_out": closing("move_out", alive),
        "arrival": newcomer("arrival"),
        "non_permanent": newcomer("non_permanent"),
        "report": report(),
    }
    order = [kind for kind, n in counts.items() for _i in range(n)]
    rng.shuffle(order)
    for kind in order:
        plan = next(streams[kind])
        if kind in ASSISTED_KINDS and rng.random() < 0.1:
            # Filed at the village office by the desa's second operator, with consent.
            plan = dataclasses.replace(
                plan,
                channel="assisted",
                filed_by=accounts.operators[plan.desa_id][1],
                citizen=plan.citizen if plan.family_id else None,
            )
        yield plan


def _age(rng: random.Random) -> datetime.timedelta:
    """How long an item has waited at its tier: mostly days, a long tail up to 30 days."""
    days = rng.expovariate(1 / 2.5) if rng.random() < 0.65 else rng.uniform(0, 30)
    return datetime.timedelta(days=min(days, 30))


def _write(
    plans: list[_Planned],
    *,
    rng: random.Random,
    now: datetime.datetime,
    accounts: _Accounts,
    kecamatan_of: dict[int, int],
    codes: set[str],
) -> tuple[int, int]:
    """Insert one batch as the services would have left it: submitted at the first tier of
    its route, or approved up to a later tier (version, events, decisions and audit entries
    of each approval), and waiting there since tier_entered_at. Returns (submissions, claims)."""
    from django.conf import settings

    from citizens.choices import AuditAction
    from citizens.demo import _insert as copy_rows
    from citizens.models import AuditEntry
    from submissions import routing
    from submissions.choices import Status, Tier
    from submissions.models import Submission, SubmissionEvent, SubmissionItem
    from submissions.services import tracking_code_new
    from verification.choices import Outcome
    from verification.models import Claim, Decision

    def officer_at(tier: str, desa: int) -> int:
        if tier == Tier.DESA:
            return accounts.operators[desa][0]
        if tier == Tier.KECAMATAN:
            return accounts.kecamatan[kecamatan_of[desa]]
        return rng.choice(accounts.verifiers)

    routes = {kind: [str(tier) for tier in routing.route_for(kind)] for kind in KIND_SHARES}
    submissions, approvals = [], []
    for plan in plans:
        route = routes[plan.kind]
        position = rng.choices(range(len(route)), POSITION_SHARES[len(route)])[0]
        entered = now - _age(rng)
        submitted = entered - datetime.timedelta(hours=rng.uniform(4, 240) if position else 0)
        created = submitted - datetime.timedelta(minutes=rng.uniform(5, 3 * 24 * 60))
        code = tracking_code_new()
        while code in codes:
            code = tracking_code_new()
        codes.add(code)
        submissions.append(
            Submission(
                tracking_code=code,
                kind=plan.kind,
                status=Status.IN_REVIEW if position else Status.SUBMITTED,
                current_tier=route[position],
                channel=plan.channel,
                filed_by_id=plan.filed_by,
                citizen_id=plan.citizen,
                consent_given=plan.channel == "assisted",
                subject_registry=plan.subject_registry,
                subject_id=plan.subject_id,
                subject_key=plan.subject_key,
                family_id=plan.family_id,
                desa_id=plan.desa_id,
                whole_family=plan.whole_family,
                description=plan.description,
                route=route,
                tier_entered_at=entered,
                version=2 + position,
                created_at=created,
                submitted_at=submitted,
                updated_at=entered,
            )
        )
        span = (entered - submitted).total_seconds()
        moments = sorted(rng.uniform(0, span) for _i in range(position - 1))
        approvals.append(
            [submitted + datetime.timedelta(seconds=s) for s in moments] + [entered][:position]
        )
    copy_rows(Submission, submissions, need_ids=True)
    items, events, decisions, audits, claims = [], [], [], [], []
    for submission, plan, approved in zip(submissions, plans, approvals, strict=True):
        items += [
            SubmissionItem(
                submission_id=submission.pk,
                field=element,
                value_before=before,
                value_after=after,
                basis=basis,
            )
            for element, before, after, basis in plan.items
        ]
        events += [
            SubmissionEvent(
                submission_id=submission.pk,
                to_status=Status.DRAFT,
                actor_id=plan.filed_by,
                created_at=submission.created_at,
            ),
            SubmissionEvent(
                submission_id=submission.pk,
                from_status=Status.DRAFT,
                to_status=Status.SUBMITTED,
                tier=submission.route[0],
                actor_id=plan.filed_by,
                created_at=submission.submitted_at,
            ),
        ]
        arrived = submission.submitted_at
        for index, decided in enumerate(approved):
            tier = submission.route[index]
            officer = officer_at(tier, plan.desa_id)
            note = "Dokumen sesuai."
            events.append(
                SubmissionEvent(
                    submission_id=submission.pk,
                    from_status=Status.IN_REVIEW if index else Status.SUBMITTED,
                    to_status=Status.IN_REVIEW,
                    tier=tier,
                    actor_id=officer,
                    note=note,
                    created_at=decided,
                )
            )
            decisions.append(
                Decision(
                    submission_id=submission.pk,
                    version_seen=2 + index,
                    tier=tier,
                    officer_id=officer,
                    outcome=Outcome.APPROVE,
                    note=note,
                    arrived_at=arrived,
                    decided_at=decided,
                )
            )
            audits.append(
                AuditEntry(
                    actor_id=officer,
                    action=AuditAction.APPROVE,
                    registry=submission.subject_registry,
                    record_id=submission.subject_id,
                    nik_index=submission.subject_key
                    if plan.kind not in ("birth", "report")
                    else "",
                    reference=submission.tracking_code,
                    tier=tier,
                    created_at=decided,
                )
            )
            arrived = decided
        if rng.random() < CLAIMED_SHARE:
            # Claimed within the last hour: about half of the claims have expired.
            claimed = now - datetime.timedelta(minutes=rng.uniform(0, 60))
            claims.append(
                Claim(
                    submission_id=submission.pk,
                    officer_id=officer_at(submission.current_tier, plan.desa_id),
                    tier=submission.current_tier,
                    claimed_at=claimed,
                    expires_at=claimed + datetime.timedelta(minutes=settings.REVIEW_CLAIM_MINUTES),
                )
            )
    for model, rows in (
        (SubmissionItem, items),
        (SubmissionEvent, events),
        (Decision, decisions),
        (AuditEntry, audits),
        (Claim, claims),
    ):
        copy_rows(model, rows)
    return len(submissions), len(claims)


def submissions_seed(*, count: int, seed: int) -> None:
    """Run inside `manage.py shell` on the queue database (development settings): empty the
    review tables and insert exactly `count` open submissions; print BENCH lines."""
    from django.db import connection, transaction
    from django.utils import timezone

    from citizens.models import Desa
    from submissions.models import Submission

    started = time.perf_counter()
    rng = random.Random(seed)
    counts = _kind_counts(count)
    accounts = _accounts_ensure(counts["arrival"] + counts["non_permanent"])
    kecamatan_of = dict(Desa.objects.values_list("pk", "kecamatan_id"))
    now = timezone.now()
    codes: set[str] = set()
    made = claimed = 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            # TRUNCATE, not DELETE: the audit and decision tables refuse row deletes.
            cursor.execute(
                "TRUNCATE submissions_submission, citizens_auditentry RESTART IDENTITY CASCADE"
            )
        batch: list[_Planned] = []
        for plan in _plans(rng, counts, accounts):
            batch.append(plan)
            if len(batch) == BATCH:
                done = _write(
                    batch,
                    rng=rng,
                    now=now,
                    accounts=accounts,
                    kecamatan_of=kecamatan_of,
                    codes=codes,
                )
                made, claimed, batch = made + done[0], claimed + done[1], []
        if batch:
            done = _write(
                batch, rng=rng, now=now, accounts=accounts, kecamatan_of=kecamatan_of, codes=codes
            )
            made, claimed = made + done[0], claimed + done[1]
    with connection.cursor() as cursor:
        # What autovacuum would have done by the time officers open their queues: statistics
        # for the planner, and a visibility map for index-only scans.
        cursor.execute("VACUUM ANALYZE")
    elapsed = time.perf_counter() - started
    open_count = Submission.objects.filter(status__in=["submitted", "in_review"]).count()
    print(f"BENCH queue_open_submissions {open_count} submissions")
    print(f"BENCH queue_seed_seconds {elapsed:.1f} s")
    print(f"seeded {made} submissions, {claimed} claims", file=sys.stderr)


def _measured_officers() -> list[tuple[str, Any]]:
    """The village operator and the kecamatan officer with the most items at their tier, and
    a Dukcapil verifier (regency-wide: the largest queue)."""
    from django.db.models import Count

    from citizens.models import User
    from submissions.models import Submission

    waiting = Submission.objects.filter(status__in=["submitted", "in_review"]).order_by()
    desa = (
        waiting.filter(current_tier="desa")
        .values("desa__code")
        .annotate(n=Count("pk"))
        .order_by("-n", "desa__code")[0]["desa__code"]
    )
    kecamatan = (
        waiting.filter(current_tier="kecamatan")
        .values("desa__kecamatan__code")
        .annotate(n=Count("pk"))
        .order_by("-n", "desa__kecamatan__code")[0]["desa__kecamatan__code"]
    )
    return [
        ("operator", User.objects.get(email=f"operator.{desa}.a@{DOMAIN}")),
        ("kecamatan", User.objects.get(email=f"kecamatan.{kecamatan}@{DOMAIN}")),
        ("verifier", User.objects.get(email=f"verifier.0@{DOMAIN}")),
    ]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _explain(queries: list[dict[str, str]]) -> tuple[float, list[str]]:
    """EXPLAIN ANALYZE each SELECT of one page: the total execution time in ms, and the plans."""
    from django.db import connection

    total, plans = 0.0, []
    with connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = [row[0] for row in cursor.fetchall()]
            total += float(plan[-1].split(":")[1].split()[0])  # "Execution Time: 1.234 ms"
            plans.append(f"-- {query['time']} s in Django\n{sql}\n" + "\n".join(plan) + "\n")
    return total, plans


def queue_measure(*, requests: int, warmup: int, late_page: int, explain: str) -> None:
    """Run inside `manage.py shell` with production settings: time the queue page as each
    officer sees it (plain, filtered by kind, a late page), after a warm-up; count its
    queries; EXPLAIN ANALYZE the verifier's page into the file `explain`. Prints BENCH lines."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from verification import selectors

    url = reverse("verification:queue")
    variants = {"plain": {}, "kind": {"kind": "address"}, "late": {"page": str(late_page)}}
    most_queries, sql_ms, plans = 0, 0.0, []
    for label, officer in _measured_officers():
        client = Client()
        client.force_login(officer)
        timings = []
        for params in variants.values():
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url, params)
            # A page of the queue links each row to its review page; a login page does not.
            if response.status_code != 200 or b"/verifikasi/PRJ-" not in response.content:
                raise SystemExit(f"the queue did not answer {label} with a page of items")
            most_queries = max(most_queries, len(captured.captured_queries))
            for _i in range(warmup):
                client.get(url, params)
            for _i in range(requests):
                started = time.perf_counter()
                client.get(url, params)
                timings.append((time.perf_counter() - started) * 1000)
        size = selectors.queue_for_officer(officer).count()
        print(f"BENCH queue_{label}_items {size} items")
        print(f"BENCH queue_{label}_p50_ms {_percentile(timings, 0.50):.1f} ms")
        print(f"BENCH queue_{label}_p95_ms {_percentile(timings, 0.95):.1f} ms")
        if label == "verifier":
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            sql_ms, plans = _explain(captured.captured_queries)
    print(f"BENCH queue_queries {most_queries} queries")
    print(f"BENCH queue_verifier_sql_ms {sql_ms:.1f} ms")
    Path(explain).parent.mkdir(parents=True, exist_ok=True)
    Path(explain).write_text("\n".join(plans))


def _run(env: dict[str, str], call: str) -> list[str]:
    # Imported through the registry, which imports this module: the other way round is circular.
    code = f"from benchmarks.registry import queue; queue.{call}"
    out = registry._manage("shell", "-c", code, env=env)
    return [line for line in out.splitlines() if line.startswith("BENCH ")]


def bench_queue() -> Iterator[str]:
    _population()
    yield from _run(_env(), f"submissions_seed(count={OPEN_SUBMISSIONS}, seed=1)")
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        env = registry.production_env(
            secret_key=secrets.token_urlsafe(50),
            static_root=Path(tmp) / "static",
            database_url=DATABASE_URL,
        )
        registry._manage("collectstatic", "--noinput", env=env)
        yield from _run(
            env,
            f"queue_measure(requests={REQUESTS}, warmup={WARMUP}, late_page={LATE_PAGE}, "
            f"explain={str(EXPLAIN_FILE)!r})",
        )
    print(f"EXPLAIN ANALYZE of the verifier's queue page: {EXPLAIN_FILE}", file=sys.stderr)
