"""Page generations (PostgreSQL triggers): every write the cek data page shows renews the
generation of the accounts whose page shows it, whoever writes and however; other writes
leave it alone."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from citizens import linking, services
from citizens.choices import ChangeSource, FamilyRelation, Occupation, Registry, Role
from citizens.models import (
    AccessLog,
    Desa,
    Kecamatan,
    PageGeneration,
    PermanentResident,
    RecordChange,
    ResidentLink,
)
from submissions import services as submission_services
from submissions.models import Submission
from tests.factories import (
    NON_PERMANENT_BIRTH_DATE,
    UserFactory,
    account_link,
    biodata_request_create,
    death_report_create,
    non_permanent_create,
    resident_create,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

URL = "/saya/"


def _generation(user) -> int | None:
    return PageGeneration.objects.filter(user_id=user.pk).values_list("value", flat=True).first()


class _Watch:
    """The generations of the accounts, to ask which changed since the last look."""

    def __init__(self, *users) -> None:
        self.users = users
        self.seen = {user.pk: _generation(user) for user in users}

    def renewed(self) -> set[str]:
        now = {user.pk: _generation(user) for user in self.users}
        changed = {user.email for user in self.users if now[user.pk] != self.seen[user.pk]}
        self.seen = now
        return changed


@pytest.fixture
def accounts(family_of_three):
    """The wife's and the husband's accounts, linked, and a stranger's in another family."""
    me, spouse, _child = family_of_three
    mine = UserFactory(role=Role.CITIZEN, email="me@example.test")
    theirs = UserFactory(role=Role.CITIZEN, email="spouse@example.test")
    account_link(mine, me)
    account_link(theirs, spouse)
    stranger_resident = resident_create(full_name="ORANG ASING")
    stranger = UserFactory(role=Role.CITIZEN, email="stranger@example.test")
    account_link(stranger, stranger_resident)
    return mine, theirs, stranger, stranger_resident


def test_linking_gives_the_account_a_generation_and_unlinking_renews_it(citizen, family_of_three):
    assert _generation(citizen) is None
    link = account_link(citizen, family_of_three[0])
    first = _generation(citizen)
    assert first is not None
    ResidentLink.objects.filter(pk=link.pk).delete()
    assert _generation(citizen) not in (None, first)


def test_a_record_or_family_change_renews_every_linked_member_and_no_one_else(
    accounts, family_of_three
) -> None:
    mine, theirs, stranger, _stranger_resident = accounts
    me, _spouse, child = family_of_three
    watch = _Watch(mine, theirs, stranger)
    services.record_update(
        record=me, changes={"occupation": Occupation.TEACHER}, source=ChangeSource.OFFICER
    )
    assert watch.renewed() == {mine.email, theirs.email}
    services.record_update(
        record=child, changes={"full_name": "ANAK GANTI"}, source=ChangeSource.OFFICER
    )
    assert watch.renewed() == {mine.email, theirs.email}
    services.record_update(
        record=me.family, changes={"address": "Jalan Baru 9"}, source=ChangeSource.OFFICER
    )
    assert watch.renewed() == {mine.email, theirs.email}
    resident_create(family=me.family, full_name="ANAK BARU", relation=FamilyRelation.CHILD)
    assert watch.renewed() == {mine.email, theirs.email}


def test_writes_past_the_services_renew_too(accounts, family_of_three) -> None:
    """Bulk updates, deletes and a raw statement: the triggers see every writer."""
    mine, theirs, stranger, stranger_resident = accounts
    me, _spouse, child = family_of_three
    watch = _Watch(mine, theirs, stranger)
    PermanentResident.objects.filter(family=me.family).update(blood_type=1)
    assert watch.renewed() == {mine.email, theirs.email}
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE citizens_permanentresident SET version = version + 1 WHERE id = %s",
            [stranger_resident.pk],
        )
    assert watch.renewed() == {stranger.email}
    PermanentResident.objects.filter(pk=child.pk).delete()
    assert watch.renewed() == {mine.email, theirs.email}
    # A member moved to another family leaves both families' pages.
    PermanentResident.objects.filter(pk=me.pk).update(family=stranger_resident.family)
    assert watch.renewed() == {mine.email, theirs.email, stranger.email}


def test_a_rolled_back_write_leaves_the_generation_as_it_was(accounts, family_of_three) -> None:
    mine, theirs, stranger, _ = accounts
    watch = _Watch(mine, theirs, stranger)
    with pytest.raises(RuntimeError), transaction.atomic():
        PermanentResident.objects.filter(pk=family_of_three[0].pk).update(blood_type=2)
        raise RuntimeError
    assert watch.renewed() == set()


def test_access_and_change_rows_renew_the_accounts_whose_page_lists_them(
    accounts, family_of_three, verifier
) -> None:
    mine, theirs, stranger, _ = accounts
    me, spouse, _child = family_of_three
    watch = _Watch(mine, theirs, stranger)
    services.access_log_record(
        actor=verifier, registry=Registry.PERMANENT, record_id=me.pk, purpose="officer_view"
    )
    assert watch.renewed() == {mine.email}
    services.access_log_record(
        actor=verifier, registry=Registry.FAMILY, record_id=me.family_id, purpose="officer_view"
    )
    assert watch.renewed() == {mine.email, theirs.email}
    AccessLog.objects.bulk_create(
        [
            AccessLog(actor=verifier, registry=Registry.PERMANENT, record_id=spouse.pk),
            AccessLog(actor=verifier, registry=Registry.PERMANENT, record_id=spouse.pk),
        ]
    )
    assert watch.renewed() == {theirs.email}
    RecordChange.objects.bulk_create(
        [
            RecordChange(
                registry=Registry.PERMANENT,
                record_id=me.pk,
                field="occupation",
                old_value="9",
                new_value="65",
                source=ChangeSource.OFFICER,
            )
        ]
    )
    assert watch.renewed() == {mine.email}


