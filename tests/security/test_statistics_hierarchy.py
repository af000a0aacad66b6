"""Statistics across the area hierarchy: a hidden count cannot be worked out by subtracting
separately requested areas.

Solver-free check over what users get (the analysts' pages, the CSV downloads, the statistics
API), for every table, category and column: a kecamatan's figure minus its villages' visible
figures is no hidden village's count (and k hidden counts do not add up to k), and a hidden
kecamatan figure is not the sum of its villages' visible ones; the same for the regency
against its kecamatan."""

import csv
import datetime
import io
from collections.abc import Callable

import pytest
from django.urls import reverse
from django.utils import translation

from citizens import statistics
from citizens.choices import Religion
from citizens.models import Desa, Kecamatan
from stakeholders.choices import InstitutionKind
from tests.factories import family_create, non_permanent_create, resident_create
from tests.stakeholders.apikit import auth, issue_key
from tests.stakeholders.conftest import admin_of, institution_with_agreements  # noqa: F401

pytestmark = pytest.mark.django_db

THRESHOLD = 5
Tables = dict[str, dict[str, list[int | None]]]  # table -> category -> values (None: hidden)
Area = tuple[str, str]  # ("", "") for the regency, ("kecamatan", code) or ("desa", code)
Fetch = Callable[[str, Area], Tables]


@pytest.fixture(autouse=True)
def _indonesian(settings):
    settings.STATS_SUPPRESSION_THRESHOLD = THRESHOLD
    with translation.override("id"):
        yield


@pytest.fixture
def villages(desa, other_desa) -> list[Desa]:
    """Two villages of one kecamatan and one of another. `desa`: 27 Muslim and 3 Catholic
    residents, two non-permanent residents; the second village: 20 Muslim and 10 Catholic;
    `other_desa`: twelve residents and six non-permanent ones. Each area computed on its own,
    the kecamatan's 13 Catholics minus the second village's 10 give the first village's
    hidden 3, and the regency's 8 non-permanent residents minus the other kecamatan's 6 give
    the first kecamatan's hidden 2."""
    second = Desa.objects.filter(kecamatan=desa.kecamatan).exclude(pk=desa.pk).order_by("code")[0]
    for village, catholics, people in ((desa, 3, 30), (second, 10, 30), (other_desa, 0, 12)):
        for index in range(people):
            if index % 5 == 0:
                family = family_create(desa=village)
            resident_create(
                family=family,
                religion=Religion.CATHOLIC if index < catholics else Religion.ISLAM,
                birth_date=datetime.date(1950 + index, 1 + index % 12, 10),
            )
    for village, guests in ((desa, 2), (other_desa, 6)):
        for _ in range(guests):
            non_permanent_create(desa=village)
    statistics.statistics_refresh()
    return [desa, second, other_desa]


def _codes(area: Area) -> dict[str, str]:
    level, code = area
    return {f"{level}_code": code} if level else {}


def _truth(page: str, area: Area) -> dict[str, statistics.Table]:
    _title, build = statistics.PAGES[page]
    return {t.name: t for t in build(statistics.scope_published(**_codes(area)), suppress=False)}


