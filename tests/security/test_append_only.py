"""History is append-only in the database, and accounts with history are deactivated, never
deleted (issue #16, item 7): record changes, the access log, the submission timeline and link
attempts refuse UPDATE and DELETE whatever the client, and the admin keeps their accounts."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.urls import reverse

from citizens.choices import AccessPurpose, Registry
from citizens.fields import EncryptedTextField
from citizens.models import AccessLog, LinkAttempt, RecordChange, User
from citizens.services import encryption_keys_rotate
from submissions.models import SubmissionEvent
from submissions.services import submission_submit
from tests.factories import UserFactory, biodata_request_create, resident_create

GUARDED = [RecordChange, AccessLog, SubmissionEvent, LinkAttempt]


@pytest.fixture
def history(citizen, operator_desa) -> dict[type, int]:
    """One row of each history table, the citizen's and the operator's."""
    resident = resident_create()
    submission = biodata_request_create(citizen=citizen, resident=resident)
    submission_submit(submission=submission, actor=citizen)
    access = AccessLog.objects.create(
        registry=Registry.PERMANENT,
        record_id=resident.pk,
        actor=operator_desa,
        purpose=AccessPurpose.OFFICER_VIEW,
    )
    attempt = LinkAttempt.objects.create(user=citizen)
    return {
        RecordChange: RecordChange.objects.filter(record_id=resident.pk).earliest("pk").pk,
        AccessLog: access.pk,
        SubmissionEvent: SubmissionEvent.objects.filter(submission=submission).earliest("pk").pk,
        LinkAttempt: attempt.pk,
    }


@pytest.mark.postgres
@pytest.mark.parametrize("model", GUARDED, ids=lambda model: model.__name__)
def test_database_refuses_raw_update_and_delete_when_a_history_table_is_changed(
    history, model
) -> None:
    table, pk = model._meta.db_table, history[model]
    for statement in (
        f"UPDATE {table} SET id = id WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [pk])
    assert model._base_manager.filter(pk=pk).exists()


@pytest.mark.postgres
@pytest.mark.parametrize("model", GUARDED, ids=lambda model: model.__name__)
def test_trigger_lets_key_rotation_rewrite_only_the_encrypted_columns_when_a_table_is_guarded(
    db, model
) -> None:
    encrypted = sorted(
        field.column
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgargs FROM pg_trigger WHERE tgname = %s",
            [f"{model._meta.db_table}_append_only"],
        )
        (arguments,) = cursor.fetchone()
    named = [argument for argument in bytes(arguments).decode().split("\x00") if argument]
    assert sorted(named) == encrypted


@pytest.mark.postgres
def test_key_rotation_still_rewrites_history_when_the_triggers_guard_it(history) -> None:
    change = RecordChange.objects.get(pk=history[RecordChange])
    counts = encryption_keys_rotate()
    assert counts["citizens.RecordChange"] >= 1
    assert RecordChange.objects.get(pk=change.pk).new_value == change.new_value


@pytest.mark.postgres
def test_database_refuses_a_change_beyond_the_encrypted_columns_when_rotation_is_declared(
    history,
) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL portal.reencrypting = 'on'")
        cursor.execute(
            "UPDATE citizens_recordchange SET new_value = new_value WHERE id = %s",
            [history[RecordChange]],
        )
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(
                "UPDATE citizens_recordchange SET reason = 'rewritten' WHERE id = %s",
                [history[RecordChange]],
            )
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("DELETE FROM citizens_linkattempt WHERE id = %s", [history[LinkAttempt]])
    assert RecordChange.objects.get(pk=history[RecordChange]).reason != "rewritten"


def test_deleting_an_account_with_link_attempts_is_refused_when_the_orm_is_used(
    citizen,
) -> None:
    LinkAttempt.objects.create(user=citizen)
    with pytest.raises(ProtectedError):
        citizen.delete()
    assert LinkAttempt.objects.filter(user=citizen).count() == 1


def _delete_url(user: User) -> str:
    return reverse("admin:citizens_user_delete", args=[user.pk])


def test_admin_refuses_to_delete_an_account_when_it_has_history(
    client, system_admin, history, citizen
) -> None:
    client.force_login(system_admin)
    response = client.post(_delete_url(citizen), {"post": "yes"}, follow=True)
    assert response.redirect_chain[0][0] == reverse("admin:citizens_user_change", args=[citizen.pk])
    assert "tidak dapat dihapus" in response.text
    assert "Aktif" in response.text
    assert User.objects.filter(pk=citizen.pk, is_active=True).exists()
    assert LinkAttempt.objects.filter(pk=history[LinkAttempt]).exists()


def test_admin_refuses_to_delete_selected_accounts_when_one_has_history(
    client, system_admin, citizen
) -> None:
    LinkAttempt.objects.create(user=citizen)
    fresh_account = UserFactory()
    client.force_login(system_admin)
    response = client.post(
        reverse("admin:citizens_user_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [citizen.pk, fresh_account.pk],
            "post": "yes",
        },
        follow=True,
    )
    assert "tidak ada yang dihapus" in response.text
    assert User.objects.filter(pk__in=[citizen.pk, fresh_account.pk]).count() == 2
    assert LinkAttempt.objects.filter(user=citizen).exists()


def test_admin_still_deletes_an_account_when_it_has_no_history(client, system_admin) -> None:
    mistaken = UserFactory()
    client.force_login(system_admin)
    response = client.post(_delete_url(mistaken), {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=mistaken.pk).exists()


def test_admin_deactivates_an_account_and_keeps_its_history_when_it_has_history(
    client, system_admin, history, citizen
) -> None:
    client.force_login(system_admin)
    change_url = reverse("admin:citizens_user_change", args=[citizen.pk])
    form = client.get(change_url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("password", "groups", "is_active")
    }
    data |= {"last_login_0": "", "last_login_1": "", "date_joined_0": "2026-01-01"}
    data |= {"date_joined_1": "08:00:00"}
    response = client.post(change_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    citizen.refresh_from_db()
    assert not citizen.is_active
    assert LinkAttempt.objects.filter(pk=history[LinkAttempt]).exists()
    assert SubmissionEvent.objects.filter(pk=history[SubmissionEvent]).exists()
