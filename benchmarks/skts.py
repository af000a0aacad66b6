"""`make bench ONLY=skts`: 1,000 SKTS letters rendered to PDF by one worker.

The benchmark has its own database (BENCH_SKTS_DATABASE_URL), recreated on every run: the
areas, a small registry (seed_demo, BENCH_SKTS_RESIDENTS permanent residents) and 1,000
synthetic non-permanent residents on a university's roster. In one `manage.py shell` process
it then, with the real services:

1. requests the 1,000 letters as the university's admin (`letter_requests_create_many`);
2. approves each at the desa and at Dukcapil (`submission_decide`), which issues the letter
   (number from the yearly sequence, token) in the approval's transaction. The render that the
   approval queues is held back here, so the issue figure is the approval alone;
3. renders the 1,000 PDFs one after the other in this one process (`skts.rendering.
   letter_render`, exactly what the `render_letter` task runs on a worker with concurrency 1):
   template, QR code, WeasyPrint, file written, SHA-256 stored.

`skts_ms_per_letter` and `skts_letters_per_min` are step 3 (the worker's work per letter);
`skts_issue_ms_per_letter` is step 2 per letter (both tiers' decisions included).
"""

import os
import subprocess
import time
from collections.abc import Iterator

from benchmarks import registry

DATABASE_URL = os.environ.get(
    "BENCH_SKTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/purworejo_bench_skts"
)
RESIDENTS = int(os.environ.get("BENCH_SKTS_RESIDENTS", "2000"))
LETTERS = int(os.environ.get("BENCH_SKTS_LETTERS", "1000"))
DOMAIN = "bench-skts.purworejo.test"


def _env() -> dict[str, str]:
    return {
        **registry._env(),
        "DATABASE_URL": DATABASE_URL,
        "MEDIA_ROOT": str(registry.ROOT / "var" / "bench" / "skts-media"),
    }


def _fresh_database() -> None:
    name = DATABASE_URL.rsplit("/", 1)[1]
    server = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", server, "-qc", sql], check=True, capture_output=True)
    registry._manage("migrate", "--noinput", env=_env())
    registry._manage("load_areas", env=_env())
    registry._manage(
        "seed_demo", "--residents", str(RESIDENTS), "--seed", "1", "--no-accounts", env=_env()
    )


