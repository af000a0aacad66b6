"""Hardening: no response that can carry personal data may be kept by a browser or a proxy.
Every page, download and API answer a signed-in user or an API key receives says
`Cache-Control: no-store` (and private); the cek data page keeps its own never-cache headers."""

import pytest
from django.urls import reverse

from skts import services as skts_services
from tests.factories import resident_create
from tests.skts.conftest import HOST_NIK, approve, holder_account  # noqa: F401 (fixtures)
from tests.stakeholders.apikit import auth, issue_key
from tests.stakeholders.conftest import (  # noqa: F401 (fixtures)
    admin_of,
    education_office,
    institution_admin,
)

pytestmark = pytest.mark.django_db


def assert_no_store(response, what: str) -> None:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    assert "no-store" in directives, (what, response.status_code, response.get("Cache-Control"))
    assert "public" not in directives, what


@pytest.fixture
def letter(request, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    user, resident = request.getfixturevalue("holder_account")
    letter_request = skts_services.letter_request_create(
        actor=user, resident=resident, host_name="SITI PENJAMIN", host_nik=HOST_NIK
    )
    return request.getfixturevalue("approve")(letter_request.submission), user


def test_officer_pages_and_downloads_are_not_stored_when_a_verifier_reads_them(
    client, verifier, letter
):
    """The letter is there so the SKTS register and its CSV list one."""
    resident = resident_create(full_name="SITI TERSIMPAN")
    client.force_login(verifier)
    urls = [
        reverse("officer_home"),
        reverse("citizens:resident_list"),
        reverse("citizens:resident_detail", args=[resident.pk]),
        reverse("statistics:population"),
        reverse("statistics:population") + "?unduh=families",
        reverse("statistics:biodata"),
        reverse("statistics:quality"),
        reverse("skts:register"),
        reverse("skts:register_csv"),
        reverse("verification:queue"),
        reverse("verification:dashboard"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_store(response, url)
    response = client.post(reverse("citizens:resident_list"), {"nik": resident.nik})
    assert_no_store(response, "NIK search")


def test_citizen_pages_and_letter_are_not_stored_when_the_holder_reads_them(client, letter):
    skts_letter, holder = letter
    client.force_login(holder)
    for url in (
        reverse("home"),
        reverse("skts:mine"),
        reverse("skts:download", args=[skts_letter.pk]),
        reverse("submissions:list"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_store(response, url)


def test_api_answers_are_not_stored_when_an_api_key_reads_them(client, request):
    key = issue_key(
        request.getfixturevalue("education_office"), request.getfixturevalue("institution_admin")
    )
    resident = resident_create(full_name="SITI API")
    lookup = client.post(
        reverse("api:resident_lookup"),
        {"nik": resident.nik},
        content_type="application/json",
        **auth(key),
    )
    assert_no_store(lookup, "lookup")
    for name in ("api:export_csv", "api:export_xlsx", "api:changes", "api:webhooks"):
        response = client.get(reverse(name), **auth(key))
        assert response.status_code == 200, name
        assert_no_store(response, name)


def test_cek_data_page_keeps_its_never_cache_headers_when_the_middleware_runs(client, citizen):
    client.force_login(citizen)
    response = client.get(reverse("mydata:overview"))
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_public_verification_page_is_not_stored_when_anyone_opens_it(client, letter):
    response = client.get(reverse("skts:verify", args=[letter[0].token]))
    assert response.status_code == 200
    assert_no_store(response, "verify")
