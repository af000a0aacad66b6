"""The "check my data" page: only the linked person, masked numbers, access log, query budget."""

import dataclasses
import datetime
import time

import pytest
import time_machine
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from citizens import crypto, linking, services
from citizens.choices import AccessPurpose, ChangeSource, FamilyRelation, Occupation, Registry, Role
from citizens.models import AccessLog, PermanentResident, RecordChange
from citizens.selectors import mask_number, my_record_overview
from submissions import services as submission_services
from tests.factories import (
    NON_PERMANENT_BIRTH_DATE,
    UserFactory,
    account_link,
    biodata_request_create,
    death_report_create,
    non_permanent_create,
    resident_create,
)

pytestmark = pytest.mark.django_db

URL = "/saya/"


def _english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def linked_client(client, citizen, family_of_three):
    account_link(citizen, family_of_three[0])
    client.force_login(citizen)
    _english(client)
    client.citizen = citizen
    return client


def test_my_data_url_is_the_saya_page() -> None:
    assert reverse("mydata:overview") == URL


def test_anonymous_visitor_is_sent_to_login_when_opening_my_data(client) -> None:
    resident = resident_create()
    for url in [URL, f"{URL}?tampilkan=1", f"{URL}?nik={resident.nik}"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
        assert resident.full_name not in response.text


def test_unlinked_citizen_is_sent_to_link_when_opening_my_data(client, citizen) -> None:
    client.force_login(citizen)
    _english(client)
    response = client.get(URL, follow=True)
    assert response.redirect_chain[0] == (reverse("linking:link"), 302)
    assert "Link your account to your population record first." in response.text


def test_page_shows_own_record_and_family_when_linked(linked_client, family_of_three) -> None:
    me, spouse, child = family_of_three
    html = linked_client.get(URL).text
    assert "SITI PEMILIK" in html and "PURWOREJO" in html and "IBU UJI" in html
    assert me.family.address in html and me.family.desa.name in html
    for member in [spouse, child]:
        assert member.full_name in html
        assert member.get_family_relation_display() in html
        assert member.nik not in html and mask_number(member.nik) not in html
    assert "Husband" in html and "Child" in html


def test_page_shows_the_last_change_and_its_source_when_a_field_was_changed(
    linked_client, family_of_three, verifier
) -> None:
    me = family_of_three[0]
    services.record_update(
        record=me,
        changes={"occupation": Occupation.TEACHER},
        source=ChangeSource.SUBMISSION,
        actor=verifier,
        reason="Bukti SK pengangkatan",
    )
    html = linked_client.get(URL).text
    assert "Teacher" in html
    assert "Citizen submission" in html  # the occupation's source
    assert "Officer correction" in html  # every other field's source (the initial record)
    assert "Dukcapil verifier" in html and "Bukti SK pengangkatan" in html
    with translation.override("en"):
        fields = my_record_overview(me).fields
    occupation = next(field for field in fields if field.value == "Teacher")
    assert occupation.source == "Citizen submission"
    change = RecordChange.objects.get(
        record_id=me.pk, field="occupation", source=ChangeSource.SUBMISSION
    )
    assert occupation.changed_at == change.changed_at


def test_last_change_is_found_when_newer_changes_fill_the_activity_rows(
    family_of_three,
) -> None:
    me = family_of_three[0]
    services.record_update(
        record=me, changes={"occupation": Occupation.TEACHER}, source=ChangeSource.SUBMISSION
    )
    occupation_change = RecordChange.objects.get(
        record_id=me.pk, field="occupation", source=ChangeSource.SUBMISSION
    )
    # With limit=1 the activity reads 10 change rows: all of them phone changes.
    for number in range(12):
        services.record_update(
            record=me, changes={"phone": f"08123456{number:04d}"}, source=ChangeSource.OFFICER
        )
    with translation.override("en"):
        overview = my_record_overview(me, limit=1)
    fields = {field.label: field for field in overview.fields}
    occupation = fields[str(PermanentResident._meta.get_field("occupation").verbose_name)]
    assert occupation.changed_at == occupation_change.changed_at
    assert occupation.source == "Citizen submission"
    assert len(overview.activity) == 1 and overview.activity[0].fields == ["phone number"]


def test_page_falls_back_to_creation_and_initial_load_when_a_field_has_no_history(
    linked_client, family_of_three
) -> None:
    me = family_of_three[0]
    # The factory records no history row for blood type (it keeps its default).
    assert not RecordChange.objects.filter(record_id=me.pk, field="blood_type").exists()
    fields = {field.label: field for field in my_record_overview(me).fields}
    blood_type = fields[str(PermanentResident._meta.get_field("blood_type").verbose_name)]
    assert blood_type.source == str(ChangeSource.SEED.label)
    assert blood_type.changed_at == me.created_at
    assert "Initial load" in linked_client.get(URL).text


def test_nik_and_kk_are_masked_when_not_revealed(linked_client, family_of_three) -> None:
    me = family_of_three[0]
    html = linked_client.get(URL).text
    assert me.nik not in html and me.family.kk_number not in html
    assert mask_number(me.nik) in html and mask_number(me.family.kk_number) in html
    assert mask_number(me.nik) == f"{me.nik[:4]}{'•' * 8}{me.nik[-4:]}"
    assert f'href="{URL}?tampilkan=1"' in html


def test_nik_and_kk_are_shown_when_the_owner_asks_to_reveal(linked_client, family_of_three) -> None:
    me, spouse, child = family_of_three
    html = linked_client.get(URL, {"tampilkan": "1"}).text
    assert me.nik in html and me.family.kk_number in html
    assert spouse.nik not in html and child.nik not in html
    # Any other value of the flag keeps them masked.
    assert me.nik not in linked_client.get(URL, {"tampilkan": "ya"}).text


def test_page_is_not_cached_by_browsers_or_proxies_when_it_shows_personal_data(
    linked_client, client
) -> None:
    from django.utils.cache import add_never_cache_headers
    from django.utils.http import parse_http_date

    rendered = linked_client.get(URL, {"tampilkan": "1"})
    linked_client.get(URL)
    stored = linked_client.get(URL)
    # An account without a link is sent to the link page: that answer is not kept either.
    client.force_login(UserFactory(role=Role.CITIZEN, email="unlinked@example.test"))
    redirect = client.get(URL)
    assert redirect.status_code == 302
    django_never_cache = HttpResponse()
    add_never_cache_headers(django_never_cache)
    for response in (rendered, stored, redirect):
        assert response["Cache-Control"] == django_never_cache["Cache-Control"]
        assert parse_http_date(response["Expires"]) < time.time()


def test_citizen_sees_only_the_linked_person_when_ids_are_tampered_with(
    client, citizen, family_of_three
) -> None:
    me = family_of_three[0]
    account_link(citizen, me)
    stranger = resident_create(full_name="ORANG ASING")
    stranger_account = UserFactory(role=Role.CITIZEN)
    account_link(stranger_account, stranger)
    client.force_login(citizen)
    for query in [
        {"id": stranger.pk},
        {"pk": stranger.pk},
        {"nik": stranger.nik},
        {"user": stranger_account.pk},
    ]:
        html = client.get(URL, query).text
        assert "SITI PEMILIK" in html and "ORANG ASING" not in html
    assert client.get(f"{URL}{stranger.pk}/").status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("mydata:overview", args=[stranger.pk])
    client.force_login(stranger_account)
    html = client.get(URL).text
    assert "ORANG ASING" in html and "SITI PEMILIK" not in html


def test_access_log_lists_an_officer_view_when_an_officer_opened_the_record(
    client, linked_client, family_of_three, verifier
) -> None:
    me = family_of_three[0]
    officer_client = type(client)()
    officer_client.force_login(verifier)
    assert officer_client.get(reverse("citizens:resident_detail", args=[me.pk])).status_code == 200
    entry = AccessLog.objects.get(record_id=me.pk)
    html = linked_client.get(URL).text
    # The office is shown by role, in the reader's language (the row stores only the actor).
    assert entry.actor == verifier and entry.actor_label == ""
    assert "Dukcapil verifier" in html
    assert "Officer viewed the record" in html
    assert f'datetime="{timezone.localtime(entry.accessed_at).isoformat()}"' in html


def test_access_log_lists_an_institution_read_when_an_export_included_the_record(
    linked_client, family_of_three
) -> None:
    me = family_of_three[0]
    services.access_log_record_many(
        registry=Registry.PERMANENT,
        record_ids=[me.pk],
        purpose=AccessPurpose.INSTITUTION_READ,
        actor_label="Dinas Pendidikan Kabupaten Purworejo",
        reason="Data export",
    )
    html = linked_client.get(URL).text
    assert "Dinas Pendidikan Kabupaten Purworejo" in html
    assert "Data export" in html


def test_citizen_viewing_their_own_record_is_not_logged_when_opening_my_data(
    linked_client,
) -> None:
    linked_client.get(URL)
    linked_client.get(URL, {"tampilkan": "1"})
    assert not AccessLog.objects.exists()


def test_page_lists_open_requests_when_filed_about_the_person_or_family(
    linked_client, citizen, family_of_three, operator_desa
) -> None:
    me, spouse, _child = family_of_three
    own = biodata_request_create(citizen=citizen, resident=me)
    about_spouse = death_report_create(operator=operator_desa, resident=spouse)
    stranger = resident_create(full_name="ORANG ASING")
    elsewhere = death_report_create(operator=operator_desa, resident=stranger)
    html = linked_client.get(URL).text
    assert "Biodata correction" in html and own.tracking_code in html
    assert "Death of a family member" in html
    # Someone else's request about the family is listed, but its tracking code is theirs.
    assert about_spouse.tracking_code not in html
    assert elsewhere.tracking_code not in html
    assert html.count("Death of a family member") == 1


def test_non_permanent_resident_sees_their_record_when_linked(client, citizen, desa) -> None:
    birth_date = NON_PERMANENT_BIRTH_DATE
    resident = non_permanent_create(desa=desa, kk_number="3404010201200001")
    linking.identity_link(
        user=citizen,
        nik=resident.nik,
        kk_number="3404010201200001",
        birth_date=birth_date,
        mother_name="IBU TAMU",
    )
    client.force_login(citizen)
    _english(client)
    html = client.get(URL).text
    assert "TAMU UJI" in html and "Asrama Blok A" in html and desa.name in html
    assert resident.nik not in html and "3404010201200001" not in html
    assert mask_number(resident.nik) in html


def test_page_has_no_inline_script_or_style_when_rendered(linked_client) -> None:
    html = linked_client.get(URL).text
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert "<caption" in html and 'scope="col"' in html


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_page_uses_a_bounded_number_of_queries_when_the_family_and_history_grow(
    linked_client, family_of_three, verifier, django_assert_max_num_queries
) -> None:
    me = family_of_three[0]
    # One entry in each list first: an empty list costs no query at all.
    services.access_log_record(
        actor=verifier, registry="permanent", record_id=me.pk, purpose="officer_view"
    )
    biodata_request_create(citizen=linked_client.citizen, resident=me)
    small = _count_queries(linked_client)
    for number in range(6):
        resident_create(
            family=me.family,
            full_name=f"ANAK {number}",
            relation=FamilyRelation.CHILD,
            birth_date=datetime.date(2010 + number, 1, 1),
        )
    for occupation in [Occupation.TEACHER, Occupation.TRADER, Occupation.FARMER]:
        services.record_update(
            record=me, changes={"occupation": occupation}, source=ChangeSource.OFFICER
        )
    for _ in range(3):
        services.access_log_record(
            actor=verifier, registry="permanent", record_id=me.pk, purpose="officer_view"
        )
    assert _count_queries(linked_client) == small
    with django_assert_max_num_queries(15):
        linked_client.get(URL, {"tampilkan": "1"})


class _CacheSpy:
    """The view's cache, recording what it stores."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.stored: dict[str, bytes] = {}

    def get(self, key):
        return self.inner.get(key)

    def set(self, key, value, timeout):
        self.stored[key] = value
        self.inner.set(key, value, timeout)


@pytest.fixture
def cache_spy(monkeypatch):
    from django.core.cache import cache

    from submissions import views_mydata

    spy = _CacheSpy(cache)
    monkeypatch.setattr(views_mydata, "cache", spy)
    return spy


def test_second_view_is_served_from_the_cache_when_nothing_changed(
    linked_client, family_of_three, verifier, cache_spy, django_assert_max_num_queries
) -> None:
    me = family_of_three[0]
    services.access_log_record(
        actor=verifier, registry="permanent", record_id=me.pk, purpose="officer_view"
    )
    biodata_request_create(citizen=linked_client.citizen, resident=me)
    first = linked_client.get(URL).text
    assert len(cache_spy.stored) == 1
    # Session, account and the fingerprint; the citizen's own view changes nothing.
    with django_assert_max_num_queries(3):
        second = linked_client.get(URL).text
    assert len(cache_spy.stored) == 1
    assert "SITI PEMILIK" in second and "Biodata correction" in second
    assert "Officer viewed the record" in second
    assert second == first


def test_cached_page_shows_a_changed_value_when_the_record_is_updated(
    linked_client, family_of_three
) -> None:
    me = family_of_three[0]
    assert "Teacher" not in linked_client.get(URL).text
    services.record_update(
        record=me, changes={"occupation": Occupation.TEACHER}, source=ChangeSource.OFFICER
    )
    assert "Teacher" in linked_client.get(URL).text


def test_cached_page_shows_a_changed_value_when_the_family_or_a_member_is_updated(
    linked_client, family_of_three
) -> None:
    me, spouse, _child = family_of_three
    linked_client.get(URL)
    services.record_update(
        record=me.family, changes={"address": "Jalan Baru No. 9"}, source=ChangeSource.OFFICER
    )
    assert "Jalan Baru No. 9" in linked_client.get(URL).text
    services.record_update(
        record=spouse, changes={"full_name": "BUDI GANTI"}, source=ChangeSource.OFFICER
    )
    html = linked_client.get(URL).text
    assert "BUDI GANTI" in html and "BUDI SUAMI" not in html


def test_cached_page_lists_a_new_member_when_one_joins_the_family(
    linked_client, family_of_three
) -> None:
    me = family_of_three[0]
    linked_client.get(URL)
    resident_create(family=me.family, full_name="ANAK BARU", relation=FamilyRelation.CHILD)
    assert "ANAK BARU" in linked_client.get(URL).text


def test_cached_page_lists_a_new_access_when_an_officer_opens_the_record(
    linked_client, family_of_three, verifier
) -> None:
    me = family_of_three[0]
    assert "Officer viewed the record" not in linked_client.get(URL).text
    services.access_log_record(
        actor=verifier, registry="permanent", record_id=me.pk, purpose="officer_view"
    )
    assert "Officer viewed the record" in linked_client.get(URL).text
    services.access_log_record(
        actor=verifier, registry="family", record_id=me.family_id, purpose="officer_view"
    )
    assert linked_client.get(URL).text.count("Officer viewed the record") == 2


def test_cached_page_lists_a_request_when_it_is_filed_or_decided(
    linked_client, family_of_three, operator_desa
) -> None:
    me, spouse, _child = family_of_three
    assert "Biodata correction" not in linked_client.get(URL).text
    own = biodata_request_create(citizen=linked_client.citizen, resident=me)
    html = linked_client.get(URL).text
    assert "Biodata correction" in html and own.tracking_code in html
    death_report_create(operator=operator_desa, resident=spouse)
    assert "Death of a family member" in linked_client.get(URL).text
    submission_services.submission_withdraw(submission=own, actor=linked_client.citizen)
    assert own.tracking_code not in linked_client.get(URL).text


def test_cached_page_follows_the_language_when_the_citizen_switches(linked_client) -> None:
    assert "My family" in linked_client.get(URL).text
    linked_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    html = linked_client.get(URL).text
    with translation.override("id"):
        assert translation.gettext("My family") in html
    assert "My family" not in html


def test_citizen_never_sees_another_citizens_cached_page_when_fingerprints_collide(
    client, citizen, family_of_three, monkeypatch
) -> None:
    from submissions import views_mydata

    account_link(citizen, family_of_three[0])
    stranger = resident_create(full_name="ORANG ASING")
    stranger_account = UserFactory(role=Role.CITIZEN)
    account_link(stranger_account, stranger)
    real = views_mydata._page_state

    def same_digest(user):
        return dataclasses.replace(real(user), digest="same-for-everyone")

    monkeypatch.setattr(views_mydata, "_page_state", same_digest)
    client.force_login(citizen)
    assert "SITI PEMILIK" in client.get(URL).text
    client.force_login(stranger_account)
    html = client.get(URL).text
    assert "ORANG ASING" in html and "SITI PEMILIK" not in html
    client.force_login(citizen)
    html = client.get(URL).text
    assert "SITI PEMILIK" in html and "ORANG ASING" not in html


def test_cache_holds_the_page_encrypted_and_never_the_revealed_numbers(
    linked_client, family_of_three, cache_spy
) -> None:
    me = family_of_three[0]
    linked_client.get(URL, {"tampilkan": "1"})
    assert cache_spy.stored == {}
    linked_client.get(URL)
    (stored,) = cache_spy.stored.values()
    assert b"SITI PEMILIK" not in stored and mask_number(me.nik).encode() not in stored
    page = crypto.decrypt_bytes(stored).decode()
    assert "SITI PEMILIK" in page and me.nik not in page


def test_non_permanent_resident_sees_a_change_when_their_cached_record_is_updated(
    client, citizen, desa
) -> None:
    resident = non_permanent_create(desa=desa, kk_number="3404010201200001")
    linking.identity_link(
        user=citizen,
        nik=resident.nik,
        kk_number="3404010201200001",
        birth_date=NON_PERMANENT_BIRTH_DATE,
        mother_name="IBU TAMU",
    )
    client.force_login(citizen)
    _english(client)
    assert "Asrama Blok A" in client.get(URL).text
    services.record_update(
        record=resident,
        changes={"domicile_address": "Asrama Blok C"},
        source=ChangeSource.OFFICER,
    )
    html = client.get(URL).text
    assert "Asrama Blok C" in html and "Asrama Blok A" not in html


def test_page_is_rendered_again_when_the_cached_copy_cannot_be_decrypted(
    linked_client, cache_spy, monkeypatch
) -> None:
    linked_client.get(URL)
    caches["pages"].clear()  # as in another worker, which has only the shared cache's copy
    monkeypatch.setattr(cache_spy, "get", lambda key: crypto.encrypt_bytes(b"x")[:-8] + b"AAAAAAAA")
    response = linked_client.get(URL)
    assert response.status_code == 200 and "SITI PEMILIK" in response.text


def test_stored_page_holds_no_csrf_token_and_its_language_switch_needs_none(
    linked_client, cache_spy
) -> None:
    from django.test import Client

    other = Client(enforce_csrf_checks=True)
    other.force_login(linked_client.citizen)
    _english(other)
    linked_client.get(URL)
    response = other.get(URL)
    assert len(cache_spy.stored) == 1  # the second session was served the stored page
    # A token in a stored page would be the first session's, refused in every other session:
    # the page must hold no form that needs one.
    assert "csrfmiddlewaretoken" not in response.text
    assert settings.CSRF_COOKIE_NAME not in response.cookies
    assert 'action="/i18n/setlang/"' in response.text
    switched = other.post(reverse("set_language"), {"language": "id", "next": URL})
    assert switched.status_code == 302 and switched.url == URL
    assert other.cookies[settings.LANGUAGE_COOKIE_NAME].value == "id"
    assert "Data saya" in other.get(URL).text


def test_forms_other_than_the_language_switch_still_need_the_csrf_token(linked_client) -> None:
    from django.test import Client

    other = Client(enforce_csrf_checks=True)
    other.force_login(linked_client.citizen)
    biodata = reverse("submissions:new", args=["biodata"])
    page = other.get(biodata)
    assert 'name="csrfmiddlewaretoken"' in page.text
    assert other.post(biodata, {"full_name": "SITI PEMILIK BARU"}).status_code == 403


def test_page_shows_a_queued_message_and_is_not_stored_when_it_has_one(
    linked_client, cache_spy
) -> None:
    linked_client.get(URL)
    assert len(cache_spy.stored) == 1
    # Opening the link page again queues "already linked" and comes back here.
    response = linked_client.get(reverse("linking:link"), follow=True)
    assert response.redirect_chain[-1][0] == URL
    assert "already linked" in response.text
    assert len(cache_spy.stored) == 1
    assert "already linked" not in linked_client.get(URL).text


def test_page_with_a_query_string_is_neither_stored_nor_served_from_the_store(
    linked_client, cache_spy
) -> None:
    first = linked_client.get(URL).text
    html = linked_client.get(URL, {"utm_source": "<b>x</b>"}).text
    assert len(cache_spy.stored) == 1
    assert "SITI PEMILIK" in html and "<b>x</b>" not in html
    assert 'value="/saya/?utm_source=' in html and 'value="/saya/?utm_source=' not in first


def test_stored_page_shows_the_accounts_menu_when_its_role_changes(linked_client) -> None:
    from citizens.models import User

    statistics = reverse("statistics:population")
    assert statistics not in linked_client.get(URL).text
    User.objects.filter(pk=linked_client.citizen.pk).update(role=Role.ANALYST)
    assert statistics in linked_client.get(URL).text


def test_repeat_view_is_served_from_the_workers_memory_when_it_has_read_the_page(
    linked_client, cache_spy, monkeypatch
) -> None:
    first = linked_client.get(URL).text
    caches["pages"].clear()  # as in another worker, which has only the shared cache's copy
    reads: list[str] = []

    def counted_get(key):
        reads.append(key)
        return cache_spy.inner.get(key)

    monkeypatch.setattr(cache_spy, "get", counted_get)
    for _ in range(3):
        assert linked_client.get(URL).text == first
    # Read from the shared cache once, then from memory; never rendered again.
    assert len(reads) == 1 and len(cache_spy.stored) == 1
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)):
        assert "SITI PEMILIK" in linked_client.get(URL).text
    assert len(reads) == 2
