"""`make bench ONLY=page`: the cek data page against a plain hello view, served as in production.

gunicorn (2 sync workers, production settings, persistent database connections, Redis for
the cache as in production, sessions in PostgreSQL) serves the portal on a loopback port over
the benchmark registry; wrk loads `/halo/` and then `/saya/` with the same settings, the latter
as random linked citizens (each with a session and the CSRF cookie a signed-in browser holds).
Each citizen's first view is timed on its own, one at a time, before the runs: the measured
runs are repeat views, as a citizen checking their data again makes.
Every cek data response must be a 200 page of the citizen's record, so a redirect to the
login page cannot pass for a fast one.
"""

import html
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks import registry

ACCOUNTS = int(os.environ.get("BENCH_PAGE_ACCOUNTS", "2000"))
DURATION = os.environ.get("BENCH_PAGE_DURATION", "20s")
WARMUP = "5s"
THREADS = 2
CONNECTIONS = 16
COOKIE = "__Host-sessionid"  # SESSION_COOKIE_NAME in production settings
# A signed-in browser also holds the CSRF cookie: signing in took a form that set it.
CSRF_COOKIE = "__Host-csrftoken"  # CSRF_COOKIE_NAME in production settings
SESSION_PREFIX = "benchpage"
# A fragment only the cek data template renders; a login page or error page lacks it.
MYDATA_MARKER = 'class="record my-record"'
ACCOUNT_DOMAIN = "bench.purworejo.test"
# Production runs with Redis (cache and sessions). A database of its own on the local server,
# emptied before each run; "" runs without Redis (per-process cache, sessions in PostgreSQL).
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def citizen_sessions_prepare(*, accounts: int, out: str) -> None:
    """Run inside `manage.py shell` with the benchmark settings and this run's SECRET_KEY.

    Accounts and their links to random permanent residents are kept between runs; sessions
    are remade, since they are signed with the run's SECRET_KEY. Writes the session keys (in
    the order of the accounts) and the names of the first five citizens to `out`.
    """
    import datetime

    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS
    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from citizens.choices import Role
    from citizens.models import (
        AccountSession,
        PageGeneration,
        PermanentResident,
        ResidentLink,
        User,
    )
    from citizens.sessions import SessionStore

    with transaction.atomic():
        emails = [f"bench.citizen.{i:05d}@{ACCOUNT_DOMAIN}" for i in range(accounts)]
        have = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
        unusable = make_password(None)
        User.objects.bulk_create(
            User(email=email, password=unusable, role=Role.CITIZEN, full_name="Bench citizen")
            for email in emails
            if email not in have
        )
        users = list(User.objects.filter(email__in=emails).order_by("pk"))
        linked = set(ResidentLink.objects.filter(user__in=users).values_list("user_id", flat=True))
        unlinked = [user for user in users if user.pk not in linked]
        residents = list(
            PermanentResident.objects.filter(account_link__isnull=True)
            .order_by("?")
            .values_list("pk", flat=True)[: len(unlinked)]
        )
        ResidentLink.objects.bulk_create(
            ResidentLink(user=user, permanent_resident_id=resident)
            for user, resident in zip(unlinked, residents, strict=False)
        )
        linked |= {user.pk for user, _r in zip(unlinked, residents, strict=False)}
        users = [user for user in users if user.pk in linked]
        AccountSession.objects.filter(session_key__startswith=SESSION_PREFIX).delete()
        store = SessionStore()
        expires = timezone.now() + datetime.timedelta(days=1)
        sessions = [
            AccountSession(
                # Keys are at most 40 characters.
                session_key=SESSION_PREFIX + get_random_string(30, VALID_KEY_CHARS),
                session_data=store.encode(
                    {
                        "_auth_user_id": str(user.pk),
                        "_auth_user_backend": settings.AUTHENTICATION_BACKENDS[0],
                        "_auth_user_hash": user.get_session_auth_hash(),
                    }
                ),
                expire_date=expires,
                user=user,
            )
            for user in users
        ]
        AccountSession.objects.bulk_create(sessions, batch_size=1000)
    # As autovacuum would after so many new rows: the statistics taken before them describe
    # the earlier run's sessions and links (or a profiling run's few).
    with connection.cursor() as cursor:
        tables = (AccountSession, ResidentLink, PageGeneration)
        cursor.execute("ANALYZE " + ", ".join(model._meta.db_table for model in tables))
    names = {
        link.user_id: link.resident.full_name
        for link in ResidentLink.objects.filter(user__in=users[:5]).select_related(
            "permanent_resident"
        )
    }
    Path(out).write_text(
        json.dumps(
            {
                "keys": [session.session_key for session in sessions],
                "names": [names[user.pk] for user in users[:5]],
            }
        )
    )


