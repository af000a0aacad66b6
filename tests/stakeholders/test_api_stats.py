"""The statistics API: the same tables as the pages, small counts always hidden, only for
institutions whose authority includes reading statistics."""

import pytest
from django.urls import reverse

from citizens import statistics
from stakeholders.choices import InstitutionKind
from stakeholders.models import FieldAuthority
from tests.factories import family_create, non_permanent_create, resident_create
from tests.stakeholders.apikit import auth, issue_key
from tests.stakeholders.conftest import institution_with_agreements


@pytest.fixture
def counted(desa):
    family = family_create(desa=desa)
    for _ in range(7):
        resident_create(family=family)
    for _ in range(2):
        non_permanent_create(desa=desa)
    statistics.statistics_refresh()


@pytest.fixture
def statistics_office(db):
    return institution_with_agreements(
        name="BPS Kabupaten Purworejo", kind=InstitutionKind.STATISTICS_OFFICE
    )


def _get(client, key, page, **query):
    return client.get(reverse("api:statistics", args=[page]), query, **auth(key))


def test_statistics_office_reads_every_page_with_small_counts_hidden(
    client, counted, statistics_office, admin_of
) -> None:
    key = issue_key(statistics_office, admin_of(statistics_office))
    for page in statistics.PAGES:
        response = _get(client, key, page)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["suppression_threshold"] == 5
        values = [v for t in body["tables"] for row in t["rows"] for v in row["values"]]
        assert values and all(v is None or v == 0 or v >= 5 for v in values)
    status = {
        row["label"]: row["values"]
        for table in _get(client, key, "population").json()["tables"]
        if table["name"] == "status"
        for row in table["rows"]
    }
    # 2 non-permanent hidden, and the 7 permanent with them (the total would give the 2 away)
    assert list(status.values()) == [[None], [None]]


def test_area_filters_by_code_and_an_unknown_code_is_refused(
    client, counted, statistics_office, admin_of, desa, other_desa
) -> None:
    key = issue_key(statistics_office, admin_of(statistics_office))
    here = _get(client, key, "population", kode_desa=desa.code).json()
    assert here["area"].startswith(desa.name)
    elsewhere = _get(client, key, "population", kode_kecamatan=other_desa.kecamatan.code).json()
    counts = [v for t in elsewhere["tables"] for row in t["rows"] for v in row["values"]]
    assert not any(counts)
    response = _get(client, key, "population", kode_desa="9999999999")
    assert (response.status_code, response.json()["code"]) == (404, "unknown_area")
    assert _get(client, key, "nope").status_code == 404


def test_institution_without_the_statistics_right_is_refused(
    client, counted, university, admin_of, statistics_office
) -> None:
    key = issue_key(university, admin_of(university))
    response = _get(client, key, "population")
    assert (response.status_code, response.json()["code"]) == (403, "no_statistics_authority")
    FieldAuthority.objects.filter(institution=statistics_office, field="statistics").update(
        read=False
    )
    key = issue_key(statistics_office, admin_of(statistics_office))
    assert _get(client, key, "population").status_code == 403


def test_expired_agreement_stops_the_statistics_too(client, counted, admin_of) -> None:
    import datetime

    from django.utils import timezone

    office = institution_with_agreements(
        name="BPS lama",
        kind=InstitutionKind.STATISTICS_OFFICE,
        valid_until=timezone.localdate() - datetime.timedelta(days=1),
    )
    key = issue_key(office, admin_of(office))
    assert _get(client, key, "population").status_code == 403
