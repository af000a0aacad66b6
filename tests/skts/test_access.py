"""Who reaches what, tried with other people's ids in the URL."""

import csv
import io

import pytest
from django.urls import reverse

from citizens.models import ResidentLink
from skts import services
from skts.choices import LetterStatus
from skts.exceptions import NotYourResident
from submissions import kinds
from submissions.choices import Kind
from tests.factories import UserFactory, non_permanent_create
from tests.skts.conftest import HOST_NIK, make_institution_admin, rostered, stay

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter(holder_account, approve):
    user, resident = holder_account
    return approve(
        services.letter_request_create(
            actor=user, resident=resident, host_name="SITI PENJAMIN", host_nik=HOST_NIK
        ).submission
    )


@pytest.fixture
def institution_letter(desa, university, university_admin, approve):
    (resident,) = rostered(university, university_admin, desa, 1)
    result = services.letter_requests_create_many(
        actor=university_admin,
        institution=university,
        resident_ids=[resident.pk],
        host_name="KEPALA ASRAMA",
        host_nik=HOST_NIK,
    )
    return approve(result.created[0].submission)


def test_download_is_404_when_another_citizen_uses_the_letter_id(client, desa, letter) -> None:
    other = non_permanent_create(desa=desa, **stay())
    stranger = UserFactory()
    ResidentLink.objects.create(user=stranger, non_permanent_resident=other)
    client.force_login(stranger)
    assert client.get(reverse("skts:download", args=[letter.pk])).status_code == 404


@pytest.mark.parametrize("who", ["operator_desa", "verifier", "analyst", "citizen"])
def test_download_is_404_when_the_user_is_not_holder_or_institution_admin(
    client, request, letter, who
) -> None:
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("skts:download", args=[letter.pk])).status_code == 404


def test_download_redirects_to_login_when_anonymous(client, letter) -> None:
    response = client.get(reverse("skts:download", args=[letter.pk]))
    assert response.status_code == 302 and "/akun/" in response["Location"]