def _setup() -> tuple[object, object, object, object, list[int]]:
    """The university, its admin, a desa operator, a verifier and the rostered residents."""
    import datetime

    from django.utils import timezone

    from citizens import services as registry_services
    from citizens.choices import (
        ChangeSource,
        Education,
        MaritalStatus,
        Occupation,
        Religion,
        Role,
        Sex,
        StayPurpose,
    )
    from citizens.models import Desa, User
    from citizens.nikgen import make_nik
    from stakeholders import services as stakeholder_services
    from stakeholders.choices import (
        AgreementKind,
        InstitutionKind,
        RowOutcome,
        UploadFormat,
        UploadStatus,
    )
    from stakeholders.models import ExchangeBatch, ExchangeRow, InstitutionMember

    today = timezone.localdate()
    desa = Desa.objects.filter(kecamatan__code="330606").order_by("code").first()
    head = User.objects.create_user(f"kepala@{DOMAIN}", None, role=Role.HEAD)
    verifier = User.objects.create_user(f"verifikator@{DOMAIN}", None, role=Role.VERIFIER)
    operator = User.objects.create_user(
        f"operator@{DOMAIN}", None, role=Role.OPERATOR_DESA, jurisdiction_desa=desa
    )
    admin = User.objects.create_user(f"admin@{DOMAIN}", None, role=Role.INSTITUTION_ADMIN)
    university = stakeholder_services.institution_create(
        name="Universitas Benchmark Purworejo", kind=InstitutionKind.UNIVERSITY, code="bench-u"
    )
    for kind in (AgreementKind.MOU, AgreementKind.PKS):
        stakeholder_services.agreement_record(
            institution=university,
            kind=kind,
            number=f"{kind}/bench/2026",
            purpose="SKTS",
            signed_on=today - datetime.timedelta(days=30),
            valid_from=today - datetime.timedelta(days=30),
            valid_until=today + datetime.timedelta(days=700),
        )
    InstitutionMember.objects.create(user=admin, institution=university, invited_by=head)
    batch = ExchangeBatch.objects.create(
        institution=university,
        format=UploadFormat.ROSTER,
        status=UploadStatus.APPLIED,
        submitted_by=admin,
    )
    ids = []
    for index in range(LETTERS):
        birth = datetime.date(2000, 1, 1) + datetime.timedelta(days=index % 1500)
        sex = Sex.MALE if index % 2 else Sex.FEMALE
        nik = make_nik(region="340401", birth_date=birth, sex=sex, serial=index // 1500 + 1)
        resident = registry_services.non_permanent_resident_create(
            nik=nik,
            data={
                "full_name": f"MAHASISWA BENCHMARK {index:04d}",
                "birth_place": "SLEMAN",
                "birth_date": birth,
                "sex": sex,
                "religion": Religion.ISLAM,
                "marital_status": MaritalStatus.SINGLE,
                "education": Education.SENIOR_SECONDARY,
                "occupation": Occupation.STUDENT,
                "origin_address": f"Jalan Asal {index}",
                "origin_region_code": "3404012001",
                "kk_number": "3404012001200007",
                "domicile_desa": desa,
                "domicile_address": f"Asrama Blok {index % 20}",
                "domicile_rt": "001",
                "domicile_rw": "002",
                "purpose": StayPurpose.STUDY,
                "host_institution": university.name,
                "registration_reference": f"F115/3306/2026/{index:06d}",
                "start_date": today - datetime.timedelta(days=20),
                "expected_end_date": today + datetime.timedelta(days=300),
            },
            source=ChangeSource.OFFICER,
        )
        ExchangeRow.objects.create(
            batch=batch,
            line=index + 2,
            nik_index=resident.nik_index,
            outcome=RowOutcome.REVIEW,
            applied=True,
        )
        ids.append(resident.pk)
    return university, admin, operator, verifier, ids


def skts_measure() -> None:
    """Run inside `manage.py shell` on the benchmark database; prints the BENCH lines."""
    from django.conf import settings

    from skts import rendering, services
    from skts.models import Letter
    from skts.tasks import render_letter
    from submissions.models import Submission
    from verification.choices import Outcome
    from verification.services import submission_decide

    settings.DEBUG = False  # no query log: a worker runs without it
    university, admin, operator, verifier, ids = _setup()
    result = services.letter_requests_create_many(
        actor=admin,  # type: ignore[arg-type]
        institution=university,  # type: ignore[arg-type]
        resident_ids=ids,
        host_name="KEPALA ASRAMA BENCHMARK",
        host_nik="3306064107800003",
    )
    assert len(result.created) == LETTERS, result.refused[:3]
    render_letter.delay_on_commit = lambda *args, **kwargs: None  # rendered in step 3
    started = time.perf_counter()
    for request in result.created:
        submission = submission_decide(
            submission=Submission.objects.get(pk=request.submission_id),
            officer=operator,  # type: ignore[arg-type]
            outcome=Outcome.APPROVE,
        )
        submission_decide(
            submission=submission,
            officer=verifier,  # type: ignore[arg-type]
            outcome=Outcome.APPROVE,
        )
    issue = time.perf_counter() - started
    letter_ids = list(Letter.objects.order_by("sequence").values_list("pk", flat=True))
    assert len(letter_ids) == LETTERS
    started = time.perf_counter()
    for letter_id in letter_ids:
        rendering.letter_render(letter_id=letter_id)
    render = time.perf_counter() - started
    assert Letter.objects.filter(sha256="").count() == 0
    print(f"BENCH skts_letters {LETTERS} letters")
    print(f"BENCH skts_ms_per_letter {render * 1000 / LETTERS:.1f} ms")
    print(f"BENCH skts_letters_per_min {LETTERS * 60 / render:.0f} letters/min")
    print(f"BENCH skts_issue_ms_per_letter {issue * 1000 / LETTERS:.1f} ms")


def bench_skts() -> Iterator[str]:
    _fresh_database()
    out = registry._manage(
        "shell", "-c", "from benchmarks import skts; skts.skts_measure()", env=_env()
    )
    yield from (line for line in out.splitlines() if line.startswith("BENCH "))


BENCHMARKS = {"skts": bench_skts}
