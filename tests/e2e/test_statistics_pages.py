"""The statistics pages in a real browser: the head of Dukcapil signs in (password + TOTP),
opens each page at desktop and phone widths; axe finds no serious or critical violation;
screenshots go to var/screenshots (copied to docs/screenshots after looking at them)."""

import datetime
import random

import pytest

from citizens import statistics
from citizens.choices import Education, Occupation, Religion, Sex, StayPurpose
from tests.e2e.signing_in import sign_in
from tests.factories import family_create, non_permanent_create, resident_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 800}


def _population(desa, other_desa) -> None:
    rng = random.Random(3)
    families = [family_create(desa=rng.choice([desa, other_desa])) for _ in range(40)]
    today = datetime.date.today()
    for index in range(160):
        resident_create(
            family=families[index % len(families)],
            birth_date=today - datetime.timedelta(days=int(rng.triangular(0, 85 * 365, 25 * 365))),
            sex=rng.choice([Sex.MALE, Sex.FEMALE]),
            religion=rng.choice([Religion.ISLAM] * 8 + [Religion.CATHOLIC, Religion.PROTESTANT]),
            education=rng.choice(list(Education.values)),
            occupation=rng.choice([Occupation.FARMER, Occupation.TEACHER, Occupation.STUDENT]),
        )
    for index in range(12):
        non_permanent_create(
            desa=desa,
            purpose=rng.choice([StayPurpose.STUDY, StayPurpose.WORK]),
            host_institution=rng.choice(["Universitas Contoh Purworejo", "PT Contoh Industri"]),
            start_date=today - datetime.timedelta(days=30),
            expected_end_date=today + datetime.timedelta(days=200 + index),
        )
    statistics.statistics_refresh()


def test_statistics_pages_render_at_desktop_and_phone_widths(
    live_server, page, head, desa, other_desa, axe_check, screenshot, verified_email
) -> None:
    verified_email(head)
    _population(desa, other_desa)
    sign_in(page, live_server.url, head, totp=True)
    for name, path in (
        ("population", "/petugas/statistik/"),
        ("biodata", "/petugas/statistik/biodata/"),
        ("non-permanent", "/petugas/statistik/non-permanen/"),
    ):
        for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            page.goto(f"{live_server.url}{path}")
            assert page.locator("section.stat-block svg.chart").first.is_visible()
            assert page.locator("section.stat-block table").first.is_visible()
            axe_check(page)
            screenshot(page, f"stats-{name}-{width}")