def test_institution_admin_downloads_when_the_letter_is_of_their_institution(
    client, institution_letter, university_admin
) -> None:
    client.force_login(university_admin)
    response = client.get(reverse("skts:download", args=[institution_letter.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_other_institution_admin_gets_404_when_using_the_letter_id(
    client, institution_letter, letter
) -> None:
    from tests.stakeholders.conftest import institution_with_agreements

    other = institution_with_agreements(name="PT Lain", kind="company")
    admin = make_institution_admin(other)
    client.force_login(admin)
    assert client.get(reverse("skts:download", args=[institution_letter.pk])).status_code == 404
    assert client.get(reverse("skts:download", args=[letter.pk])).status_code == 404
    response = client.post(
        reverse("skts:institution_download"), {"letters": [institution_letter.pk, letter.pk]}
    )
    assert response.status_code == 404


def test_institution_zip_leaves_out_letters_of_others_when_ids_are_mixed(
    client, institution_letter, letter, university_admin
) -> None:
    import zipfile

    client.force_login(university_admin)
    response = client.post(
        reverse("skts:institution_download"), {"letters": [institution_letter.pk, letter.pk]}
    )
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zipped:
        assert len(zipped.namelist()) == 1


def test_holder_cannot_download_when_the_letter_is_not_rendered_yet(
    client, holder_account, letter
) -> None:
    type(letter).objects.filter(pk=letter.pk).update(sha256="")
    client.force_login(holder_account[0])
    assert client.get(reverse("skts:download", args=[letter.pk])).status_code == 404


def test_institution_cannot_request_when_the_resident_is_not_on_its_roster(
    holder_account, university, university_admin
) -> None:
    _user, resident = holder_account
    with pytest.raises(NotYourResident):
        services.letter_requests_create_many(
            actor=university_admin,
            institution=university,
            resident_ids=[resident.pk],
            host_name="KEPALA ASRAMA",
            host_nik=HOST_NIK,
        )


def test_resident_leaves_the_roster_when_the_host_institution_changes(
    desa, university, university_admin
) -> None:
    from citizens.choices import ChangeSource
    from citizens.services import record_update
    from skts.selectors import institution_residents

    (resident,) = rostered(university, university_admin, desa, 1)
    assert list(institution_residents(university)) == [resident]
    record_update(
        record=resident, changes={"host_institution": "Lain"}, source=ChangeSource.OFFICER
    )
    assert list(institution_residents(university)) == []


@pytest.mark.parametrize("name", ["skts:institution", "skts:register", "skts:register_csv"])
def test_pages_are_404_when_the_role_does_not_fit(client, citizen, name) -> None:
    client.force_login(citizen)
    assert client.get(reverse(name)).status_code == 404


def test_revoke_is_404_when_posted_by_a_village_operator(client, operator_desa, letter) -> None:
    client.force_login(operator_desa)
    response = client.post(reverse("skts:revoke", args=[letter.pk]), {"reason": "x"})
    assert response.status_code == 404
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ISSUED


def test_register_lists_filters_and_exports_neutralised_csv_when_dukcapil_asks(
    client, verifier, letter, institution_letter
) -> None:
    client.force_login(verifier)
    page = client.get(reverse("skts:register"))
    assert letter.number in page.content.decode()
    assert institution_letter.number in page.content.decode()
    filtered = client.get(
        reverse("skts:register"), {"institution": institution_letter.institution_id}
    )
    assert letter.number not in filtered.content.decode()
    client.post(reverse("skts:revoke", args=[letter.pk]), {"reason": "=HYPERLINK(1)"})
    revoked = client.get(reverse("skts:register"), {"status": "revoked"}).content.decode()
    assert letter.number in revoked and institution_letter.number not in revoked
    type(letter.resident).objects.filter(pk=letter.resident_id).update(full_name="=cmd|x")
    response = client.get(reverse("skts:register_csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "nomor"
    assert len(rows) == 3
    assert any(row[2] == "'=cmd|x" for row in rows[1:])


def test_verify_page_shows_no_nik_or_address_and_is_404_when_the_token_is_unknown(
    client, letter
) -> None:
    page = client.get(reverse("skts:verify", args=[letter.token])).content.decode()
    resident = letter.resident
    for secret in (resident.nik, resident.domicile_address, resident.origin_address):
        assert secret not in page
    assert letter.number in page
    assert client.get(reverse("skts:verify", args=["tebakan"])).status_code == 404
    assert (
        client.get(reverse("skts:verify", args=[letter.number.replace("/", "-")])).status_code
        == 404
    )


def test_verify_page_answers_429_in_indonesian_when_an_address_checks_too_often(
    client, settings, letter
) -> None:
    settings.SKTS_VERIFY_RATE_PER_MINUTE = 3
    url = reverse("skts:verify", args=[letter.token])
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    text = response.content.decode()
    assert "Terlalu banyak" in text or "Too many letters were checked" in text


def test_skts_kind_is_hidden_when_citizens_pick_a_submission_kind() -> None:
    assert kinds.spec_get(Kind.SKTS) is None
    assert Kind.SKTS not in [spec.kind for spec in kinds.specs_for(assisted=False)]
    assert Kind.SKTS not in [spec.kind for spec in kinds.specs_for(assisted=True)]


def test_institution_download_is_logged_for_the_holder_when_the_admin_downloads(
    client, institution_letter, university_admin, university
) -> None:
    from citizens.choices import AccessPurpose
    from citizens.models import AccessLog

    client.force_login(university_admin)
    client.get(reverse("skts:download", args=[institution_letter.pk]))
    client.post(reverse("skts:institution_download"), {"letters": [institution_letter.pk]})
    rows = AccessLog.objects.filter(record_id=institution_letter.resident_id)
    assert [(r.purpose, r.actor_label) for r in rows] == [
        (AccessPurpose.INSTITUTION_READ, university.name)
    ] * 2
    assert institution_letter.number in rows[0].reason


def test_holder_download_is_not_logged_when_the_holder_downloads(
    client, holder_account, letter
) -> None:
    from citizens.models import AccessLog

    client.force_login(holder_account[0])
    assert client.get(reverse("skts:download", args=[letter.pk])).status_code == 200
    assert not AccessLog.objects.filter(record_id=letter.resident_id).exists()


def test_skts_form_is_404_when_a_citizen_tries_it_by_url(client, holder_account) -> None:
    client.force_login(holder_account[0])
    assert client.get(reverse("submissions:new", args=[Kind.SKTS])).status_code == 404
    assert (
        reverse("submissions:new", args=[Kind.SKTS])
        not in client.get(reverse("submissions:choose")).content.decode()
    )


def test_register_page_reads_in_a_fixed_number_of_queries_when_letters_pile_up(
    client, verifier, desa, university, university_admin, approve, django_assert_max_num_queries
) -> None:
    residents = rostered(university, university_admin, desa, 12)
    result = services.letter_requests_create_many(
        actor=university_admin,
        institution=university,
        resident_ids=[r.pk for r in residents],
        host_name="KEPALA ASRAMA",
        host_nik=HOST_NIK,
    )
    for created in result.created:
        approve(created.submission)
    client.force_login(verifier)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("skts:register"))
    assert page.content.decode().count("474.4/") == 12
