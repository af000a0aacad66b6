"""Statistics disclosure: a hidden small count cannot be worked out from what is published.

Solver-free check, for every published table (analyst pages, CSV downloads, the statistics
API, the monthly and weekly reports) of the regency, the kecamatan and each village: in every
column (and every row of the age pyramid), taking the line's total as known, no hidden cell
equals the total minus the visible cells, and the hidden cells are not so few or so small that
each is pinned (k hidden cells adding up to k are all 1). The monthly file, which shows the
regency beside every kecamatan, is checked across the areas too. Members (the permanent residents)
are hidden with the permanent count; no average, rate, median or bar length is shown whose
base is hidden."""

import csv
import datetime
import io
import re
from collections import defaultdict

import pytest
from django.urls import reverse
from django.utils import translation

from citizens import statistics
from citizens.choices import Religion
from citizens.models import Kecamatan
from stakeholders.choices import InstitutionKind
from tests.factories import family_create, non_permanent_create, resident_create
from tests.stakeholders.apikit import auth, issue_key
from tests.stakeholders.conftest import admin_of, institution_with_agreements  # noqa: F401
from verification import reports
from verification.monitoring import Monitoring, Timing

pytestmark = pytest.mark.django_db

THRESHOLD = 5
AVERAGE = re.compile(r"\d+[.,]\d\d")
Published = dict[str, list[int | None]]


