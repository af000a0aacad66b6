"""Identity-link brute force (issue #16, item 1).

The four secrets are printed on the KK card and NIK+KK pairs circulate in leaks, so failures
are counted per target record (its NIK's blind index) across all accounts, per IP address and
per account. A record that reached its limit is closed to online linking for good: only the
village operator of its desa links it, in person. Its owner sees the failed attempts once
linked; an operator moves a wrongly held link with a reason, audited.
"""

import datetime
import threading

import pytest
import time_machine
from django.db import connections
from django.urls import reverse

from citizens import crypto, linking
from citizens.choices import AccessPurpose, Role
from citizens.exceptions import LinkFailed, RegistryError
from citizens.models import AccessLog, AuditEntry, LinkAttempt, ResidentLink
from tests.factories import UserFactory, family_create, resident_create

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
UNKNOWN_NIK = "3306064505900999"  # valid, not registered
ATTACKER_ADDRESS = "203.0.113.7"
OTHER_ADDRESS = "198.51.100.20"
# The Indonesian texts a citizen reads (Indonesian is the default language).
CLOSED = "Penghubungan daring untuk data ini ditutup"
LINKED_ELSEWHERE = (
    "Data ini terhubung dengan akun lain: silakan hubungi kantor desa/kelurahan Anda."
)
MISMATCH = "Data ini tidak sesuai dengan data kependudukan."
FAILED_ON_LOG = "Percobaan gagal menghubungkan akun dengan data ini"


def _details(resident, **overrides) -> dict:
    details = {
        "nik": resident.nik,
        "kk_number": resident.family.kk_number,
        "birth_date": resident.birth_date,
        "mother_name": resident.mother_name,
    }
    details.update(overrides)
    return details


def _form(resident, **overrides) -> dict:
    details = _details(resident, **overrides)
    details["birth_date"] = details["birth_date"].isoformat()
    return details


def _citizen():
    return UserFactory(role=Role.CITIZEN)


def _attack(resident, *, accounts: int = 11, guesses: int = 5) -> None:
    """Fresh accounts, each guessing the mother's name until its own lock-out."""
    for _ in range(accounts):
        attacker = _citizen()
        for guess in range(guesses):
            with pytest.raises(RegistryError):
                linking.identity_link(
                    user=attacker, **_details(resident, mother_name=f"IBU TEBAKAN {guess}")
                )


# The 11-account attack


def test_twelfth_account_cannot_link_when_eleven_accounts_guessed_five_times_each() -> None:
    resident = resident_create()
    _attack(resident)
    twelfth = _citizen()
    with pytest.raises(RegistryError) as caught:
        linking.identity_link(user=twelfth, **_details(resident))
    assert str(caught.value.message).startswith(CLOSED)
    assert not ResidentLink.objects.exists()
    # Only the record's limit of guesses was ever evaluated, whatever the number of accounts.
    assert LinkAttempt.objects.filter(succeeded=False).count() == 5


def test_record_stays_closed_to_online_linking_when_its_failures_are_a_week_old() -> None:
    resident = resident_create()
    with time_machine.travel(T0, tick=False) as clock:
        # One guess per account, so no account is locked: only the record's count closes it.
        _attack(resident, accounts=5, guesses=1)
        clock.shift(datetime.timedelta(days=7))
        with pytest.raises(RegistryError):
            linking.identity_link(user=_citizen(), **_details(resident))
    assert not ResidentLink.objects.exists()


def test_link_page_says_linking_is_closed_when_the_record_reached_its_limit(client) -> None:
    resident = resident_create()
    _attack(resident, accounts=5, guesses=1)
    client.force_login(_citizen())
    response = client.post(reverse("linking:link"), _form(resident))
    assert response.status_code == 200 and CLOSED in response.text
    assert "Tidak ada sisa percobaan untuk saat ini." in response.text
    assert not ResidentLink.objects.exists()


def test_unknown_nik_is_closed_alike_when_it_reached_the_limit(client) -> None:
    """The closure is counted by blind index, so it says nothing about the NIK existing."""
    resident = resident_create()
    for _ in range(5):
        with pytest.raises(RegistryError):
            linking.identity_link(
                user=_citizen(), **_details(resident, nik=UNKNOWN_NIK, mother_name="SALAH")
            )
    client.force_login(_citizen())
    response = client.post(reverse("linking:link"), _form(resident, nik=UNKNOWN_NIK))
    assert CLOSED in response.text


