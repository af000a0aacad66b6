"""Linking an account to a resident: the four-element proof, lock-out, in-person confirmation."""

import datetime
import logging

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone

from citizens import linking, services
from citizens.choices import ChangeSource, LifeStatus, Role
from citizens.exceptions import (
    AccountAlreadyLinked,
    AlreadyLinked,
    LinkFailed,
    LinkLocked,
    LinkNotAllowed,
)
from citizens.models import LinkAttempt, ResidentLink
from tests.factories import (
    UserFactory,
    family_create,
    non_permanent_create,
    resident_create,
)

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _details(resident, **overrides) -> dict:
    details = {
        "nik": resident.nik,
        "kk_number": resident.family.kk_number,
        "birth_date": resident.birth_date,
        "mother_name": resident.mother_name,
    }
    details.update(overrides)
    return details


# A valid NIK that is not registered: failures against it pause the account without closing
# online linking of the record the test links afterwards (failures per record are counted
# too, see tests/security/test_link_bruteforce.py).
UNKNOWN_NIK = "3306064505900999"


def _fail(user, resident, times: int, *, nik: str | None = None) -> None:
    overrides = {"mother_name": "SALAH"} | ({"nik": nik} if nik else {})
    for _ in range(times):
        with pytest.raises(LinkFailed):
            linking.identity_link(user=user, **_details(resident, **overrides))


def _non_permanent(desa, *, kk_number: str = "", mother_name: str = "IBU TAMU"):
    return non_permanent_create(desa=desa, kk_number=kk_number, mother_name=mother_name)


# The self-service link


def test_account_is_linked_when_all_four_details_match(citizen) -> None:
    resident = resident_create()
    link = linking.identity_link(user=citizen, **_details(resident))
    assert link.permanent_resident == resident and link.confirmed_by is None
    assert list(LinkAttempt.objects.filter(user=citizen).values_list("succeeded", flat=True)) == [
        True
    ]


def test_details_match_when_written_with_other_case_spacing_and_punctuation(citizen) -> None:
    resident = resident_create(mother_name="SITI MA'RUFAH-AMINAH")
    kk = resident.family.kk_number
    link = linking.identity_link(
        user=citizen,
        **_details(
            resident,
            nik=f" {resident.nik} ",
            kk_number=f"{kk[:6]} {kk[6:12]}.{kk[12:]}",
            mother_name="  siti  maRUFAH, aminah ",
        ),
    )
    assert link.permanent_resident == resident


@pytest.mark.parametrize(
    "wrong",
    [
        {"nik": "3306064505900999"},  # a valid NIK that is not registered
        {"nik": "not a nik"},
        {"kk_number": "3306060201209999"},
        {"kk_number": ""},
        {"birth_date": datetime.date(1990, 5, 18)},
        {"mother_name": "IBU LAIN"},
        {"mother_name": ""},
    ],
    ids=["unknown-nik", "malformed-nik", "kk", "no-kk", "birth-date", "mother", "no-mother"],
)
def test_link_fails_with_one_generic_message_when_any_detail_is_wrong(citizen, wrong) -> None:
    resident = resident_create()
    with pytest.raises(LinkFailed) as caught:
        linking.identity_link(user=citizen, **_details(resident, **wrong))
    assert caught.value.message == LinkFailed.message
    assert not ResidentLink.objects.exists()
    assert list(LinkAttempt.objects.filter(user=citizen).values_list("succeeded", flat=True)) == [
        False
    ]


def test_failed_attempt_is_logged_without_nik_or_name_when_linking_fails(citizen, caplog) -> None:
    resident = resident_create(mother_name="IBU RAHASIA")
    with caplog.at_level(logging.WARNING, logger="citizens.linking"), pytest.raises(LinkFailed):
        linking.identity_link(user=citizen, **_details(resident, mother_name="IBU TEBAKAN"))
    assert [r.name for r in caplog.records] == ["citizens.linking"]
    logged = caplog.text
    assert str(citizen.pk) in logged
    for secret in [resident.nik, resident.family.kk_number, "RAHASIA", "TEBAKAN", citizen.email]:
        assert secret not in logged


