import os
import re
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from django.conf import settings

from purworejo_portal.celery import app

ROOT = Path(__file__).resolve().parent.parent


def test_celery_is_configured_for_safe_redelivery_and_json_only() -> None:
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert app.conf.accept_content == ["json"]


def test_regional_defaults_are_jakarta_time_and_indonesian() -> None:
    assert settings.TIME_ZONE == "Asia/Jakarta"
    assert settings.LANGUAGE_CODE == "id"
    assert [code for code, _name in settings.LANGUAGES] == ["id", "en"]
    assert settings.SESSION_ENGINE == "citizens.sessions"


def _production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEV_KEYS"))}
    env.update(
        DJANGO_SETTINGS_MODULE="purworejo_portal.settings.production",
        SECRET_KEY="a" * 20 + "Q9!x" * 15,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        BLIND_INDEX_KEY="production-like-index-key",
        ALLOWED_HOSTS="portal.example.test",
        DEBUG="false",
        **extra,
    )
    return env


def test_check_deploy_reports_only_the_documented_hsts_preload_warning() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    issues = set(re.findall(r"\(([a-z_]+\.[EW]\d+)\)", result.stdout + result.stderr))
    assert issues == {"security.W021"}, result.stdout + result.stderr
    assert "security.W021" in (ROOT / "docs" / "deploy.md").read_text()


def test_production_settings_refuse_to_start_without_secrets() -> None:
    env = _production_env()
    del env["FIELD_ENCRYPTION_KEYS"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_development_keys_file_is_never_committed() -> None:
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".dev-keys.json" in ignored
    assert ".env" in ignored


def test_the_wsgi_application_freezes_what_loading_it_built() -> None:
    code = (
        "import gc; before = gc.get_freeze_count(); "
        "import purworejo_portal.wsgi; print(gc.get_freeze_count() - before)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # The settings, the apps and their models, URL patterns: tens of thousands of objects.
    assert int(result.stdout) > 20_000