def test_failed_attempts_store_the_target_and_address_only_as_blind_indexes(client) -> None:
    resident = resident_create()
    client.force_login(_citizen())
    client.post(
        reverse("linking:link"), _form(resident, mother_name="SALAH"), REMOTE_ADDR=ATTACKER_ADDRESS
    )
    attempt = LinkAttempt.objects.get()
    assert attempt.target_index == resident.nik_index
    assert attempt.ip_index == crypto.blind_index(ATTACKER_ADDRESS, purpose="link-ip")
    assert resident.nik not in attempt.target_index


# Per IP address


def test_linking_is_paused_for_an_address_when_several_accounts_failed_from_it(
    client, settings
) -> None:
    settings.LINK_IP_MAX_FAILURES = 3
    guessed = resident_create(full_name="SITI DITEBAK")
    mine = resident_create(full_name="WARGA LAIN")
    url = reverse("linking:link")
    for _ in range(3):  # one failure per account: no account and no record reaches its limit
        client.force_login(_citizen())
        client.post(url, _form(guessed, mother_name="SALAH"), REMOTE_ADDR=ATTACKER_ADDRESS)
    assert LinkAttempt.objects.filter(succeeded=False).count() == 3
    newcomer = _citizen()
    client.force_login(newcomer)
    refused = client.post(url, _form(mine), REMOTE_ADDR=ATTACKER_ADDRESS)
    assert refused.status_code == 200 and "Terlalu banyak percobaan yang gagal" in refused.text
    assert not ResidentLink.objects.filter(user=newcomer).exists()
    linked = client.post(url, _form(mine), REMOTE_ADDR=OTHER_ADDRESS)
    assert linked.status_code == 302
    assert ResidentLink.objects.get(user=newcomer).permanent_resident == mine


# The page tells how many tries are left


def test_link_page_says_how_many_tries_are_left_alike_for_registered_and_unknown_niks(
    client,
) -> None:
    resident = resident_create()
    for nik in [resident.nik, UNKNOWN_NIK]:  # two failures by others against each
        for _ in range(2):
            with pytest.raises(LinkFailed):
                linking.identity_link(
                    user=_citizen(), **_details(resident, nik=nik, mother_name="SALAH")
                )
    url = reverse("linking:link")
    client.force_login(_citizen())
    assert "Sisa 5 percobaan lagi." in client.get(url).text
    on_registered = client.post(url, _form(resident, mother_name="SALAH")).text
    client.force_login(_citizen())
    on_unknown = client.post(url, _form(resident, nik=UNKNOWN_NIK, mother_name="SALAH")).text
    for page in [on_registered, on_unknown]:
        assert "Sisa 2 percobaan lagi." in page
        assert MISMATCH in page


# The real owner, in person


def test_real_owner_links_in_person_when_online_linking_of_the_record_is_closed(
    operator_desa, verified_email
) -> None:
    resident = resident_create(family=family_create(desa=operator_desa.jurisdiction_desa))
    _attack(resident)
    owner = verified_email(_citizen())
    with pytest.raises(RegistryError):
        linking.identity_link(user=owner, **_details(resident))
    link = linking.identity_link_confirm_in_person(
        operator=operator_desa, user=owner, resident=resident
    )
    assert link.user == owner and link.confirmed_by == operator_desa
    entry = AuditEntry.objects.get(actor=operator_desa, record_id=resident.pk)
    assert entry.action == "link_confirm" and entry.nik_index == resident.nik_index


def test_owner_sees_the_failed_attempts_on_their_access_log_when_linked(client) -> None:
    resident = resident_create()
    attackers = [_citizen() for _ in range(3)]
    for attacker in attackers:
        with pytest.raises(LinkFailed):
            linking.identity_link(user=attacker, **_details(resident, mother_name="SALAH"))
    owner = _citizen()
    linking.identity_link(user=owner, **_details(resident))
    client.force_login(owner)
    page = client.get(reverse("mydata:overview")).text
    assert page.count(FAILED_ON_LOG) == 3
    for attacker in attackers:
        assert attacker.email not in page


def test_owner_sees_a_refused_attempt_when_another_account_gave_the_right_details(
    client,
) -> None:
    resident = resident_create()
    owner = _citizen()
    linking.identity_link(user=owner, **_details(resident))
    client.force_login(_citizen())
    response = client.post(reverse("linking:link"), _form(resident))
    assert response.status_code == 200 and LINKED_ELSEWHERE in response.text
    assert ResidentLink.objects.get(permanent_resident=resident).user == owner
    assert AccessLog.objects.filter(
        record_id=resident.pk, purpose=AccessPurpose.LINK_REFUSED
    ).exists()


