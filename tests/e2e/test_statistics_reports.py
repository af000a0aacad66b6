"""The head's monitoring, data-quality and reports pages in a real browser at desktop and
phone widths: axe finds no serious or critical violation; screenshots go to var/screenshots."""

import datetime

import pytest

from citizens import quality
from tests.e2e.signing_in import sign_in
from tests.e2e.test_statistics_pages import DESKTOP, PHONE, _population
from verification import reports

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def test_monitoring_quality_and_reports_pages_are_accessible_at_both_widths(
    live_server, page, head, desa, other_desa, axe_check, screenshot, verified_email
) -> None:
    verified_email(head)
    _population(desa, other_desa)
    quality.quality_refresh()
    today = datetime.date.today()
    reports.monthly_report_create(today=today)
    reports.weekly_report_create(today=today)
    sign_in(page, live_server.url, head, totp=True)
    for name, path, table in (
        ("monitoring", "/petugas/pemantauan/", "table.timings"),
        ("quality", "/petugas/statistik/kualitas-data/", "main"),
        ("reports", "/petugas/laporan/", "table.reports"),
    ):
        for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            page.goto(f"{live_server.url}{path}")
            assert page.locator(table).first.is_visible()
            axe_check(page)
            screenshot(page, f"stats-{name}-{width}")
    page.goto(f"{live_server.url}/petugas/laporan/")
    assert page.locator("table.reports a", has_text="PDF").count() == 1
    assert page.locator("table.reports a", has_text="CSV").count() == 2
