"""No password oracle: no API URL takes an e-mail and password (HTTP Basic), so a right and
a wrong password get the same answer everywhere under /api/."""

import base64
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from citizens.choices import Role
from tests.factories import UserFactory

PASSWORD = "kata-sandi-yang-benar-12"


def _api_urls() -> list[str]:
    """Every route under /api/, with each converter filled with a sample value."""
    found: list[str] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith("api/"):
                found.append("/" + re.sub(r"<(?:(\w+):)?\w+>", _sample, route))

    walk(get_resolver().url_patterns, "")
    return found


def _sample(match: re.Match[str]) -> str:
    return "1" if match.group(1) == "int" else "umum"


def _basic(email: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def test_api_urls_are_found_when_walking_the_resolver() -> None:
    urls = _api_urls()

    assert "/api/schema/" in urls
    assert "/api/docs/" in urls
    assert "/api/v1/batches/1/" in urls


@pytest.mark.parametrize("url", _api_urls())
@pytest.mark.parametrize("method", ["get", "post"])
def test_right_and_wrong_basic_password_get_the_same_answer_when_calling_the_api(
    client, db, url: str, method: str
) -> None:
    user = UserFactory(role=Role.HEAD)
    user.set_password(PASSWORD)
    user.save()

    def call(password: str) -> tuple[int, bytes]:
        response = getattr(client, method)(
            url, content_type="application/json", **_basic(user.email, password)
        )
        return response.status_code, response.content

    right = call(PASSWORD)
    wrong = call(PASSWORD + "x")

    assert right == wrong
    assert b"sandi" not in wrong[1].lower()  # no "wrong password" answer either
