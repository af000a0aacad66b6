"""The pages: an officer reviews and decides an SKTS request on the review pages, the holder
and the institution admin use theirs, and the menu links them."""

import pytest
from django.urls import reverse

from skts import services
from skts.models import Letter
from submissions.choices import Status
from submissions.models import Submission
from tests.skts.conftest import HOST_NIK, rostered

pytestmark = pytest.mark.django_db


def test_officers_approve_on_the_review_pages_when_a_letter_is_requested(
    client, holder_account, operator_desa, verifier, django_capture_on_commit_callbacks
) -> None:
    user, resident = holder_account
    submission = services.letter_request_create(
        actor=user, resident=resident, host_name="SITI PENJAMIN", host_nik=HOST_NIK
    ).submission
    url = reverse("verification:review", args=[submission.tracking_code])
    client.force_login(operator_desa)
    page = client.get(url)
    assert page.status_code == 200
    assert "SITI PENJAMIN" in page.content.decode()
    client.post(
        reverse("verification:decide", args=[submission.tracking_code]),
        {"outcome": "approve"},
    )
    client.force_login(verifier)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("verification:decide", args=[submission.tracking_code]),
            {"outcome": "approve"},
        )
    assert Submission.objects.get(pk=submission.pk).status == Status.APPROVED
    assert Letter.objects.get(submission=submission).sha256


def test_approval_is_refused_with_a_message_when_the_stay_ended_meanwhile(
    client, holder_account, operator_desa, verifier
) -> None:
    from citizens.choices import ChangeSource, LifeStatus
    from citizens.services import resident_close

    user, resident = holder_account
    submission = services.letter_request_create(
        actor=user, resident=resident, host_name="SITI PENJAMIN", host_nik=HOST_NIK
    ).submission
    client.force_login(operator_desa)
    decide = reverse("verification:decide", args=[submission.tracking_code])
    client.post(decide, {"outcome": "approve"})
    resident_close(resident=resident, status=LifeStatus.MOVED_AWAY, source=ChangeSource.OFFICER)
    client.force_login(verifier)
    response = client.post(decide, {"outcome": "approve"}, follow=True)
    assert "non-permanent registration has ended" in response.content.decode() or (
        "sudah berakhir" in response.content.decode()
    )
    assert Submission.objects.get(pk=submission.pk).status == Status.IN_REVIEW
    assert not Letter.objects.exists()


def test_holder_page_offers_the_request_and_menu_links_it_when_linked(
    client, holder_account
) -> None:
    client.force_login(holder_account[0])
    page = client.get(reverse("skts:mine")).content.decode()
    assert reverse("skts:mine") in page
    assert 'name="host_nik"' in page


def test_request_form_shows_the_error_and_files_nothing_when_the_host_nik_is_bad(
    client, holder_account
) -> None:
    client.force_login(holder_account[0])
    response = client.post(reverse("skts:mine"), {"host_name": "SITI", "host_nik": "123"})
    assert response.status_code == 200
    assert "16" in response.content.decode()
    assert not Submission.objects.exists()


def test_institution_page_lists_its_roster_when_the_admin_opens_it(
    client, desa, university, university_admin
) -> None:
    residents = rostered(university, university_admin, desa, 3)
    client.force_login(university_admin)
    page = client.get(reverse("skts:institution")).content.decode()
    assert all(resident.full_name in page for resident in residents)
    assert reverse("skts:institution") in page


def test_register_link_is_in_the_menu_when_a_verifier_signs_in(client, verifier) -> None:
    client.force_login(verifier)
    page = client.get(reverse("skts:register"))
    assert page.status_code == 200
    assert reverse("skts:register") in page.content.decode()
