"""Hardening: the keys (field encryption, blind index, Django's secret key) reach only the
containers that run the portal's code, never the database or Redis container."""

from tests.test_deployment_files import ROOT, _compose, _env_files, _service

KEYS = {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"}
# The one-shot migrate container runs the same image and settings as web (the production
# settings refuse to load without the keys); it exits before the others start.
CONTAINERS_WITH_KEYS = {"web", "worker", "beat", "migrate"}


def _variables_given_to(name: str) -> set[str]:
    """Names a service gets from its env files (read from their .example) and environment."""
    names: set[str] = set()
    for env_file in _env_files(name):
        lines = (ROOT / f"{env_file}.example").read_text().splitlines()
        names |= {
            line.split("=", 1)[0].strip()
            for line in lines
            if "=" in line and not line.lstrip().startswith("#")
        }
    environment = _service(name).get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    return names | set(environment)


def test_keys_reach_only_app_containers_when_compose_starts_the_services():
    for name in _compose()["services"]:
        given = _variables_given_to(name) & KEYS
        if name in CONTAINERS_WITH_KEYS:
            assert given == KEYS, name
        else:
            assert not given, f"{name} receives {sorted(given)}"


def test_database_container_gets_its_own_credentials_when_compose_starts_it():
    assert {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"} <= _variables_given_to("db")
    assert ".env.production" not in _env_files("db")
