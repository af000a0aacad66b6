"""Sessions carry their account's id and, on PostgreSQL, are read with the account in one query."""

import datetime

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from citizens import sessions, tasks
from citizens.choices import Role
from citizens.models import AccountSession, User
from citizens.sessions import SessionStore

pytestmark = pytest.mark.django_db

MY_REQUESTS = "submissions:list"


def _session_row(client) -> AccountSession:
    return AccountSession.objects.get(session_key=client.session.session_key)


def test_signing_in_stores_the_account_with_the_session_and_signing_out_removes_it(
    client, citizen
) -> None:
    client.force_login(citizen)
    assert _session_row(client).user_id == citizen.pk
    key = client.session.session_key
    client.post(reverse("account_logout"))
    assert not AccountSession.objects.filter(session_key=key).exists()


def test_a_session_without_an_account_has_no_account_column(client) -> None:
    store = SessionStore()
    store["cart"] = "anything"
    store.save()
    assert AccountSession.objects.get(session_key=store.session_key).user_id is None
    assert SessionStore(store.session_key).load() == {"cart": "anything"}


def test_deleting_an_account_ends_its_sessions(client, citizen) -> None:
    client.force_login(citizen)
    key = client.session.session_key
    citizen.delete()
    assert not AccountSession.objects.filter(session_key=key).exists()
    response = client.get(reverse(MY_REQUESTS))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_an_expired_session_signs_nobody_in(client, citizen) -> None:
    client.force_login(citizen)
    AccountSession.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get(reverse(MY_REQUESTS))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_a_role_change_counts_from_the_next_request(client, citizen, desa) -> None:
    client.force_login(citizen)
    assert client.get(reverse(MY_REQUESTS)).status_code == 200
    # An operator without TOTP is sent to the invitation page: the new role is read at once.
    User.objects.filter(pk=citizen.pk).update(role=Role.OPERATOR_DESA, jurisdiction_desa=desa)
    response = client.get(reverse(MY_REQUESTS))
    assert response.status_code == 302 and reverse("invitation_required") in response["Location"]


@pytest.mark.postgres  # the joined statement is PostgreSQL's; elsewhere Django's two queries
def test_a_signed_in_request_reads_session_and_account_with_one_query(client, citizen) -> None:
    client.force_login(citizen)
    client.get(reverse("hello"))  # prepares the statement on this connection, if not yet
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("hello"))
    assert response.status_code == 200
    assert [q["sql"] for q in queries] == [
        f"EXECUTE account_session('{client.session.session_key}')"
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE name = 'account_session'"
        )
        (statement,) = cursor.fetchone()
    assert AccountSession._meta.db_table in statement and User._meta.db_table in statement


@pytest.mark.postgres
def test_the_account_read_with_the_session_is_used_once_and_only_for_its_id(
    client, citizen
) -> None:
    client.force_login(citizen)
    store = SessionStore(client.session.session_key)
    assert store[SESSION_KEY] == str(citizen.pk)
    assert sessions.take_prefetched_account(citizen.pk + 1) == (False, None)
    # Taking it (even for another id) uses it up.
    assert sessions.take_prefetched_account(citizen.pk) == (False, None)
    SessionStore(client.session.session_key).load()
    found, user = sessions.take_prefetched_account(citizen.pk)
    assert found and user == citizen and user.email == citizen.email
    assert sessions.take_prefetched_account(citizen.pk) == (False, None)


@pytest.mark.postgres
def test_a_session_read_never_lends_its_account_to_the_next_request(client, citizen) -> None:
    client.force_login(citizen)
    SessionStore(client.session.session_key).load()
    # The next request on this thread is an anonymous visitor's: it starts by forgetting
    # what the last session read brought, used or not.
    assert Client().get(reverse("hello")).status_code == 200
    assert sessions.take_prefetched_account(citizen.pk) == (False, None)


def test_beat_deletes_expired_sessions_and_keeps_live_ones(client, citizen, settings) -> None:
    client.force_login(citizen)
    live = client.session.session_key
    ended = SessionStore()
    ended[SESSION_KEY] = str(citizen.pk)
    ended.set_expiry(-1)
    ended.save()
    schedule = settings.CELERY_BEAT_SCHEDULE["clear-expired-sessions"]
    assert schedule["task"] == "citizens.tasks.clear_expired_sessions"
    assert tasks.clear_expired_sessions.apply().get() == 1
    assert list(AccountSession.objects.values_list("session_key", flat=True)) == [live]
    assert tasks.clear_expired_sessions.apply().get() == 0


@pytest.mark.postgres
def test_session_statement_looks_the_account_up_by_id_when_statistics_are_stale() -> None:
    """Statistics taken when the first few accounts were signed in, then thousands more
    signed in: the plan must still fetch the one account and generation by id, not walk their
    indexes (a merge join did, up to the account's id, on every request)."""
    from citizens.models import PageGeneration

    expires = timezone.now() + datetime.timedelta(days=1)
    users = User.objects.bulk_create(
        User(email=f"plan{i}@example.test", role=Role.CITIZEN) for i in range(2000)
    )
    PageGeneration.objects.bulk_create(PageGeneration(user_id=u.pk, value=1) for u in users)

    def sign_in(prefix: str, accounts: list[User]) -> None:
        AccountSession.objects.bulk_create(
            AccountSession(
                session_key=f"{prefix}{i:036d}", session_data="", expire_date=expires, user=user
            )
            for i, user in enumerate(accounts)
        )

    sign_in("soon", users[:20])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE citizens_accountsession, citizens_user, citizens_pagegeneration")
        sign_in("late", users[20:])
        sql, _attnames = sessions._select_with_account()
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE plan_check(text) AS {sql}")
        cursor.execute("EXPLAIN EXECUTE plan_check('x')")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE plan_check")
    assert "Merge" not in plan and "Hash" not in plan, plan
    assert plan.count("Nested Loop") == 2, plan


def test_a_sessions_text_is_verified_once_and_each_load_gets_its_own_data(
    monkeypatch, settings
) -> None:
    from django.core import signing

    store = SessionStore()
    store["_messages"] = ["kept"]
    store.save()
    checks = []
    real_loads = signing.loads
    monkeypatch.setattr(signing, "loads", lambda *a, **kw: checks.append(1) or real_loads(*a, **kw))
    first = SessionStore(store.session_key).load()
    first["_messages"].append("changed in one request")
    second = SessionStore(store.session_key).load()
    assert second == {"_messages": ["kept"]} and len(checks) == 1
    # Saved again, the session has a new text, which is verified.
    saved = SessionStore(store.session_key)
    saved["step"] = 2
    saved.save()
    assert SessionStore(store.session_key).load() == {"_messages": ["kept"], "step": 2}
    assert len(checks) == 2


def test_a_session_signed_with_a_retired_key_does_not_decode(settings) -> None:
    store = SessionStore()
    store["cart"] = "anything"
    store.save()
    assert SessionStore(store.session_key).load() == {"cart": "anything"}
    settings.SECRET_KEY = "another-secret-key-" + "k" * 40
    assert SessionStore(store.session_key).load() == {}
