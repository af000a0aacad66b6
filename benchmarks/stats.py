"""`make bench ONLY=stats`: the statistics pages on the 770,000-resident registry.

First the counts are refreshed from the registry (`manage.py stats_refresh`, timed: what the
hourly beat task does). Then each page is requested in-process with the Django test client
under the production settings (cached templates, no query log), as the head of Dukcapil
(the whole regency) and filtered to one kecamatan, and as a data analyst (suppressed
figures): 5 warm-up requests, then 40 timed ones each. One `BENCH stats_<page>_p95_ms` line per
page (the slowest of its variants), plus each variant's p95. The data-quality check runs once
(timed) and its page (possible duplicates, the head's view) is measured the same way.
"""

import os
import secrets
import statistics as stats
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks import registry

RESIDENTS = 770_000
REQUESTS = int(os.environ.get("BENCH_STATS_REQUESTS", "40"))
WARMUP = 5
DOMAIN = "bench-stats.purworejo.test"
PAGES = ("population", "biodata", "non_permanent")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def stats_measure(*, requests: int, warmup: int) -> None:
    """Run inside `manage.py shell` with the production settings; prints the BENCH lines."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.test import Client
    from django.urls import reverse

    from citizens.choices import Role
    from citizens.models import Kecamatan, User

    head, _ = User.objects.get_or_create(email=f"head@{DOMAIN}", defaults={"role": Role.HEAD})
    if not Authenticator.objects.filter(user=head, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(head, generate_totp_secret())
    analyst, _ = User.objects.get_or_create(
        email=f"analyst@{DOMAIN}", defaults={"role": Role.ANALYST}
    )
    kecamatan = Kecamatan.objects.order_by("code").first()
    assert kecamatan is not None
    variants = (
        ("head", head, {}),
        ("head_kecamatan", head, {"kecamatan": kecamatan.pk}),
        ("analyst", analyst, {}),
    )
    worst: dict[str, float] = {}
    for page in PAGES:
        url = reverse(f"statistics:{page}")
        for name, user, query in variants:
            client = Client()
            client.force_login(user)
            timings = []
            for number in range(warmup + requests):
                started = time.perf_counter()
                response = client.get(url, query)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (page, name, response.status_code)
                assert b'class="stat-block"' in response.content, (page, name)
                if number >= warmup:
                    timings.append(elapsed)
            p95 = _percentile(timings, 0.95)
            worst[page] = max(worst.get(page, 0.0), p95)
            print(f"BENCH stats_{page}_{name}_p95_ms {p95:.1f} ms")
            print(f"BENCH stats_{page}_{name}_p50_ms {stats.median(timings):.1f} ms")
    client = Client()
    client.force_login(head)
    timings = []
    for number in range(warmup + requests):
        started = time.perf_counter()
        response = client.get(reverse("statistics:quality"), {"aturan": "duplicate"})
        assert response.status_code == 200
        if number >= warmup:
            timings.append((time.perf_counter() - started) * 1000)
    worst["quality"] = _percentile(timings, 0.95)
    for page in (*PAGES, "quality"):
        print(f"BENCH stats_{page}_p95_ms {worst[page]:.1f} ms")


def bench_stats() -> Iterator[str]:
    registry.population(RESIDENTS)
    started = time.perf_counter()
    registry._manage("stats_refresh")
    yield f"BENCH stats_refresh_seconds {time.perf_counter() - started:.1f} s"
    registry._manage("backfill_name_keys")  # a registry seeded before the name index
    started = time.perf_counter()
    registry._manage("quality_check")
    yield f"BENCH stats_quality_check_seconds {time.perf_counter() - started:.1f} s"
    with tempfile.TemporaryDirectory(prefix="bench-stats-") as tmp:
        env = registry.production_env(
            secret_key=secrets.token_urlsafe(50), static_root=Path(tmp) / "static"
        )
        registry._manage("collectstatic", "--noinput", env=env)
        code = (
            "from benchmarks import stats; "
            f"stats.stats_measure(requests={REQUESTS}, warmup={WARMUP})"
        )
        out = registry._manage("shell", "-c", code, env=env)
    yield from (line for line in out.splitlines() if line.startswith("BENCH "))


BENCHMARKS = {"stats": bench_stats}