def test_link_page_says_the_record_is_linked_elsewhere_only_when_the_details_match(
    client,
) -> None:
    resident = resident_create()
    linking.identity_link(user=_citizen(), **_details(resident))
    client.force_login(_citizen())
    guessed = client.post(reverse("linking:link"), _form(resident, mother_name="TEBAK")).text
    assert LINKED_ELSEWHERE not in guessed
    proven = client.post(reverse("linking:link"), _form(resident)).text
    assert LINKED_ELSEWHERE in proven


# Moving a link


def _linked_to_someone_else(desa):
    resident = resident_create(family=family_create(desa=desa))
    holder = _citizen()
    linking.identity_link(user=holder, **_details(resident))
    return resident, holder


def test_operator_moves_a_link_with_a_reason_and_the_move_is_audited(
    operator_desa, verified_email
) -> None:
    resident, holder = _linked_to_someone_else(operator_desa.jurisdiction_desa)
    owner = verified_email(_citizen())
    reason = "KTP dan KK pemilik dicek langsung; akun sebelumnya bukan miliknya"
    link = linking.resident_link_move(
        operator=operator_desa, resident=resident, to_user=owner, reason=reason
    )
    assert link.user == owner and link.confirmed_by == operator_desa
    assert ResidentLink.objects.get(permanent_resident=resident).user == owner
    assert not ResidentLink.objects.filter(user=holder).exists()
    entry = AuditEntry.objects.get(action="link_move")
    assert entry.actor == operator_desa and entry.record_id == resident.pk
    assert entry.nik_index == resident.nik_index and entry.detail == reason


def test_link_move_is_refused_when_the_operator_is_of_another_desa(
    operator_desa, other_desa, verified_email
) -> None:
    resident, holder = _linked_to_someone_else(other_desa)
    owner = verified_email(_citizen())
    with pytest.raises(RegistryError):
        linking.resident_link_move(
            operator=operator_desa, resident=resident, to_user=owner, reason="Dicek langsung"
        )
    assert ResidentLink.objects.get(permanent_resident=resident).user == holder
    assert not AuditEntry.objects.filter(action="link_move").exists()


def test_link_move_is_refused_when_no_reason_is_given(operator_desa, verified_email) -> None:
    resident, holder = _linked_to_someone_else(operator_desa.jurisdiction_desa)
    owner = verified_email(_citizen())
    with pytest.raises(RegistryError):
        linking.resident_link_move(
            operator=operator_desa, resident=resident, to_user=owner, reason="   "
        )
    assert ResidentLink.objects.get(permanent_resident=resident).user == holder
    assert not AuditEntry.objects.filter(action="link_move").exists()


def test_operator_page_moves_a_link_when_the_documents_were_checked(
    client, operator_desa, verified_email
) -> None:
    resident, _holder = _linked_to_someone_else(operator_desa.jurisdiction_desa)
    owner = verified_email(_citizen())
    client.force_login(operator_desa)
    url = reverse("linking:link_move")
    data = {
        "email": owner.email,
        "nik": resident.nik,
        "reason": "Dicek langsung",
        "checked_in_person": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302 and resident.nik not in response["Location"]
    assert ResidentLink.objects.get(permanent_resident=resident).user == owner
    assert AuditEntry.objects.get(action="link_move").detail == "Dicek langsung"


def test_link_move_page_is_forbidden_when_the_user_is_not_a_village_operator(
    client, officer_kecamatan, verifier
) -> None:
    url = reverse("linking:link_move")
    for user in [_citizen(), officer_kecamatan, verifier]:
        client.force_login(user)
        assert client.get(url).status_code == 403


# Parallel guesses (PostgreSQL: each thread on its own connection)

THREADS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_from_many_accounts_get_no_more_than_the_record_limit() -> None:
    resident = resident_create()
    attackers = [_citizen() for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    outcomes: list[object] = [None] * THREADS

    def guess(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            linking.identity_link(
                user=attackers[index], **_details(resident, mother_name=f"IBU TEBAKAN {index}")
            )
        except Exception as exc:  # reported by the assertions
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(outcome, RegistryError) for outcome in outcomes), outcomes
    assert LinkAttempt.objects.filter(succeeded=False).count() == 5
    with pytest.raises(RegistryError):
        linking.identity_link(user=_citizen(), **_details(resident))
    assert not ResidentLink.objects.exists()