def test_resident_without_a_mother_name_on_record_cannot_link_online(citizen) -> None:
    resident = resident_create(mother_name="")
    with pytest.raises(LinkFailed):
        linking.identity_link(user=citizen, **_details(resident, mother_name=""))


def test_deceased_resident_cannot_be_linked_when_all_details_match(citizen) -> None:
    resident = resident_create()
    services.resident_close(
        resident=resident,
        status=LifeStatus.DEAD,
        death_date=datetime.date(2025, 1, 1),
        source=ChangeSource.OFFICER,
    )
    with pytest.raises(LinkFailed):
        linking.identity_link(user=citizen, **_details(resident))


def test_non_permanent_resident_links_without_kk_when_none_is_recorded(citizen, desa) -> None:
    resident = _non_permanent(desa)
    link = linking.identity_link(
        user=citizen,
        nik=resident.nik,
        kk_number="",
        birth_date=resident.birth_date,
        mother_name="ibu tamu",
    )
    assert link.non_permanent_resident == resident


def test_non_permanent_resident_must_give_the_kk_when_one_is_recorded(citizen, desa) -> None:
    resident = _non_permanent(desa, kk_number="3404010201200001")
    details = {"nik": resident.nik, "birth_date": resident.birth_date, "mother_name": "IBU TAMU"}
    with pytest.raises(LinkFailed):
        linking.identity_link(user=citizen, kk_number="", **details)
    link = linking.identity_link(user=citizen, kk_number="3404010201200001", **details)
    assert link.non_permanent_resident == resident


# Lock-out


def test_linking_is_locked_for_an_hour_when_five_attempts_failed(citizen) -> None:
    resident = resident_create()
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(5):
            _fail(citizen, resident, 1, nik=UNKNOWN_NIK)
            clock.shift(datetime.timedelta(minutes=5))
        latest_failure = T0 + datetime.timedelta(minutes=20)
        # Correct details are refused too while the account is locked, and not evaluated.
        with pytest.raises(LinkLocked) as caught:
            linking.identity_link(user=citizen, **_details(resident))
        assert caught.value.locked_until == latest_failure + datetime.timedelta(hours=1)
        when = formats.date_format(timezone.localtime(caught.value.locked_until), "DATETIME_FORMAT")
        assert when in str(caught.value.message)
        clock.move_to(latest_failure + datetime.timedelta(minutes=59))
        with pytest.raises(LinkLocked):
            linking.identity_link(user=citizen, **_details(resident))
        assert not ResidentLink.objects.exists()
        assert LinkAttempt.objects.filter(user=citizen, succeeded=False).count() == 5
        clock.move_to(latest_failure + datetime.timedelta(hours=1, seconds=1))
        link = linking.identity_link(user=citizen, **_details(resident))
    assert link.permanent_resident == resident


def test_sixth_attempt_is_refused_when_locked_even_with_correct_details(citizen) -> None:
    resident = resident_create()
    _fail(citizen, resident, 5)
    with pytest.raises(LinkLocked):
        linking.identity_link(user=citizen, **_details(resident))
    assert not ResidentLink.objects.filter(user=citizen).exists()


def test_lock_is_logged_without_personal_data_when_a_locked_account_tries(citizen, caplog) -> None:
    resident = resident_create()
    _fail(citizen, resident, 5)
    with caplog.at_level(logging.WARNING, logger="citizens.linking"), pytest.raises(LinkLocked):
        linking.identity_link(user=citizen, **_details(resident))
    assert "locked" in caplog.text and resident.nik not in caplog.text