def _check_parts(fetch: Fetch, page: str, whole: Area, parts: list[Area], where: str) -> None:
    """Each cell of `whole` against the same cell of its `parts` (whose sum it is)."""
    truth = _truth(page, whole)
    shown = fetch(page, whole)
    part_truths = [_truth(page, part) for part in parts]
    part_shown = [fetch(page, part) for part in parts]
    for name, table in truth.items():
        for row in table.rows:
            for column, true in enumerate(row.values):
                cells = []
                for part_truth, published in zip(part_truths, part_shown, strict=True):
                    values = {r.label: r.values for r in part_truth[name].rows}
                    true_part = (values.get(row.label) or [0] * (column + 1))[column] or 0
                    shown_part = published[name].get(row.label, [0] * (column + 1))[column]
                    assert shown_part is None or shown_part == true_part, (where, name, row)
                    cells.append((shown_part, true_part))
                assert sum(true_part for _shown, true_part in cells) == true, (where, name, row)
                hidden = [true_part for shown_part, true_part in cells if shown_part is None]
                visible = sum(shown_part for shown_part, _true in cells if shown_part is not None)
                figure = shown[name][row.label][column]
                cell = f"{where} {page} {name} {row.label} {column}: {figure} {cells}"
                if figure is None:
                    # A hidden figure is not the sum of its parts' visible figures.
                    assert true and true != visible, cell
                elif hidden:
                    assert all(part != figure - visible for part in hidden), cell
                    assert sum(hidden) > len(hidden), cell  # else every hidden part is 1


def _check_hierarchy(fetch: Fetch, villages: list[Desa], where: str) -> None:
    kecamatan = list(Kecamatan.objects.order_by("code").values_list("code", flat=True))
    for page in statistics.PAGES:
        _check_parts(fetch, page, ("", ""), [("kecamatan", code) for code in kecamatan], where)
        for code in sorted({village.kecamatan.code for village in villages}):
            parts = Desa.objects.filter(kecamatan__code=code).order_by("code")
            _check_parts(
                fetch,
                page,
                ("kecamatan", code),
                [("desa", part) for part in parts.values_list("code", flat=True)],
                where,
            )


def _filters(area: Area) -> dict[str, int]:
    level, code = area
    if level == "desa":
        return {"desa": Desa.objects.get(code=code).pk}
    if level == "kecamatan":
        return {"kecamatan": Kecamatan.objects.get(code=code).pk}
    return {}


URLS = {
    "population": "statistics:population",
    "biodata": "statistics:biodata",
    "non_permanent": "statistics:non_permanent",
}


def test_analyst_pages_reveal_no_hidden_count_when_areas_are_subtracted(
    client, villages, analyst
) -> None:
    client.force_login(analyst)

    def fetch(page: str, area: Area) -> Tables:
        response = client.get(reverse(URLS[page]), _filters(area), HTTP_ACCEPT_LANGUAGE="id")
        assert response.status_code == 200
        return {
            t.name: {row.label: list(row.values) for row in t.rows}
            for t in response.context["tables"]
        }

    _check_hierarchy(fetch, villages, "page")


def test_csv_downloads_reveal_no_hidden_count_when_areas_are_subtracted(
    client, villages, head
) -> None:
    client.force_login(head)

    def fetch(page: str, area: Area) -> Tables:
        tables: Tables = {}
        for name in _truth(page, ("", "")):
            response = client.get(
                reverse(URLS[page]), {**_filters(area), "unduh": name}, HTTP_ACCEPT_LANGUAGE="id"
            )
            rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
            tables[name] = {
                row[0]: [int(cell) if cell.isdigit() else None for cell in row[1:]]
                for row in rows[1:]
                if len(row) > 1
            }
        return tables

    _check_hierarchy(fetch, villages, "csv")


def test_statistics_api_reveals_no_hidden_count_when_areas_are_subtracted(
    client,
    villages,
    admin_of,  # noqa: F811
) -> None:
    office = institution_with_agreements(
        name="BPS Kabupaten Purworejo", kind=InstitutionKind.STATISTICS_OFFICE
    )
    key = issue_key(office, admin_of(office))

    def fetch(page: str, area: Area) -> Tables:
        level, code = area
        query = {f"kode_{level}": code} if level else {}
        response = client.get(
            reverse("api:statistics", args=[page]), query, HTTP_ACCEPT_LANGUAGE="id", **auth(key)
        )
        assert response.status_code == 200, response.content
        return {
            t["name"]: {r["label"]: r["values"] for r in t["rows"]}
            for t in response.json()["tables"]
        }

    _check_hierarchy(fetch, villages, "api")