_WRK_SCRIPT = """
local keys = {keys}
local path, marker = {path}, {marker}
local threads, counter = {{}}, 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  math.randomseed(os.time() * 1000 + id)
end

function request()
  local headers = {{}}
  if #keys > 0 then
    headers["Cookie"] = keys[math.random(#keys)]
  end
  return wrk.format("GET", path, headers)
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, marker, 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("bad")
  end
  io.write(string.format("BAD %d\\n", total))
end
"""


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int
    socket_errors: str


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string of ASCII text is a valid Lua string literal


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
        wrk = shutil.which("wrk")
    if wrk is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
        wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed and could not be installed")
    return wrk


def _redis_flush() -> None:
    """Empty the benchmark's Redis database, so no page is cached from an earlier run."""
    if not REDIS_URL:
        return
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.RedisError as error:
        raise SystemExit(
            f"Redis at {REDIS_URL} is not available ({error}): start redis-server, or set "
            "BENCH_REDIS_URL='' to run without Redis"
        ) from error


def _citizen_sessions(env: dict[str, str], tmp: Path) -> tuple[list[str], list[str]]:
    """The cookies of linked citizens' browsers (session and CSRF), and the names of the first
    five citizens."""
    out = tmp / "sessions.json"
    # Imported through the registry, which imports this module: the other way round is circular.
    code = (
        "from benchmarks.registry import page; "
        f"page.citizen_sessions_prepare(accounts={ACCOUNTS}, out={str(out)!r})"
    )
    registry._manage("shell", "-c", code, env=env)
    data = json.loads(out.read_text())
    cookies = [f"{COOKIE}={key}; {CSRF_COOKIE}={secrets.token_hex(16)}" for key in data["keys"]]
    return cookies, data["names"]


@contextmanager
def _gunicorn(env: dict[str, str], tmp: Path) -> Iterator[str]:
    port = _free_port()
    log = (tmp / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "purworejo_portal.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=registry.ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{(tmp / 'gunicorn.log').read_text()[-3000:]}")
            try:
                if _get(f"{base}/halo/")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not answer within 60 s")
            time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _get(url: str, cookie: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)  # noqa: S310  (always http://127.0.0.1)
    if cookie:
        request.add_header("Cookie", cookie)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def _check_pages(base: str, keys: list[str], names: list[str]) -> None:
    """The page is login-only, and each session shows its own citizen's record."""
    status, _body = _get(f"{base}/saya/")
    if status != 302:
        raise SystemExit(f"/saya/ without a session answered {status}, expected a redirect")
    for cookie, name in zip(keys, names, strict=False):
        status, body = _get(f"{base}/saya/", cookie)
        if status != 200 or MYDATA_MARKER not in body or html.escape(name) not in body:
            raise SystemExit(f"/saya/ did not show the citizen's own record (status {status})")


