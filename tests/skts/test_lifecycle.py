"""Validity, renewal, revocation, early end and expiry reminders."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from citizens.choices import AuditAction, ChangeSource, LifeStatus
from citizens.models import AuditEntry
from citizens.services import resident_close
from skts import services
from skts.choices import LetterState, LetterStatus
from skts.exceptions import CannotRevoke, MoveRequired, NoCurrentStay, NotYourResident
from skts.models import Letter
from skts.selectors import letter_state
from submissions.models import Submission
from tests.factories import non_permanent_create
from tests.skts.conftest import HOST_NIK, stay

pytestmark = pytest.mark.django_db


def _request(user, resident):
    return services.letter_request_create(
        actor=user, resident=resident, host_name="SITI PENJAMIN", host_nik=HOST_NIK
    )


def _page(client, letter) -> str:
    return client.get(reverse("skts:verify", args=[letter.token])).content.decode()


@given(
    start=st.dates(datetime.date(2020, 1, 1), datetime.date(2030, 12, 31)),
    length=st.integers(0, 900),
    offset=st.integers(0, 900),
)
def test_validity_never_passes_the_stay_or_a_year_when_computed(start, length, offset) -> None:
    end = start + datetime.timedelta(days=length)
    today = start + datetime.timedelta(days=offset)
    if today > end:
        today = end  # a request needs a current stay (an ended one is refused, tested below)
    valid_from, valid_until = services.validity_for(
        start_date=start, expected_end_date=end, today=today
    )
    assert valid_from >= today and valid_from >= start
    assert valid_until <= end
    assert valid_until <= services._one_year_after(today)
    assert valid_from <= valid_until


def test_letter_ends_on_the_stay_end_when_the_stay_ends_within_a_year(
    holder_account, approve
) -> None:
    user, resident = holder_account
    letter = approve(_request(user, resident).submission)
    assert letter.valid_from == timezone.localdate()
    assert letter.valid_until == resident.expected_end_date


def test_letter_is_capped_at_a_year_when_the_stay_is_longer(desa, approve) -> None:
    from citizens.models import ResidentLink
    from tests.factories import UserFactory

    today = timezone.localdate()
    resident = non_permanent_create(
        desa=desa,
        **stay(
            start_date=today - datetime.timedelta(days=10),
            expected_end_date=today + datetime.timedelta(days=500),
        ),
    )
    user = UserFactory()
    ResidentLink.objects.create(user=user, non_permanent_resident=resident)
    letter = approve(_request(user, resident).submission)
    assert letter.valid_until == services._one_year_after(today)
    assert letter.valid_until < resident.expected_end_date


def test_request_is_refused_when_the_stay_has_ended(desa) -> None:
    from citizens.models import ResidentLink
    from tests.factories import UserFactory

    today = timezone.localdate()
    resident = non_permanent_create(
        desa=desa,
        **stay(
            start_date=today - datetime.timedelta(days=200),
            expected_end_date=today - datetime.timedelta(days=1),
        ),
    )
    user = UserFactory()
    ResidentLink.objects.create(user=user, non_permanent_resident=resident)
    with pytest.raises(NoCurrentStay):
        _request(user, resident)
    assert not Submission.objects.exists()


def test_request_is_refused_when_the_host_nik_is_invalid(holder_account) -> None:
    user, resident = holder_account
    with pytest.raises(Exception, match="16") as caught:
        services.letter_request_create(
            actor=user, resident=resident, host_name="SITI", host_nik="12345"
        )
    assert "NIK" in str(caught.value)
    assert not Submission.objects.exists()


def test_revocation_shows_on_the_verification_page_when_dukcapil_revokes(
    client, holder_account, approve, head
) -> None:
    user, resident = holder_account
    letter = approve(_request(user, resident).submission)
    assert "Dukcapil revoked" not in _page(client, letter)
    with pytest.raises(CannotRevoke):
        services.letter_revoke(letter=letter, actor=head, reason="  ")
    services.letter_revoke(letter=letter, actor=head, reason="Data penjamin palsu")
    letter.refresh_from_db()
    assert (letter.status, letter.revoked_by, letter.revoke_reason) == (
        LetterStatus.REVOKED,
        head,
        "Data penjamin palsu",
    )
    page = _page(client, letter)
    assert "Dukcapil revoked" in page or "mencabut" in page
    audit = AuditEntry.objects.get(action=AuditAction.LETTER_REVOKE)
    assert (audit.actor, audit.record_id, audit.reference, audit.detail) == (
        head,
        resident.pk,
        letter.number,
        "Data penjamin palsu",
    )
    with pytest.raises(CannotRevoke):
        services.letter_revoke(letter=letter, actor=head, reason="lagi")
    assert AuditEntry.objects.filter(action=AuditAction.LETTER_REVOKE).count() == 1


def test_revoke_is_refused_when_the_actor_is_not_dukcapil(
    holder_account, approve, operator_desa
) -> None:
    user, resident = holder_account
    letter = approve(_request(user, resident).submission)
    with pytest.raises(NotYourResident):
        services.letter_revoke(letter=letter, actor=operator_desa, reason="bukan wewenang")
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ISSUED


def test_renewal_supersedes_the_old_letter_when_the_new_one_is_issued(
    client, holder_account, approve
) -> None:
    user, resident = holder_account
    old = approve(_request(user, resident).submission)
    renewal = _request(user, resident)
    assert renewal.renews == old
    new = approve(renewal.submission)
    old.refresh_from_db()
    assert (old.status, old.superseded_by) == (LetterStatus.SUPERSEDED, new)
    assert letter_state(new) == LetterState.VALID
    assert new.sequence == old.sequence + 1
    assert "renewed letter replaced" in _page(client, old) or "diperbarui" in _page(client, old)


def test_renewal_is_refused_with_the_move_message_when_the_stay_passes_a_year(
    client, desa, approve
) -> None:
    from citizens.models import ResidentLink
    from tests.factories import UserFactory

    today = timezone.localdate()
    resident = non_permanent_create(
        desa=desa,
        **stay(
            start_date=today - datetime.timedelta(days=300),
            expected_end_date=today + datetime.timedelta(days=200),
        ),
    )
    user = UserFactory()
    ResidentLink.objects.create(user=user, non_permanent_resident=resident)
    approve(_request(user, resident).submission)
    with pytest.raises(MoveRequired):
        _request(user, resident)
    client.force_login(user)
    page = client.get(reverse("skts:mine")).content.decode()
    assert "pindah datang" in page
    response = client.post(reverse("skts:mine"), {"host_name": "X", "host_nik": HOST_NIK})
    assert "pindah datang" in response.content.decode()
    assert Letter.objects.count() == 1


def test_letter_reads_ended_when_the_record_is_closed_and_the_task_marks_it(
    client, holder_account, approve
) -> None:
    user, resident = holder_account
    letter = approve(_request(user, resident).submission)
    resident_close(resident=resident, status=LifeStatus.MOVED_AWAY, source=ChangeSource.OFFICER)
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ISSUED
    assert letter_state(letter) == LetterState.ENDED
    assert "stay in Purworejo has ended" in _page(client, letter) or "berakhir" in _page(
        client, letter
    )
    assert services.letters_end_closed() == 1
    assert services.letters_end_closed() == 0
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ENDED and letter.ended_at is not None


def test_letter_reads_expired_when_its_last_day_has_passed(holder_account, approve) -> None:
    user, resident = holder_account
    letter = approve(_request(user, resident).submission)
    assert letter_state(letter) == LetterState.VALID
    after = letter.valid_until + datetime.timedelta(days=1)
    assert letter_state(letter, today=after) == LetterState.EXPIRED


def test_reminder_is_sent_once_when_the_letter_ends_within_30_days(holder_account, approve) -> None:
    user, resident = holder_account
    letter = approve(_request(user, resident).submission)
    mail.outbox.clear()  # the review's status e-mails
    early = letter.valid_until - datetime.timedelta(days=31)
    assert services.reminders_send(today=early) == 0
    due = letter.valid_until - datetime.timedelta(days=30)
    assert services.reminders_send(today=due) == 1
    assert services.reminders_send(today=due) == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert letter.number in mail.outbox[0].subject
    letter.refresh_from_db()
    assert letter.reminder_sent_at is not None


def test_reminder_reaches_the_institution_admins_when_the_institution_asked(
    desa, university, university_admin, approve
) -> None:
    from tests.skts.conftest import rostered

    (resident,) = rostered(university, university_admin, desa, 1)
    result = services.letter_requests_create_many(
        actor=university_admin,
        institution=university,
        resident_ids=[resident.pk],
        host_name="KEPALA ASRAMA",
        host_nik=HOST_NIK,
    )
    letter = approve(result.created[0].submission)
    mail.outbox.clear()
    due = letter.valid_until - datetime.timedelta(days=10)
    assert services.reminders_send(today=due) == 1
    assert mail.outbox[0].to == [university_admin.email]


def test_beat_task_ends_and_reminds_when_it_runs(holder_account, approve, desa) -> None:
    from skts.tasks import letters_housekeeping

    user, resident = holder_account
    letter = approve(_request(user, resident).submission)
    resident_close(resident=resident, status=LifeStatus.MOVED_AWAY, source=ChangeSource.OFFICER)
    assert letters_housekeeping.delay().get() == {"ended": 1, "reminded": 0}
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ENDED