@pytest.fixture(autouse=True)
def _indonesian(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.STATS_SUPPRESSION_THRESHOLD = THRESHOLD
    with translation.override("id"):
        yield


@pytest.fixture
def counted(desa, other_desa):
    """`desa`: six families of five (27 Muslim, 3 Catholic), and two non-permanent residents
    (hidden beside 30 permanent: the regency and kecamatan totals would give them away).
    `other_desa`: two families of four ("Keluarga <5, Anggota 8, Rata-rata 4.00")."""
    for index in range(30):
        if index % 5 == 0:
            family = family_create(desa=desa)
        resident_create(
            family=family,
            religion=Religion.CATHOLIC if index < 3 else Religion.ISLAM,
            birth_date=datetime.date(1950 + index, 1 + index % 12, 10),
        )
    for _ in range(2):
        non_permanent_create(desa=desa)
    for index in range(8):
        if index % 4 == 0:
            family = family_create(desa=other_desa)
        resident_create(family=family, birth_date=datetime.date(1970 + index, 3, 3))
    statistics.statistics_refresh()


def _scopes(desa, other_desa) -> list[tuple[dict[str, str], dict[str, int]]]:
    """(API/report codes, page filter ids) of the regency, the kecamatan and each village."""
    return [
        ({}, {}),
        ({"kecamatan_code": desa.kecamatan.code}, {"kecamatan": desa.kecamatan_id}),
        ({"desa_code": desa.code}, {"desa": desa.pk}),
        ({"desa_code": other_desa.code}, {"desa": other_desa.pk}),
    ]


def _truth(page: str, codes: dict[str, str]) -> dict[str, statistics.Table]:
    _title, build = statistics.PAGES[page]
    return {t.name: t for t in build(statistics.scope_published(**codes), suppress=False)}


def _check_line(cells: list[tuple[int | None, int]], where: str) -> None:
    for shown, true in cells:
        assert shown is None or shown == true, where
    hidden = [true for shown, true in cells if shown is None]
    if not hidden:
        return
    total = sum(true for _shown, true in cells)
    if total < THRESHOLD:
        return  # the line's total is itself a small count (checked hidden in `status`)
    visible = sum(shown for shown, _true in cells if shown is not None)
    assert all(cell != total - visible for cell in hidden), (where, cells)
    assert sum(hidden) > len(hidden), (where, cells)  # else every hidden cell is 1


def _check_table(truth: statistics.Table, published: Published, where: str) -> None:
    rows = {row.label: list(row.values) for row in truth.rows}
    assert set(published) == set(rows), where
    for label, values in rows.items():
        for shown, true in zip(published[label], values, strict=True):
            if 0 < true < THRESHOLD:
                assert shown is None, (where, label)
    if truth.name == "families":
        return  # families and members do not add up; see _check_families
    for column in range(len(truth.columns)):
        _check_line(
            [(published[label][column], rows[label][column]) for label in rows],
            f"{where} column {column}",
        )
    if truth.chart == "pyramid":
        # An age group's total (male + female) is published nowhere; its row is checked
        # when it has two non-zero cells to hide (one alone may be another line's complement).
        for label in rows:
            if sum(1 for value in rows[label] if value) > 1:
                _check_line(
                    list(zip(published[label], rows[label], strict=True)), f"{where} {label}"
                )


def _check_families(tables: dict[str, Published], note: str | None, where: str) -> None:
    status, families = tables["status"], tables["families"]
    permanent, members = next(iter(status.values()))[0], list(families.values())[1][0]
    assert (permanent is None) == (members is None), where
    if note is not None and None in (members, next(iter(families.values()))[0]):
        assert not AVERAGE.search(note), (where, note)


def _check_page(page: str, codes: dict[str, str], tables: dict[str, Published], where: str):
    truth = _truth(page, codes)
    assert set(tables) == set(truth), where
    for name, table in truth.items():
        _check_table(table, tables[name], f"{where} {name}")


def test_analyst_pages_reveal_no_hidden_count_when_totals_are_known(
    client, counted, analyst, desa, other_desa
) -> None:
    client.force_login(analyst)
    for codes, filters in _scopes(desa, other_desa):
        for page, url in (
            ("population", "statistics:population"),
            ("biodata", "statistics:biodata"),
            ("non_permanent", "statistics:non_permanent"),
        ):
            response = client.get(reverse(url), filters, HTTP_ACCEPT_LANGUAGE="id")
            assert response.status_code == 200
            shown = response.context["tables"]
            tables = {t.name: {row.label: list(row.values) for row in t.rows} for t in shown}
            where = f"page {page} {filters}"
            _check_page(page, codes, tables, where)
            for table in shown:
                visible = [v for row in table.rows for v in row.values if v is not None]
                for row in table.rows:
                    for value, share in zip(row.values, row.shares, strict=True):
                        expected = 0.0 if value is None else round(100 * value / max(visible), 1)
                        assert share == expected, (where, table.name, row.label)
            if page == "population":
                note = str(next(t.note for t in shown if t.name == "families"))
                _check_families(tables, note, where)


def _read_csv(content: bytes) -> Published:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    return {
        row[0]: [int(cell) if cell.isdigit() else None for cell in row[1:]]
        for row in rows[1:]
        if len(row) > 1
    }


def test_csv_downloads_reveal_no_hidden_count_when_totals_are_known(
    client, counted, head, desa, other_desa
) -> None:
    client.force_login(head)  # downloads are suppressed whoever downloads them
    for codes, filters in _scopes(desa, other_desa):
        for page, url in (
            ("population", "statistics:population"),
            ("biodata", "statistics:biodata"),
            ("non_permanent", "statistics:non_permanent"),
        ):
            tables = {
                name: _read_csv(
                    client.get(
                        reverse(url), {**filters, "unduh": name}, HTTP_ACCEPT_LANGUAGE="id"
                    ).content
                )
                for name in _truth(page, codes)
            }
            _check_page(page, codes, tables, f"csv {page} {filters}")
            if page == "population":
                _check_families(tables, None, f"csv {filters}")


def test_statistics_api_reveals_no_hidden_count_when_totals_are_known(
    client,
    counted,
    desa,
    other_desa,
    admin_of,  # noqa: F811
) -> None:
    office = institution_with_agreements(
        name="BPS Kabupaten Purworejo", kind=InstitutionKind.STATISTICS_OFFICE
    )
    key = issue_key(office, admin_of(office))
    for codes, _filters in _scopes(desa, other_desa):
        query = {
            {"kecamatan_code": "kode_kecamatan", "desa_code": "kode_desa"}[name]: value
            for name, value in codes.items()
        }
        for page in statistics.PAGES:
            response = client.get(
                reverse("api:statistics", args=[page]),
                query,
                HTTP_ACCEPT_LANGUAGE="id",
                **auth(key),
            )
            assert response.status_code == 200, response.content
            body = response.json()["tables"]
            tables = {t["name"]: {r["label"]: r["values"] for r in t["rows"]} for t in body}
            _check_page(page, codes, tables, f"api {page} {query}")
            if page == "population":
                note = next(t["note"] for t in body if t["name"] == "families")
                _check_families(tables, note, f"api {query}")


def test_monthly_report_reveals_no_hidden_count_when_totals_are_known(
    counted, desa, other_desa
) -> None:
    report = reports.monthly_report_create(today=datetime.date(2026, 12, 1))
    with report.csv_file.open("rb") as handle:
        lines = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))
    found: dict[tuple[str, str], dict[str, dict[str, dict[str, int | None]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(dict))
    )
    for code, _area, page, table, label, column, count in (ln for ln in lines[1:] if len(ln) == 7):
        found[(code, page)][table][label][column] = int(count) if count else None
    areas = [("3306", {})] + [
        (code, {"kecamatan_code": code})
        for code in Kecamatan.objects.order_by("code").values_list("code", flat=True)
    ]
    for page in statistics.PAGES:
        # Each kecamatan's cell against the regency's: no hidden one is the difference.
        across: dict[tuple[str, str, int], list[tuple[int | None, int]]] = defaultdict(list)
        for code, codes in areas:
            truth = _truth(page, codes)
            tables = {
                name: {
                    label: [cells[str(column)] for column in truth[name].columns]
                    for label, cells in found[(code, page)][name].items()
                }
                for name in found[(code, page)]
            }
            for name in truth:
                tables.setdefault(name, {})
            _check_page(page, codes, tables, f"monthly {code} {page}")
            if page == "population":
                _check_families(tables, None, f"monthly {code}")
            if not codes:
                regency = tables
            else:
                for name, table in truth.items():
                    for row in table.rows:
                        for column, value in enumerate(row.values):
                            shown = tables[name][row.label][column]
                            across[(name, row.label, column)].append((shown, value or 0))
        for (name, label, column), cells in across.items():
            # The regency's figure is the total, when it is shown (else it may be hidden
            # instead of a kecamatan's cell).
            if regency[name][label][column] is not None:
                _check_line(cells, f"monthly across kecamatan {page} {name} {label} {column}")


def test_weekly_report_shows_no_rate_or_median_whose_base_is_hidden(counted) -> None:
    figures = Monitoring(
        weeks=[],
        channels={"Warga": 30, "Loket": 3},
        outcomes={"Setujui": 20, "Tolak": 1, "Kembalikan": 6},
        rates={"Setujui": 74.1, "Tolak": 3.7, "Kembalikan": 22.2},
        timings=[Timing("Desa", 24, 5.0, 9.0), Timing("Dukcapil", 2, 30.0, 41.0)],
        overdue_by_kecamatan=[("Purworejo", 12, 1), ("Bayan", 9, 7)],
        period_days=7,
    )
    sections = reports._weekly_sections(figures, statistics.scope_published())
    by_title = {title: rows for title, _columns, rows in sections}
    truths = (
        (figures.channels.values(), "Submissions by channel"),
        (figures.outcomes.values(), "Decisions by outcome"),
        ([t.decisions for t in figures.timings], "Time from arrival at a tier to the decision"),
    )
    for (values, title), (_title, _columns, rows) in zip(truths, sections, strict=False):
        _check_line(
            [(row[1], true) for row, true in zip(rows, values, strict=True)], f"weekly {title}"
        )
        for row in rows:
            if row[1] is None:
                assert all(cell in ("", None) for cell in row[2:]), (title, row)
    overdue = list(by_title.values())[3]
    for column in (1, 2):
        _check_line(
            [
                (row[column], true[column])
                for row, true in zip(overdue, figures.overdue_by_kecamatan, strict=True)
            ],
            f"weekly overdue {column}",
        )
    weekly = reports.weekly_report_create(today=datetime.date(2026, 12, 7))
    with weekly.csv_file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    blocks: dict[str, dict[str, list[str]]] = {}
    title = ""
    for row in csv.reader(io.StringIO(text)):
        if len(row) == 1:
            title = row[0]
        elif len(row) > 1 and title:
            blocks.setdefault(title, {})[row[0]] = row[1:]
    truth = _truth("population", {})
    tables: dict[str, Published] = {
        name: {
            row.label: [int(c) if c else None for c in blocks[str(table.title)][row.label]]
            for row in table.rows
        }
        for name, table in truth.items()
        if name != "pyramid"
    }
    for name in tables:
        _check_table(truth[name], tables[name], f"weekly {name}")
    _check_families(tables, None, "weekly")


def test_average_family_size_is_not_shown_when_its_families_count_is_hidden(
    counted, other_desa
) -> None:
    scope = statistics.scope_published(desa_code=other_desa.code)
    tables = {t.name: t for t in statistics.population_tables(scope, suppress=True)}
    families = {row.label: row.values for row in tables["families"].rows}
    assert list(families.values()) == [(None,), (8,)]  # two families, eight members
    assert not AVERAGE.search(str(tables["families"].note))
    unsuppressed = statistics.population_tables(scope, suppress=False)
    assert "4.00" in str(next(t.note for t in unsuppressed if t.name == "families"))


def test_protect_hides_a_complement_when_a_line_has_one_hidden_cell() -> None:
    assert statistics.protect([[30], [2], [0]], threshold=5) == [[True], [True], [False]]
    # Two hidden cells of 1 would each be pinned to 1: a third is hidden.
    assert statistics.protect([[1], [1], [9], [40]], threshold=5) == [
        [True],
        [True],
        [True],
        [False],
    ]
    # A 4 in a table whose rows and columns add up: the classic rectangle of four.
    assert statistics.protect([[4, 7, 20], [6, 9, 30]], threshold=5, rows_add_up=True) == [
        [True, True, False],
        [True, True, False],
    ]
