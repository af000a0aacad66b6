"""Officers on phones take a citizen's biodata correction through every tier of its route
(desa, then Dukcapil), each signing in with password and TOTP, claiming the item and
approving it; the citizen then finds the new value on their cek data page."""

import pytest
from django.utils import translation
from django.utils.text import capfirst

from citizens.choices import Education, Registry
from citizens.models import PermanentResident, ResidentLink
from submissions import services
from submissions.choices import Channel, Kind, Status
from submissions.models import Submission
from submissions.services import Item
from tests.e2e.signing_in import sign_in
from tests.factories import family_create, resident_create
from verification.models import Decision, Merge

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _review_and_approve(page, base: str, code: str, *, axe_check, screenshot, name: str) -> None:
    """From the queue: open the item, claim it, approve it; back at the queue, it is gone."""
    page.goto(f"{base}/petugas/verifikasi/")
    link = page.locator("table.queue a", has_text=code)
    assert link.is_visible()
    axe_check(page)
    screenshot(page, f"{name}-queue-phone")

    link.click()
    page.wait_for_url(f"**/petugas/verifikasi/{code}/")
    axe_check(page)
    page.click("form[action$='/klaim/'] button[type=submit]")
    page.wait_for_url(f"**/petugas/verifikasi/{code}/")
    assert page.locator("form[action$='/lepas/']").is_visible()  # the claim is this officer's
    axe_check(page)
    screenshot(page, f"{name}-review-phone")

    page.check("form.decision-form input[name=outcome][value=approve]")
    page.click("form.decision-form button[type=submit]")
    page.wait_for_url("**/petugas/verifikasi/")
    assert page.locator("table.queue a", has_text=code).count() == 0


def test_biodata_correction_is_approved_at_every_tier_and_reaches_the_cek_data_page(
    live_server,
    page,
    citizen,
    operator_desa,
    verifier,
    verified_email,
    axe_check,
    screenshot,
    settings,
    tmp_path,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"  # the F-1.06 statement is rendered at the merge
    for user in (citizen, operator_desa, verifier):
        verified_email(user)
    family = family_create(desa=operator_desa.jurisdiction_desa)
    me = resident_create(
        family=family, full_name="RATNA SARI DEWI", education=Education.SENIOR_SECONDARY
    )
    ResidentLink.objects.create(user=citizen, permanent_resident=me)
    draft = services.submission_create(
        kind=Kind.BIODATA_CORRECTION,
        filed_by=citizen,
        citizen=citizen,
        channel=Channel.CITIZEN,
        desa=family.desa,
        subject_key=me.nik_index,
        subject_registry=Registry.PERMANENT,
        subject_id=me.pk,
        family=family,
        items=[
            Item(
                field="education",
                before=str(Education.SENIOR_SECONDARY.value),
                after=str(Education.DIPLOMA_4_S1.value),
                basis="Ijazah S1 No. 123/2024",
            )
        ],
    )
    code = services.submission_submit(submission=draft, actor=citizen).tracking_code
    base = live_server.url

    sign_in(page, base, operator_desa, totp=True)
    _review_and_approve(
        page, base, code, axe_check=axe_check, screenshot=screenshot, name="officer-desa"
    )
    submission = Submission.objects.get(tracking_code=code)
    assert (submission.status, submission.current_tier) == (Status.IN_REVIEW, "dukcapil")

    sign_in(page, base, verifier, totp=True)
    _review_and_approve(
        page, base, code, axe_check=axe_check, screenshot=screenshot, name="officer-dukcapil"
    )
    submission.refresh_from_db()
    assert submission.status == Status.APPROVED
    assert list(
        Decision.objects.filter(submission=submission)
        .order_by("decided_at")
        .values_list("tier", "officer")
    ) == [("desa", operator_desa.pk), ("dukcapil", verifier.pk)]
    assert Merge.objects.filter(submission=submission).count() == 1
    me.refresh_from_db()
    assert me.education == Education.DIPLOMA_4_S1

    sign_in(page, base, citizen, totp=False)
    page.goto(f"{base}/saya/")
    with translation.override("id"):
        label = capfirst(str(PermanentResident._meta.get_field("education").verbose_name))
        new, old = str(Education.DIPLOMA_4_S1.label), str(Education.SENIOR_SECONDARY.label)
    term = page.locator("dl.my-record dt", has_text=label)
    value = term.locator("xpath=following-sibling::dd[1]")
    assert new in value.inner_text()
    assert old not in value.inner_text()
    axe_check(page)
    screenshot(page, "citizen-06-my-data-after-review")