def test_failures_older_than_an_hour_do_not_count_when_deciding_the_lock(citizen) -> None:
    resident = resident_create()
    with time_machine.travel(T0, tick=False) as clock:
        _fail(citizen, resident, 4, nik=UNKNOWN_NIK)
        clock.shift(datetime.timedelta(minutes=61))
        _fail(citizen, resident, 1, nik=UNKNOWN_NIK)
        link = linking.identity_link(user=citizen, **_details(resident))
    assert link.permanent_resident == resident


def test_one_new_failure_does_not_lock_again_when_the_lock_has_expired(citizen) -> None:
    resident = resident_create()
    with time_machine.travel(T0, tick=False) as clock:
        _fail(citizen, resident, 4, nik=UNKNOWN_NIK)
        clock.shift(datetime.timedelta(minutes=1))
        _fail(citizen, resident, 1)
        clock.shift(datetime.timedelta(hours=1, minutes=1))
        _fail(citizen, resident, 1, nik=UNKNOWN_NIK)
        link = linking.identity_link(user=citizen, **_details(resident))
    assert link.permanent_resident == resident


def test_record_stays_open_online_when_its_failures_are_spread_over_more_than_a_day(
    citizen,
) -> None:
    resident = resident_create()
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(4):
            _fail(UserFactory(role=Role.CITIZEN), resident, 1)
        clock.shift(datetime.timedelta(hours=24, minutes=1))
        _fail(UserFactory(role=Role.CITIZEN), resident, 1)
        link = linking.identity_link(user=citizen, **_details(resident))
    assert link.permanent_resident == resident


def test_tries_left_count_the_account_and_the_address_when_the_page_opens(citizen) -> None:
    resident = resident_create()
    _fail(citizen, resident, 2, nik=UNKNOWN_NIK)
    assert linking.link_tries_left(user=citizen) == 3
    _fail(citizen, resident, 3, nik=UNKNOWN_NIK)
    assert linking.link_tries_left(user=citizen) == 0


def test_lock_is_per_account_when_another_account_failed(citizen) -> None:
    resident = resident_create()
    other = UserFactory(role=Role.CITIZEN)
    _fail(other, resident, 5, nik=UNKNOWN_NIK)
    assert linking.identity_link(user=citizen, **_details(resident)).permanent_resident == resident


# One NIK, one account


def test_nik_is_refused_when_already_linked_to_another_account(citizen) -> None:
    resident = resident_create()
    linking.identity_link(user=citizen, **_details(resident))
    second = UserFactory(role=Role.CITIZEN)
    with pytest.raises(AlreadyLinked):
        linking.identity_link(user=second, **_details(resident))
    # Without all four details nobody learns that the resident has an account.
    with pytest.raises(LinkFailed):
        linking.identity_link(user=second, **_details(resident, mother_name="TEBAK"))
    assert ResidentLink.objects.get(permanent_resident=resident).user == citizen


def test_account_is_refused_when_it_is_already_linked(citizen) -> None:
    first = resident_create()
    second = resident_create(family=first.family, full_name="ANAK UJI", relation=4)
    linking.identity_link(user=citizen, **_details(first))
    with pytest.raises(AccountAlreadyLinked):
        linking.identity_link(user=citizen, **_details(second))
    assert ResidentLink.objects.get(user=citizen).permanent_resident == first


def test_officer_account_is_refused_when_it_tries_to_link_itself(operator_desa) -> None:
    resident = resident_create()
    with pytest.raises(LinkNotAllowed):
        linking.identity_link(user=operator_desa, **_details(resident))


# In-person confirmation by a village operator


def test_operator_confirms_a_link_when_the_resident_lives_in_their_desa(
    operator_desa, citizen, verified_email
) -> None:
    resident = resident_create(family=family_create(desa=operator_desa.jurisdiction_desa))
    verified_email(citizen)
    link = linking.identity_link_confirm_in_person(
        operator=operator_desa, user=citizen, resident=resident
    )
    assert link.user == citizen and link.permanent_resident == resident
    assert link.confirmed_by == operator_desa


