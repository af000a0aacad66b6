"""`make bench ONLY=import`: an education office's 100,000-row field-update file applied to the
770,000-resident registry, beside the same update done by PostgreSQL alone.

Each run picks 100,000 living residents at random and gives each a new education level and
school enrolment (different from the current ones, so every row really changes), writes the
file as the office would (nik, nama_lengkap, tanggal_lahir, pendidikan, sekolah) and then
times, in one process on the benchmark database:

- preview: receiving the file and validating every row (`batch_receive_file`, whose validation
  task runs in-process), as the worker would;
- apply: `batch_apply` of the confirmed batch, as the worker would (registry rows, one history
  row per changed field, row outcomes, progress);
- baseline: the same new values for the same residents by a single `COPY` into a staging table
  plus one `INSERT ... ON CONFLICT (id) DO UPDATE` (no history, no checks).

The preview and apply figures include everything the worker does; the baseline is the floor
PostgreSQL sets for moving those values into the table.
"""

import datetime
import io
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

from benchmarks import registry
from citizens.spreadsheet import data_csv_writer

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
RESIDENTS = 770_000
# The worker: one process per core of this machine, each applying chunks of the same batch.
WORKERS = int(os.environ.get("BENCH_IMPORT_WORKERS", "2"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
CODE = "bench-disdik"
DOMAIN = "bench-import.purworejo.test"


def _institution_ensure() -> tuple[object, object]:
    """The benchmark's education office (agreements in force) and its admin; kept."""
    from django.utils import timezone

    from citizens.choices import Role
    from citizens.models import User
    from stakeholders import policy, selectors, services
    from stakeholders.choices import AgreementKind, InstitutionKind, ReadScope
    from stakeholders.models import Institution, InstitutionMember
    from stakeholders.policy import Scope

    today = timezone.localdate()
    institution = Institution.objects.filter(code=CODE).first()
    if institution is None:
        institution = services.institution_create(
            name="Dinas Pendidikan (benchmark)",
            kind=InstitutionKind.EDUCATION_OFFICE,
            code=CODE,
            contact_email=f"disdik@{DOMAIN}",
        )
    # The file updates adults too: the PKS names every resident (a field update reaches only
    # the residents the institution may read, stakeholders.policy).
    everyone = Scope(ReadScope.REGENCY, clause="Benchmark: seluruh penduduk")
    for kind in (AgreementKind.MOU, AgreementKind.PKS):
        if not institution.agreements.filter(kind=kind, valid_until__gt=today).exists():
            services.agreement_record(
                institution=institution,
                kind=kind,
                number=f"{kind.upper()}/BENCH/{today.isoformat()}",
                purpose="Benchmark",
                signed_on=today - datetime.timedelta(days=10),
                valid_from=today - datetime.timedelta(days=10),
                valid_until=today + datetime.timedelta(days=3650),
                scope=everyone if kind == AgreementKind.PKS else None,
            )
    head, _ = User.objects.get_or_create(email=f"head@{DOMAIN}", defaults={"role": Role.HEAD})
    if not policy.covers_everyone(selectors.read_scopes(institution)):
        # A benchmark database kept from before purpose limitation: its PKS named nobody.
        services.agreement_scope_set(
            agreement=institution.agreements.filter(kind=AgreementKind.PKS)
            .order_by("-valid_until")
            .first(),
            scope=everyone,
            actor=head,
        )
    admin, _ = User.objects.get_or_create(
        email=f"admin@{DOMAIN}",
        defaults={"role": Role.INSTITUTION_ADMIN},
    )
    InstitutionMember.objects.get_or_create(
        user=admin, defaults={"institution": institution, "invited_by": head}
    )
    return institution, admin


def _file(rng: random.Random) -> tuple[bytes, list[tuple[str, int, str]]]:
    """The upload and, per row, (NIK index, new education, new school enrolment)."""
    from citizens.choices import Education, LifeStatus
    from citizens.models import PermanentResident

    ids = list(
        PermanentResident.objects.filter(life_status=LifeStatus.ALIVE).values_list("id", flat=True)
    )
    chosen = rng.sample(ids, ROWS)
    stamp = datetime.datetime.now().strftime("%Y%m%d%H%M%S")
    out = io.StringIO()
    writer = data_csv_writer(out)
    writer.writerow(["nik", "nama_lengkap", "tanggal_lahir", "pendidikan", "sekolah"])
    wanted: list[tuple[str, int, str]] = []
    levels = list(Education.values)
    for start in range(0, len(chosen), 5000):
        for resident in PermanentResident.objects.filter(pk__in=chosen[start : start + 5000]).only(
            "nik", "nik_index", "full_name", "birth_date", "education"
        ):
            education = rng.choice([level for level in levels if level != resident.education])
            school = f"SEKOLAH UJI {rng.randrange(1, 400)} ({stamp})"
            writer.writerow(
                [
                    resident.nik,
                    resident.full_name,
                    resident.birth_date.strftime("%d-%m-%Y"),
                    education,
                    school,
                ]
            )
            wanted.append((resident.nik_index, education, school))
    return out.getvalue().encode(), wanted


def _copy_baseline(wanted: list[tuple[str, int, str]]) -> float:
    """Seconds for COPY into a staging table plus one INSERT ... ON CONFLICT DO UPDATE."""
    from django.db import connection, transaction

    from citizens.models import PermanentResident

    table = PermanentResident._meta.db_table
    columns = [field.column for field in PermanentResident._meta.concrete_fields]
    chosen = {
        "education": "s.education",
        "school_enrolment": "s.school_enrolment",
        "updated_at": "now()",
        "version": "r.version + 1",
    }
    selected = ", ".join(chosen.get(column, f"r.{column}") for column in columns)
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in chosen)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE import_staging "
            "(nik_index varchar(64), education smallint, school_enrolment varchar(120)) "
            "ON COMMIT DROP"
        )
        started = time.perf_counter()
        with cursor.cursor.copy(
            "COPY import_staging (nik_index, education, school_enrolment) FROM STDIN"
        ) as copy:
            for row in wanted:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"SELECT {selected} FROM import_staging s JOIN {table} r ON r.nik_index = s.nik_index "
            f"ON CONFLICT (id) DO UPDATE SET {updates}"
        )
        assert cursor.rowcount == len(wanted), cursor.rowcount
        elapsed = time.perf_counter() - started
    return elapsed


