"""A citizen on a phone: sign up, verify the e-mail, link the account to their NIK, check
their data, file a biodata correction with an evidence file, and follow its timeline."""

import re

import pytest
from django.core import mail

from citizens.choices import Education
from submissions.choices import Status
from submissions.models import Submission
from tests.factories import family_create, resident_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Sawah-Hijau-Purworejo-77"


def _submit(page) -> None:
    page.click("main form button[type=submit]")


def test_citizen_signs_up_links_checks_data_and_files_a_correction(
    live_server, page, axe_check, screenshot, tmp_path, settings
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    family = family_create()
    me = resident_create(
        family=family,
        full_name="RATNA SARI DEWI",
        mother_name="SUMIYATI",
        education=Education.SENIOR_SECONDARY,
    )

    page.goto(f"{live_server.url}/akun/signup/")
    axe_check(page)
    page.fill("input[name=email]", "ratna@example.test")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    _submit(page)
    screenshot(page, "citizen-01-verify-email")

    link = re.search(r"https?://[^\s]+/akun/confirm-email/[^\s]+/", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body
    page.goto(link.group(0).replace("http://testserver", live_server.url))
    axe_check(page)
    _submit(page)

    page.goto(f"{live_server.url}/akun/login/")
    page.fill("input[name=login]", "ratna@example.test")
    page.fill("input[name=password]", PASSWORD)
    _submit(page)

    page.goto(f"{live_server.url}/akun-saya/tautkan/")
    axe_check(page)
    page.fill("input[name=nik]", me.nik)
    page.fill("input[name=kk_number]", family.kk_number)
    page.fill("input[name=birth_date]", me.birth_date.isoformat())
    page.fill("input[name=mother_name]", "Sumiyati")
    screenshot(page, "citizen-02-link")
    _submit(page)

    page.wait_for_url("**/saya/**")
    assert page.get_by_text("RATNA SARI DEWI").first.is_visible()
    html = page.content()
    assert me.nik not in html  # masked by default
    assert f"{me.nik[:4]}" in html and me.nik[-4:] in html
    axe_check(page)
    screenshot(page, "citizen-03-my-data")

    # A biodata correction of her education, with a PDF diploma as evidence.
    diploma = tmp_path / "ijazah.pdf"
    diploma.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    page.goto(f"{live_server.url}/pengajuan/baru/biodata/")
    page.select_option("select[name=subject_nik]", me.nik)
    _submit(page)
    axe_check(page)
    page.select_option("select[name=education]", str(Education.DIPLOMA_4_S1.value))
    page.fill("input[name=basis_education]", "Ijazah S1 No. 123/2024")
    page.set_input_files("input[name=evidence]", str(diploma))
    screenshot(page, "citizen-04-correction-form")
    _submit(page)

    page.wait_for_url("**/pengajuan/PRJ-*/")
    page.click("form[action$='/ajukan/'] button[type=submit]")
    page.wait_for_url("**/pengajuan/PRJ-*/")
    html = page.content()
    assert "(PDF," in html  # the evidence is listed (names are not echoed back)
    axe_check(page)
    screenshot(page, "citizen-05-timeline")

    submission = Submission.objects.get()
    assert submission.status == Status.SUBMITTED
    item = submission.items.get()
    assert (item.field, item.value_after) == ("education", str(Education.DIPLOMA_4_S1.value))
    assert submission.evidence.count() == 1
