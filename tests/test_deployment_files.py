"""The deployment files agree with each other and with the settings; no database needed."""

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
# Matches env("NAME", env.list("NAME", env.bool("NAME", env.int("NAME", env.db("NAME" ...
_ENV_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")
# Read by base.py but without effect in production: production.py forces DEBUG off, DEV_KEYS
# must never be set there, and its MAILERS always use SMTP (EMAIL_URL) instead of EMAIL_BACKEND.
_NOT_FOR_PRODUCTION = {"DEBUG", "DEV_KEYS", "EMAIL_BACKEND"}
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|_KEY|TOKEN|DATABASE_URL|EMAIL_URL")


@cache
def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _service(name: str) -> dict[str, Any]:
    return _compose()["services"][name]


def _command(name: str) -> str:
    command = _service(name)["command"]
    return command if isinstance(command, str) else " ".join(command)


def _env_files(name: str) -> list[str]:
    value = _service(name).get("env_file", [])
    entries = [value] if isinstance(value, str) else value
    return [entry if isinstance(entry, str) else entry["path"] for entry in entries]


def _depends_on(name: str) -> dict[str, str]:
    value = _service(name).get("depends_on", {})
    if isinstance(value, list):
        return dict.fromkeys(value, "service_started")
    return {dep: spec.get("condition", "service_started") for dep, spec in value.items()}


def _named_volume_targets(name: str) -> dict[str, str]:
    """Container path -> volume name, for the named (not bind-mounted) volumes of a service."""
    declared = set(_compose().get("volumes") or {})
    targets = {}
    for mount in _service(name).get("volumes", []):
        if isinstance(mount, str):
            source, target = mount.split(":")[:2]
        else:
            source, target = mount.get("source", ""), mount["target"]
        if source in declared:
            targets[target] = source
    return targets


def _settings_variables(filename: str) -> set[str]:
    text = (ROOT / "purworejo_portal" / "settings" / filename).read_text()
    return set(_ENV_READ.findall(text))


def _example_variables() -> set[str]:
    lines = (ROOT / ".env.production.example").read_text().splitlines()
    return {
        line.split("=", 1)[0].strip()
        for line in lines
        if "=" in line and not line.lstrip().startswith("#")
    }


def _scalars(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in [str(key), *_scalars(value)]]
    if isinstance(node, list):
        return [s for item in node for s in _scalars(item)]
    return [] if node is None else [str(node)]


def test_compose_defines_the_five_services() -> None:
    assert {"web", "worker", "beat", "db", "redis"} <= set(_compose()["services"])


def test_app_services_share_one_build_and_env_file() -> None:
    builds = [_service(name)["build"] for name in APP_SERVICES]
    env_files = [_env_files(name) for name in APP_SERVICES]
    assert builds[0] in ("Dockerfile", ".", {"context": ".", "dockerfile": "Dockerfile"})
    assert all(build == builds[0] for build in builds)
    assert env_files[0] == [".env.production"]
    assert all(files == env_files[0] for files in env_files)


def test_web_serves_the_wsgi_application_with_gunicorn_on_loopback_only() -> None:
    assert "gunicorn purworejo_portal.wsgi:application" in _command("web")
    assert _service("web")["ports"] == ["127.0.0.1:8000:8000"]


def test_migrations_and_collectstatic_run_before_web_serves() -> None:
    web = _command("web")
    migrated_by_web = "manage.py migrate --noinput" in web.split("gunicorn")[0]
    waits_for_migrate = _depends_on("web").get("migrate") == "service_completed_successfully"
    migrated_first = waits_for_migrate and "manage.py migrate --noinput" in _command("migrate")
    assert migrated_by_web or migrated_first
    assert "manage.py collectstatic --noinput" in web.split("gunicorn")[0]


def test_worker_runs_a_celery_worker_for_the_project_with_two_processes() -> None:
    command = _command("worker")
    assert command.startswith("celery -A purworejo_portal worker")
    assert "--concurrency 2" in command or "--concurrency=2" in command


def test_beat_runs_celery_beat_for_the_project() -> None:
    assert _command("beat").startswith("celery -A purworejo_portal beat")


def test_db_is_postgres_16_with_a_pg_isready_healthcheck() -> None:
    db = _service("db")
    assert db["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert "/var/lib/postgresql/data" in _named_volume_targets("db")


def test_redis_is_redis_7_with_a_healthcheck() -> None:
    redis = _service("redis")
    assert redis["image"].startswith("redis:7")
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])


def test_web_waits_until_db_and_redis_are_healthy() -> None:
    depends = _depends_on("web")
    assert depends.get("db") == "service_healthy"
    assert depends.get("redis") == "service_healthy"


def test_private_media_is_one_named_volume_on_web_and_worker() -> None:
    web = _named_volume_targets("web").get("/app/var/private")
    worker = _named_volume_targets("worker").get("/app/var/private")
    assert web is not None
    assert web == worker


def test_compose_file_holds_no_secret_values() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"SECRET_KEY\s*[=:]\s*\S", text)
    for service in _compose()["services"].values():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.partition("=")[::2] for item in environment)
        for name, value in environment.items():
            if _SECRET_NAME.search(name):
                assert value in (None, "") or str(value).startswith("${"), name
    for value in _scalars(_compose()):
        assert not re.fullmatch(r"[A-Za-z0-9_-]{43}=", value), "looks like a Fernet key"


def test_env_example_lists_every_variable_the_production_settings_read() -> None:
    required = _settings_variables("production.py")
    assert {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"} <= required
    assert required <= _example_variables()


def test_env_example_lists_every_variable_the_base_settings_read() -> None:
    missing = _settings_variables("base.py") - _NOT_FOR_PRODUCTION - _example_variables()
    assert not missing


def test_env_example_selects_the_production_settings_module() -> None:
    lines = (ROOT / ".env.production.example").read_text().splitlines()
    assert "DJANGO_SETTINGS_MODULE=purworejo_portal.settings.production" in lines


def test_env_example_has_a_comment_above_every_variable() -> None:
    lines = (ROOT / ".env.production.example").read_text().splitlines()
    for number, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            block = lines[:number]
            while block and "=" in block[-1] and not block[-1].startswith("#"):
                block.pop()
            assert block and block[-1].startswith("#"), line


def test_private_media_volume_is_the_settings_media_root() -> None:
    lines = (ROOT / ".env.production.example").read_text().splitlines()
    assert "MEDIA_ROOT=/app/var/private" in lines


def test_database_env_example_matches_the_database_url() -> None:
    lines = (ROOT / ".env.database.example").read_text().splitlines()
    postgres = dict(line.split("=", 1) for line in lines if "=" in line and line[0] != "#")
    assert _env_files("db") == [".env.database"]
    url = next(
        line.split("=", 1)[1]
        for line in (ROOT / ".env.production.example").read_text().splitlines()
        if line.startswith("DATABASE_URL=")
    )
    user, rest = url.removeprefix("postgres://").split(":", 1)
    password, rest = rest.split("@", 1)
    assert (user, password, rest.rsplit("/", 1)[1]) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        postgres["POSTGRES_DB"],
    )