def _poll(batch_id: int, *statuses: str) -> None:
    from stakeholders.models import ExchangeBatch

    while (status := ExchangeBatch.objects.get(pk=batch_id).status) not in statuses:
        time.sleep(0.05)
    assert status == statuses[0], status


def _check(batch_id: int, wanted: list[tuple[str, int, str]]) -> None:
    """Every row written once, with its two history rows; a sample of values read back."""
    from citizens.choices import ChangeSource
    from citizens.models import PermanentResident, RecordChange
    from stakeholders.models import ExchangeBatch

    batch = ExchangeBatch.objects.get(pk=batch_id)
    assert batch.rows_done == batch.rows_total == ROWS, (batch.rows_done, batch.rows_total)
    history = RecordChange.objects.filter(
        source=ChangeSource.IMPORT_ROW, source_ref__startswith=f"b{batch_id}:"
    ).count()
    assert history == 2 * ROWS, history
    sample = wanted[:1000]
    current = dict(
        PermanentResident.objects.filter(nik_index__in=[row[0] for row in sample]).values_list(
            "nik_index", "education"
        )
    )
    assert all(current[index] == education for index, education, _ in sample)


def import_measure(*, seed: int, workers: int) -> None:
    """Run inside `manage.py shell` on the benchmark database, with a Celery worker of
    `workers` processes consuming the same broker; prints the BENCH lines."""
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from stakeholders import importing
    from stakeholders.choices import UploadFormat, UploadStatus
    from stakeholders.models import ExchangeBatch

    settings.DEBUG = False  # no query log: the worker runs without it
    assert not settings.CELERY_TASK_ALWAYS_EAGER, "the benchmark needs the real worker"
    institution, admin = _institution_ensure()
    rng = random.Random(seed)

    # One file through the worker, as an institution admin would: upload, preview, confirm.
    content, wanted = _file(rng)
    started = time.perf_counter()
    batch = importing.batch_receive_file(
        institution=institution,
        user=admin,
        upload=SimpleUploadedFile("pendidikan.csv", content, content_type="text/csv"),
        format=UploadFormat.FIELD_UPDATE,
    )
    _poll(batch.pk, UploadStatus.PREVIEWED, UploadStatus.REFUSED)
    preview = time.perf_counter() - started
    batch.refresh_from_db()
    assert batch.counts["changed"] + batch.counts["new"] == ROWS, batch.counts
    started = time.perf_counter()
    importing.batch_confirm(batch=batch, user=admin)
    _poll(batch.pk, UploadStatus.APPLIED, UploadStatus.REFUSED)
    apply = time.perf_counter() - started
    _check(batch.pk, wanted)

    # Another file applied by this one process alone (what each applier manages).
    content, second = _file(rng)
    other = importing.batch_receive_file(
        institution=institution,
        user=admin,
        upload=SimpleUploadedFile("pendidikan-2.csv", content, content_type="text/csv"),
        format=UploadFormat.FIELD_UPDATE,
    )
    _poll(other.pk, UploadStatus.PREVIEWED, UploadStatus.REFUSED)
    ExchangeBatch.objects.filter(pk=other.pk).update(
        confirmed_by=admin, confirmed_at=timezone.now()
    )
    started = time.perf_counter()
    importing.batch_apply(batch_id=other.pk)
    single = time.perf_counter() - started
    _check(other.pk, second)

    baseline = _copy_baseline(second)
    print(f"BENCH import_rows {ROWS} rows")
    print(f"BENCH import_preview_rows_per_s {ROWS / preview:.0f} rows/s")
    print(f"BENCH import_apply_rows_per_s {ROWS / apply:.0f} rows/s")
    print(f"BENCH import_apply_one_process_rows_per_s {ROWS / single:.0f} rows/s")
    print(f"BENCH import_copy_baseline_rows_per_s {ROWS / baseline:.0f} rows/s")
    print(f"BENCH import_apply_to_baseline_ratio {baseline / apply:.2f} ratio")


def bench_import() -> Iterator[str]:
    registry.population(RESIDENTS)
    env = {**registry._env(IMPORT_APPLY_WORKERS=str(WORKERS)), "REDIS_URL": REDIS_URL}
    subprocess.run(["redis-cli", "-u", REDIS_URL, "flushdb"], check=True, capture_output=True)
    options = ["--pool", "prefork", "--concurrency", str(WORKERS), "--loglevel", "WARNING"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "purworejo_portal", "worker", *options],
        cwd=registry.ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        code = (
            "from benchmarks import imports; "
            f"imports.import_measure(seed={int(time.time())}, workers={WORKERS})"
        )
        out = registry._manage("shell", "-c", code, env=env)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    yield from (line for line in out.splitlines() if line.startswith("BENCH "))


BENCHMARKS = {"import": bench_import}