def test_submissions_renew_the_filer_and_the_accounts_of_the_subjects_family(
    accounts, family_of_three, operator_desa
) -> None:
    mine, theirs, stranger, _ = accounts
    me, spouse, _child = family_of_three
    watch = _Watch(mine, theirs, stranger)
    own = biodata_request_create(citizen=mine, resident=me)
    assert watch.renewed() == {mine.email, theirs.email}
    death_report_create(operator=operator_desa, resident=spouse)
    assert watch.renewed() == {mine.email, theirs.email}
    submission_services.submission_withdraw(submission=own, actor=mine)
    assert watch.renewed() == {mine.email, theirs.email}
    Submission.objects.filter(pk=own.pk).update(updated_at=timezone.now())
    assert watch.renewed() == {mine.email, theirs.email}


def test_a_non_permanent_record_change_renews_its_account(citizen, desa) -> None:
    resident = non_permanent_create(desa=desa, kk_number="3404010201200001")
    linking.identity_link(
        user=citizen,
        nik=resident.nik,
        kk_number="3404010201200001",
        birth_date=NON_PERMANENT_BIRTH_DATE,
        mother_name="IBU TAMU",
    )
    watch = _Watch(citizen)
    services.record_update(
        record=resident, changes={"domicile_address": "Asrama C"}, source=ChangeSource.OFFICER
    )
    assert watch.renewed() == {citizen.email}


def test_renaming_an_area_renews_every_page_and_rewriting_it_unchanged_renews_none(
    accounts,
) -> None:
    mine, theirs, stranger, _ = accounts
    watch = _Watch(mine, theirs, stranger)
    desa = Desa.objects.order_by("pk").first()
    Desa.objects.filter(pk=desa.pk).update(name=desa.name)
    assert watch.renewed() == set()
    Desa.objects.filter(pk=Desa.objects.order_by("pk").first().pk).update(name="DESA BARU")
    assert watch.renewed() == {mine.email, theirs.email, stranger.email}
    Kecamatan.objects.filter(pk=Kecamatan.objects.order_by("pk").first().pk).update(name="BARU")
    assert watch.renewed() == {mine.email, theirs.email, stranger.email}


def test_moving_a_link_or_a_submission_renews_the_accounts_before_and_after(
    accounts, family_of_three
) -> None:
    mine, theirs, stranger, stranger_resident = accounts
    me, _spouse, _child = family_of_three
    newcomer = UserFactory(role=Role.CITIZEN, email="newcomer@example.test")
    watch = _Watch(mine, theirs, stranger, newcomer)
    # The stranger's link handed to another account: both accounts' pages change.
    ResidentLink.objects.filter(user=stranger).update(user=newcomer)
    assert watch.renewed() == {stranger.email, newcomer.email}
    # The stranger's request turned into one about the wife, filed by someone else: the
    # stranger's page loses it, the family's pages gain it.
    request = biodata_request_create(citizen=stranger, resident=stranger_resident)
    watch.renewed()
    Submission.objects.filter(pk=request.pk).update(subject_id=me.pk, citizen=None, filed_by=mine)
    assert watch.renewed() == {mine.email, theirs.email, stranger.email, newcomer.email}


def _bump_calls(write) -> int:
    """How many times citizens_page_bump ran for `write` (PostgreSQL's function statistics of
    the current transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL track_functions = 'pl'")
        count = (
            "SELECT COALESCE(SUM(calls), 0) FROM pg_stat_xact_user_functions "
            "WHERE funcname = 'citizens_page_bump'"
        )
        cursor.execute(count)
        before = cursor.fetchone()[0]
        write()
        cursor.execute(count)
        return cursor.fetchone()[0] - before


def test_an_update_renews_old_and_new_rows_in_one_call(accounts, family_of_three) -> None:
    me, _spouse, child = family_of_three
    family = PermanentResident.objects.filter(family=me.family)
    assert _bump_calls(lambda: family.update(blood_type=3)) == 1
    assert _bump_calls(lambda: PermanentResident.objects.filter(pk=child.pk).delete()) == 1
    own = biodata_request_create(citizen=accounts[0], resident=me)
    submission = Submission.objects.filter(pk=own.pk)
    assert _bump_calls(lambda: submission.update(updated_at=timezone.now())) == 1


def test_a_stored_page_is_served_with_the_session_query_alone(client, accounts) -> None:
    mine, _theirs, _stranger, stranger_resident = accounts
    client.force_login(mine)
    first = client.get(URL)
    assert first.status_code == 200 and "SITI PEMILIK" in first.text
    with CaptureQueriesContext(connection) as queries:
        second = client.get(URL)
    assert second.status_code == 200 and "SITI PEMILIK" in second.text
    assert [query["sql"].split("(")[0] for query in queries] == ["EXECUTE account_session"]
    # Another family's change leaves this page stored; its own shows at once.
    services.record_update(
        record=stranger_resident, changes={"full_name": "ASING GANTI"}, source=ChangeSource.OFFICER
    )
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    assert len(queries) == 1
    services.record_update(
        record=mine.resident_link.permanent_resident,
        changes={"full_name": "SITI GANTI"},
        source=ChangeSource.OFFICER,
    )
    html = client.get(URL).text
    assert "SITI GANTI" in html and "SITI PEMILIK" not in html