def test_operator_confirms_a_link_when_online_linking_is_locked(
    operator_desa, citizen, verified_email
) -> None:
    resident = resident_create(family=family_create(desa=operator_desa.jurisdiction_desa))
    _fail(citizen, resident, 5)
    verified_email(citizen)
    link = linking.identity_link_confirm_in_person(
        operator=operator_desa, user=citizen, resident=resident
    )
    assert link.confirmed_by == operator_desa


def test_operator_confirmation_is_refused_when_the_resident_lives_elsewhere(
    operator_desa, citizen, verified_email, other_desa
) -> None:
    resident = resident_create(family=family_create(desa=other_desa))
    verified_email(citizen)
    with pytest.raises(LinkNotAllowed):
        linking.identity_link_confirm_in_person(
            operator=operator_desa, user=citizen, resident=resident
        )
    assert not ResidentLink.objects.exists()


def test_in_person_confirmation_is_refused_when_the_officer_is_not_a_village_operator(
    officer_kecamatan, verifier, citizen, verified_email
) -> None:
    resident = resident_create()  # inside the kecamatan officer's jurisdiction
    verified_email(citizen)
    for officer in [officer_kecamatan, verifier]:
        with pytest.raises(LinkNotAllowed):
            linking.identity_link_confirm_in_person(
                operator=officer, user=citizen, resident=resident
            )
    assert not ResidentLink.objects.exists()


def test_operator_confirmation_is_refused_when_the_citizen_email_is_unverified(
    operator_desa, citizen
) -> None:
    resident = resident_create(family=family_create(desa=operator_desa.jurisdiction_desa))
    with pytest.raises(LinkNotAllowed):
        linking.identity_link_confirm_in_person(
            operator=operator_desa, user=citizen, resident=resident
        )


def test_operator_confirmation_is_refused_when_the_resident_is_already_linked(
    operator_desa, citizen, verified_email
) -> None:
    resident = resident_create(family=family_create(desa=operator_desa.jurisdiction_desa))
    linking.identity_link(user=citizen, **_details(resident))
    second = verified_email(UserFactory(role=Role.CITIZEN))
    with pytest.raises(AlreadyLinked):
        linking.identity_link_confirm_in_person(
            operator=operator_desa, user=second, resident=resident
        )


def test_operator_cannot_link_another_officer_account_when_confirming(
    operator_desa, verified_email
) -> None:
    resident = resident_create(family=family_create(desa=operator_desa.jurisdiction_desa))
    analyst = verified_email(UserFactory(role=Role.ANALYST))
    with pytest.raises(LinkNotAllowed):
        linking.identity_link_confirm_in_person(
            operator=operator_desa, user=analyst, resident=resident
        )


# The citizen's link page


def _english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def _form(resident, **overrides) -> dict:
    details = _details(resident, **overrides)
    details["birth_date"] = details["birth_date"].isoformat()
    return details


def test_anonymous_visitor_is_sent_to_login_when_opening_the_link_pages(client) -> None:
    resident = resident_create()
    for url in [reverse("linking:link"), reverse("linking:link_confirm")]:
        for response in [client.get(url), client.post(url, _form(resident))]:
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("account_login"))
            assert resident.nik not in response["Location"]
    assert not LinkAttempt.objects.exists()


def test_link_page_shows_a_posted_form_with_a_date_input_when_opened(client, citizen) -> None:
    client.force_login(citizen)
    html = client.get(reverse("linking:link")).text
    assert 'method="post"' in html and 'type="date"' in html
    assert 'for="id_nik"' in html and 'for="id_mother_name"' in html
    assert "<script" not in html and "style=" not in html


def test_citizen_is_sent_to_my_data_when_the_link_page_succeeds(client, citizen) -> None:
    resident = resident_create()
    client.force_login(citizen)
    _english(client)
    response = client.post(reverse("linking:link"), _form(resident), follow=True)
    assert response.redirect_chain[-1][0] == reverse("mydata:overview")
    assert "now linked" in response.text
    assert ResidentLink.objects.get(user=citizen).permanent_resident == resident


