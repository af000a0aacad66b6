"""The benchmarks, by name. Each is a generator of `BENCH <name> <value> <unit>` lines."""

import importlib
import json
import os
import pkgutil
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from benchmarks import page, queue

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/purworejo_bench"
)


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="purworejo_portal.settings.local",
        DATABASE_URL=BENCH_DATABASE_URL,
        DEBUG="true",
        **extra,
    )
    env.pop("REDIS_URL", None)
    return env


def _manage(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env or _env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def production_env(
    *,
    secret_key: str,
    static_root: Path,
    database_url: str = BENCH_DATABASE_URL,
    allowed_hosts: str = "testserver",
    redis_url: str = "",
) -> dict[str, str]:
    """The production settings on a benchmark database: seed_demo encrypted the registry with
    the development keys, so those are given; no query log, persistent connections."""
    keys = json.loads((ROOT / ".dev-keys.json").read_text())
    env = dict(os.environ)
    env.pop("DEBUG", None)
    env.update(
        DJANGO_SETTINGS_MODULE="purworejo_portal.settings.production",
        SECRET_KEY=secret_key,
        FIELD_ENCRYPTION_KEYS=",".join(keys["FIELD_ENCRYPTION_KEYS"]),
        BLIND_INDEX_KEY=keys["BLIND_INDEX_KEY"],
        ALLOWED_HOSTS=allowed_hosts,
        SECURE_SSL_REDIRECT="false",
        CONN_MAX_AGE="600",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        STATIC_ROOT=str(static_root),
        LOG_LEVEL="WARNING",
    )
    return env


def fresh_database() -> None:
    """Drop and recreate the benchmark database, then migrate and load the areas."""
    name = BENCH_DATABASE_URL.rsplit("/", 1)[1]
    server = BENCH_DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", server, "-qc", sql], check=True, capture_output=True)
    _manage("migrate", "--noinput")
    _manage("load_areas")


def _resident_count() -> int:
    """Permanent residents in the benchmark database; 0 when it or its tables don't exist."""
    result = subprocess.run(
        ["psql", BENCH_DATABASE_URL, "-tAc", "SELECT count(*) FROM citizens_permanentresident"],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(result.stdout.strip()) if result.returncode == 0 else 0


def population(residents: int) -> None:
    """A registry of exactly `residents` permanent residents in the benchmark database.

    A database that already holds that many is kept (seeding 770,000 takes minutes) and only
    migrated; anything else is recreated and seeded with `seed_demo --seed 1`.
    """
    if _resident_count() == residents:
        _manage("migrate", "--noinput")
    else:
        fresh_database()
        _manage("seed_demo", "--residents", str(residents), "--seed", "1", "--no-accounts")
    # Planner statistics, as autovacuum keeps them in production: a server with autovacuum
    # off (seen on a CI machine) would otherwise plan every query without them.
    subprocess.run(["psql", BENCH_DATABASE_URL, "-qc", "ANALYZE"], check=True, capture_output=True)


def bench_seed_demo() -> Iterator[str]:
    residents = os.environ.get("BENCH_RESIDENTS", "770000")
    fresh_database()
    started = time.perf_counter()
    out = _manage("seed_demo", "--residents", residents, "--seed", "1", "--no-accounts")
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    count = re.search(r"Seeded (\d+) residents", out)
    yield f"BENCH seed_demo_residents {count.group(1) if count else 0} residents"
    yield f"BENCH seed_demo_seconds {elapsed:.1f} s"
    yield f"BENCH seed_demo_peak_rss_mb {peak:.0f} MB"


BENCHMARKS: dict[str, Callable[[], Iterator[str]]] = {
    "seed_demo": bench_seed_demo,
    "page": page.bench_page,
    "queue": queue.bench_queue,
}


def all_benchmarks() -> dict[str, Callable[[], Iterator[str]]]:
    """The benchmarks above plus each module's own `BENCHMARKS` (benchmarks/<name>.py), so a
    new benchmark is one new file."""
    found = dict(BENCHMARKS)
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name not in {"registry", "__main__"}:
            module = importlib.import_module(f"benchmarks.{info.name}")
            found.update(getattr(module, "BENCHMARKS", {}))
    return found
