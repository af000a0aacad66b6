"""Hardening: WeasyPrint loads nothing but the bundled static files (and inline data: URIs)
while it renders an SKTS letter, an F-1.06 statement or a scheduled report: no file:// outside
the static directories, no http(s)://."""

import datetime
import urllib.request

import pytest
from django.conf import settings

from citizens.pdf_fetcher import static_url_fetcher
from skts import rendering
from submissions import kinds
from submissions.choices import Kind, Status
from tests.verification.conftest import (  # noqa: F401 (fixtures)
    approve_through,
    biodata_cleaned,
    family,
    file_and_submit,
    owner,
    reviewers,
    upload,
)
from verification import reports, statements
from verification.models import Merge

STATIC_CSS = settings.BASE_DIR / "static" / "css" / "portal.css"


def _hostile_html(secret_path) -> str:
    return (
        "<html><head>"
        f'<link rel="stylesheet" href="{secret_path.as_uri()}">'
        '<link rel="stylesheet" href="http://127.0.0.1:9/internal.css">'
        '<link rel="stylesheet" href="https://metadata.example.test/latest/">'
        f'<link rel="stylesheet" href="{STATIC_CSS.as_uri()}">'
        "</head><body>"
        f'<img src="{settings.BASE_DIR.as_uri()}/static/../manage.py">'
        '<img src="file:///etc/hostname">'
        "<p>Uji</p></body></html>"
    )


@pytest.fixture
def opened(monkeypatch):
    """Every URL WeasyPrint's fetcher asks urllib to open (data: URIs are still opened)."""
    seen: list[str] = []
    real = urllib.request.OpenerDirector.open

    def spy(self, fullurl, *args, **kwargs):
        url = fullurl if isinstance(fullurl, str) else fullurl.full_url
        seen.append(url)
        if url.startswith("data:"):
            return real(self, fullurl, *args, **kwargs)
        raise urllib.error.URLError("not opened in tests")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", spy)
    return seen


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.css"
    path.write_text("body { color: red }")
    return path


def _only_data_uris(urls: list[str]) -> bool:
    return all(url.startswith("data:") for url in urls)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1/",
        "https://example.com/style.css",
        "ftp://example.com/x",
        f"{settings.BASE_DIR.as_uri()}/static/../manage.py",
        f"{settings.BASE_DIR.as_uri()}/static/%2e%2e/manage.py",
        f"{settings.BASE_DIR.as_uri()}/skts/letter.css",
    ],
)
def test_pdf_fetcher_refuses_url_when_it_is_not_a_bundled_static_file(url):
    with pytest.raises(ValueError):
        static_url_fetcher().fetch(url)


def test_pdf_fetcher_serves_static_file_when_it_is_bundled():
    response = static_url_fetcher().fetch(STATIC_CSS.as_uri())
    assert response.read() == STATIC_CSS.read_bytes()
    assert response.content_type == "text/css"


def test_letter_render_loads_nothing_when_html_names_files_or_addresses(
    monkeypatch, opened, secret_file
):
    rendering._weasy.cache_clear()
    monkeypatch.setattr(rendering, "letter_html", lambda letter: _hostile_html(secret_file))
    assert rendering.letter_pdf(object()).startswith(b"%PDF-")
    assert _only_data_uris(opened), opened


@pytest.mark.django_db
def test_statement_render_loads_nothing_when_html_names_files_or_addresses(
    request, settings, tmp_path, monkeypatch, opened, secret_file
):
    citizen, residents, officers = (
        request.getfixturevalue(n) for n in ("owner", "family", "reviewers")
    )
    settings.MEDIA_ROOT = tmp_path / "private"
    submission = file_and_submit(
        actor=citizen,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(birth_place="KUTOARJO"),
        subject=kinds.subject_of(residents[0]),
        uploads=[upload("akta-kelahiran.pdf")],
    )
    submission = approve_through(submission, officers)
    assert submission.status == Status.APPROVED
    statements.ChangeStatement.objects.all().delete()
    monkeypatch.setattr(statements, "render_to_string", lambda *a, **k: _hostile_html(secret_file))
    opened.clear()
    statement = statements.change_statement_render(
        merge_id=Merge.objects.get(submission=submission).pk
    )
    assert statement.sha256
    assert _only_data_uris(opened), opened


@pytest.mark.django_db
def test_report_render_loads_nothing_when_html_names_files_or_addresses(
    settings, tmp_path, monkeypatch, opened, secret_file
):
    settings.MEDIA_ROOT = tmp_path / "private"
    monkeypatch.setattr(reports, "render_to_string", lambda *a, **k: _hostile_html(secret_file))
    report = reports.weekly_report_create(today=datetime.date(2026, 11, 23))
    assert report.pk
    assert _only_data_uris(opened), opened