def test_link_page_shows_the_generic_message_when_a_detail_is_wrong(client, citizen) -> None:
    resident = resident_create()
    client.force_login(citizen)
    _english(client)
    response = client.post(reverse("linking:link"), _form(resident, mother_name="SALAH"))
    assert response.status_code == 200
    assert "do not match the population register" in response.text
    assert not ResidentLink.objects.exists()


def test_link_page_shows_the_lock_when_five_attempts_failed(client, citizen) -> None:
    resident = resident_create()
    _fail(citizen, resident, 5)
    client.force_login(citizen)
    _english(client)
    response = client.post(reverse("linking:link"), _form(resident))
    assert "Too many failed attempts" in response.text
    assert not ResidentLink.objects.exists()


def test_linked_citizen_is_sent_to_my_data_when_opening_the_link_page(client, citizen) -> None:
    resident = resident_create()
    linking.identity_link(user=citizen, **_details(resident))
    client.force_login(citizen)
    response = client.get(reverse("linking:link"))
    assert response.status_code == 302 and response["Location"] == reverse("mydata:overview")


# The operator's page


def _confirm_form(citizen, resident, *, checked: bool = True) -> dict:
    data = {"email": citizen.email.upper(), "nik": resident.nik}
    if checked:
        data["checked_in_person"] = "on"
    return data


def test_operator_page_links_the_account_when_the_documents_were_checked(
    client, operator_desa, citizen, verified_email
) -> None:
    resident = resident_create(family=family_create(desa=operator_desa.jurisdiction_desa))
    verified_email(citizen)
    client.force_login(operator_desa)
    url = reverse("linking:link_confirm")
    assert 'method="post"' in client.get(url).text
    response = client.post(url, _confirm_form(citizen, resident))
    assert response.status_code == 302 and resident.nik not in response["Location"]
    assert ResidentLink.objects.get(user=citizen).confirmed_by == operator_desa


def test_operator_page_refuses_when_the_in_person_check_is_not_ticked(
    client, operator_desa, citizen, verified_email
) -> None:
    resident = resident_create(family=family_create(desa=operator_desa.jurisdiction_desa))
    verified_email(citizen)
    client.force_login(operator_desa)
    response = client.post(
        reverse("linking:link_confirm"), _confirm_form(citizen, resident, checked=False)
    )
    assert response.status_code == 200
    assert not ResidentLink.objects.exists()


def test_operator_page_answers_alike_when_the_nik_is_foreign_or_unknown(
    client, operator_desa, citizen, verified_email, other_desa
) -> None:
    foreign = resident_create(family=family_create(desa=other_desa), full_name="WARGA LAIN")
    verified_email(citizen)
    client.force_login(operator_desa)
    _english(client)
    url = reverse("linking:link_confirm")
    on_foreign = client.post(url, _confirm_form(citizen, foreign)).text
    unknown = {"email": citizen.email, "nik": "3306064505900999", "checked_in_person": "on"}
    on_unknown = client.post(url, unknown).text
    message = "No resident with this NIK is registered in your village."
    assert message in on_foreign and message in on_unknown
    assert "WARGA LAIN" not in on_foreign
    assert not ResidentLink.objects.exists()


def test_operator_page_is_forbidden_when_the_user_is_not_a_village_operator(
    client, citizen, officer_kecamatan, verifier
) -> None:
    for user in [citizen, officer_kecamatan, verifier]:
        client.force_login(user)
        assert client.get(reverse("linking:link_confirm")).status_code == 403


def test_operator_page_requires_totp_when_the_operator_has_not_enrolled(
    client, officer_without_totp
) -> None:
    client.force_login(officer_without_totp)
    response = client.get(reverse("linking:link_confirm"))
    assert response.status_code == 302 and response["Location"] == reverse("invitation_required")