def _first_views(base: str, cookies: list[str]) -> tuple[float, float]:
    """Median and 99th percentile of citizens' first views, one at a time: the page with
    nothing cached. Every citizen's, so that the measured runs are repeat views only, however
    fast the machine gets through the warm-up.

    With http.client: urllib's opener alone takes ~20 ms to build.
    """
    host, port = base.removeprefix("http://").split(":")
    times = []
    for cookie in cookies:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        started = time.perf_counter()
        connection.request("GET", "/saya/", headers={"Cookie": cookie})
        answer = connection.getresponse()
        body = answer.read().decode()
        times.append((time.perf_counter() - started) * 1000)
        connection.close()
        if answer.status != 200 or MYDATA_MARKER not in body:
            raise SystemExit(f"/saya/ answered {answer.status} on a first view")
    return statistics.median(times), statistics.quantiles(times, n=100)[98]


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _wrk(
    wrk: str, base: str, path: str, marker: str, keys: list[str], tmp: Path, duration: str
) -> WrkResult:
    script = tmp / f"wrk{len(list(tmp.glob('wrk*.lua')))}.lua"
    script.write_text(
        _WRK_SCRIPT.format(
            keys="{" + ",".join(_lua_string(k) for k in keys) + "}",
            path=_lua_string(path),
            marker=_lua_string(marker),
            cookie=COOKIE,
        )
    )
    result = subprocess.run(
        [
            wrk,
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{duration}",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            f"{base}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    out = result.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"^BAD (\d+)$", out, re.MULTILINE)
    errors = re.search(r"Socket errors: (.*)$", out, re.MULTILINE)
    if not (rps and p50 and p99 and total and bad):
        raise SystemExit(f"could not read wrk's output:\n{out}\n{result.stderr}")
    return WrkResult(
        rps=float(rps.group(1)),
        p50_ms=_ms(*p50.groups()),
        p99_ms=_ms(*p99.groups()),
        requests=int(total.group(1)),
        bad=int(bad.group(1)),
        socket_errors=errors.group(1) if errors else "none",
    )


def bench_page() -> Iterator[str]:
    residents = int(os.environ.get("BENCH_RESIDENTS", "770000"))
    wrk = _ensure_wrk()
    registry.population(residents)
    secret_key = secrets.token_urlsafe(50)
    with tempfile.TemporaryDirectory(prefix="bench-page-") as tmpdir:
        tmp = Path(tmpdir)
        env = registry.production_env(
            secret_key=secret_key,
            static_root=tmp / "static",
            allowed_hosts="127.0.0.1",
            redis_url=REDIS_URL,
        )
        registry._manage("collectstatic", "--noinput", env=env)
        _redis_flush()
        keys, names = _citizen_sessions(env, tmp)
        with _gunicorn(env, tmp) as base:
            _check_pages(base, keys, names)
            first_view_p50, first_view_p99 = _first_views(base, keys[len(names) :])
            _wrk(wrk, base, "/halo/", "hello", [], tmp, WARMUP)
            _wrk(wrk, base, "/saya/", MYDATA_MARKER, keys, tmp, WARMUP)
            hello = _wrk(wrk, base, "/halo/", "hello", [], tmp, DURATION)
            cekdata = _wrk(wrk, base, "/saya/", MYDATA_MARKER, keys, tmp, DURATION)
            # The same hello view with a citizen's session: what any signed-in page costs
            # before it does anything (session, account, middleware).
            signed_in = _wrk(wrk, base, "/halo/", "hello", keys, tmp, DURATION)
    yield f"BENCH page_residents {residents} residents"
    yield f"BENCH page_citizen_sessions {len(keys)} sessions"
    yield f"BENCH page_hello_rps {hello.rps:.0f} req/s"
    yield f"BENCH page_hello_p99_ms {hello.p99_ms:.1f} ms"
    yield f"BENCH page_cekdata_rps {cekdata.rps:.0f} req/s"
    yield f"BENCH page_cekdata_p50_ms {cekdata.p50_ms:.1f} ms"
    yield f"BENCH page_cekdata_p99_ms {cekdata.p99_ms:.1f} ms"
    yield f"BENCH page_cekdata_first_view_p50_ms {first_view_p50:.1f} ms"
    yield f"BENCH page_cekdata_first_view_p99_ms {first_view_p99:.1f} ms"
    yield f"BENCH page_cekdata_requests {cekdata.requests} requests"
    yield f"BENCH page_cekdata_non200 {cekdata.bad} responses"
    yield f"BENCH page_cekdata_hello_ratio {cekdata.rps / hello.rps:.2f} ratio"
    yield f"BENCH page_signed_in_hello_rps {signed_in.rps:.0f} req/s"
    yield f"BENCH page_signed_in_hello_ratio {signed_in.rps / hello.rps:.2f} ratio"
    if hello.bad or cekdata.bad or signed_in.bad:
        raise SystemExit(
            f"{hello.bad} hello, {cekdata.bad} cek data and {signed_in.bad} signed-in hello "
            "responses were not 200 pages "
            f"(socket errors: hello {hello.socket_errors}; cek data {cekdata.socket_errors})"
        )
