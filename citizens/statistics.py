"""Population statistics: counts per village refreshed from the registry into `StatCell`
(aggregate queries only), read per page within the reader's jurisdiction, with small-number
suppression for analysts and for every download.

Suppression (`protect_lines`, the one rule for the pages, CSV, API and reports): counts from
1 to threshold - 1 are hidden, and then more cells, so that no hidden count can be worked out
from a total and the visible cells of its row or column (complementary suppression), nor from
a larger area's figure and the visible figures of its other parts. The pattern is chosen at
refresh for the regency, every kecamatan and every village at once (`hierarchy_hidden`) and
stored (`StatHidden`), so every view of every area hides the same cells. A derived figure (an
average, a share, a bar's length) is shown only when every count it rests on is.

Refreshing scans the registry once per dimension (seconds for 770,000 residents); the pages
then sum a few hundred cells, so they stay fast at any filter.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from stdnum import numdb

from citizens import choices, policy
from citizens.models import (
    Desa,
    NonPermanentResident,
    PermanentResident,
    StatCell,
    StatHidden,
    User,
)

AGE_STEP = 5
AGE_TOP = 75  # the last group is "75 and over"
AGE_GROUPS = tuple(range(0, AGE_TOP + 1, AGE_STEP))

# Dimensions read from a field of both registries: dimension -> (field, code list).
_CODED: Mapping[str, tuple[str, type[Any]]] = {
    "religion": ("religion", choices.Religion),
    "education": ("education", choices.Education),
    "occupation": ("occupation", choices.Occupation),
    "marital": ("marital_status", choices.MaritalStatus),
}


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age_group(as_of: datetime.date) -> Case:
    """The five-year age group on `as_of`, computed in SQL from the birth date."""
    return Case(
        *(
            When(birth_date__gt=_years_before(as_of, start + AGE_STEP), then=Value(start))
            for start in AGE_GROUPS[:-1]
        ),
        default=Value(AGE_TOP),
        output_field=IntegerField(),
    )


def _living_permanent() -> QuerySet[PermanentResident]:
    return PermanentResident.objects.filter(
        life_status=choices.LifeStatus.ALIVE, closed_at__isnull=True
    )


def _current_non_permanent(as_of: datetime.date) -> QuerySet[NonPermanentResident]:
    return NonPermanentResident.objects.filter(
        life_status=choices.LifeStatus.ALIVE,
        closed_at__isnull=True,
        start_date__lte=as_of,
        expected_end_date__gte=as_of,
    )


@transaction.atomic
def statistics_refresh(*, as_of: datetime.date | None = None) -> int:
    """Recount every published cell from the registry: living permanent residents and
    non-permanent residents whose stay is current, per village. Returns the cells written."""
    as_of = as_of or timezone.localdate()
    now = timezone.now()
    cells: list[StatCell] = []

    def add(registry: str, dimension: str, rows: Iterable[Mapping[str, Any]], desa: str) -> None:
        for row in rows:
            cells.append(
                StatCell(
                    desa_id=row[desa],
                    registry=registry,
                    dimension=dimension,
                    key=str(row["key"] if row["key"] is not None else ""),
                    count=row["n"],
                    computed_at=now,
                )
            )

    registries: tuple[tuple[str, QuerySet[Any], str], ...] = (
        (choices.Registry.PERMANENT, _living_permanent(), "family__desa"),
        (choices.Registry.NON_PERMANENT, _current_non_permanent(as_of), "domicile_desa"),
    )
    for registry, residents, desa in registries:
        ages = (
            residents.annotate(age=_age_group(as_of))
            .values(desa, "sex", "age")
            .annotate(n=Count("id"))
        )
        for row in ages:
            row["key"] = f"{row['sex']}:{row['age']}"
        add(registry, "age_sex", ages, desa)
        for dimension, (name, _codes) in _CODED.items():
            add(
                registry,
                dimension,
                residents.values(desa, key=F(name)).annotate(n=Count("id")),
                desa,
            )
    current = _current_non_permanent(as_of)
    non_permanent = choices.Registry.NON_PERMANENT
    add(
        non_permanent,
        "purpose",
        current.values("domicile_desa", key=F("purpose")).annotate(n=Count("id")),
        "domicile_desa",
    )
    add(
        non_permanent,
        "origin",
        current.annotate(key=Substr("origin_region_code", 1, 2))
        .values("domicile_desa", "key")
        .annotate(n=Count("id")),
        "domicile_desa",
    )
    add(
        non_permanent,
        "host",
        current.values("domicile_desa", key=F("host_institution")).annotate(n=Count("id")),
        "domicile_desa",
    )
    for row in (
        _living_permanent()
        .values("family__desa")
        .annotate(families=Count("family", distinct=True), members=Count("id"))
    ):
        for key in ("families", "members"):
            add(
                choices.Registry.PERMANENT,
                "family",
                [{"family__desa": row["family__desa"], "key": key, "n": row[key]}],
                "family__desa",
            )
    StatCell.objects.all().delete()
    StatCell.objects.bulk_create(cells, batch_size=2000)
    StatHidden.objects.all().delete()
    StatHidden.objects.bulk_create(_hidden_pattern(cells), batch_size=2000)
    return len(cells)


# One suppression pattern over the whole area hierarchy.

CODED_TABLES = (*_CODED, "purpose", "origin", "host")
MARKER = "*"  # StatHidden.table of the row that marks an area's pattern as computed

Cells = dict[tuple[str, int], int]  # (row key, column) -> count, one table of one area


def area_tables(cells: Iterable[StatCell]) -> dict[str, Cells]:
    """The published tables of an area as counts by (row key, column), from its StatCells:
    the same sums the pages make (`population_tables`, `biodata_tables`,
    `non_permanent_tables`), keyed by code instead of label."""
    tables: dict[str, Cells] = defaultdict(lambda: defaultdict(int))
    for cell in cells:
        if cell.dimension == "age_sex":
            sex, start = cell.key.split(":")
            tables["pyramid"][(start, 0 if sex == f"{choices.Sex.MALE}" else 1)] += cell.count
            tables["status"][(str(cell.registry), 0)] += cell.count
        elif cell.dimension == "family":
            tables["families"][(cell.key, 0)] += cell.count
        elif cell.dimension in CODED_TABLES:
            tables[cell.dimension][(cell.key, 0)] += cell.count
    return tables


def _own_lines(table: str, positions: Mapping[tuple[str, int], int]) -> list[list[int]]:
    """The lines of one area's table whose totals are taken as known: each column, and each
    row of the age pyramid. Families and members do not add up (no line)."""
    if table == "families":
        return []
    lines: dict[tuple[str, Any], list[int]] = defaultdict(list)
    for (key, column), position in positions.items():
        lines[("column", column)].append(position)
        if table == "pyramid":
            lines[("row", key)].append(position)
    return list(lines.values())


def hierarchy_hidden(
    areas: Mapping[str, Mapping[str, Cells]], parents: Mapping[str, str], *, threshold: int
) -> set[tuple[str, str, str, int]]:
    """Which cells (area, table, row key, column) to hide, for every area of the hierarchy
    at once: `protect_lines` over each area's own lines and, for every table cell, over the
    same cell of an area's parts (the villages of a kecamatan, the kecamatan of the regency),
    whose total is the area's own cell. So a hidden count can be worked out neither from its
    area's table nor from the parent's figure minus the visible siblings, nor a hidden
    parent's figure from its parts. `parents` maps each area but the top one to its parent.
    Members are the permanent residents (hidden together); an area with a single non-empty
    part has that part's figures (hidden together)."""
    groups = [("pyramid",), ("status", "families"), *((name,) for name in CODED_TABLES)]
    hidden: set[tuple[str, str, str, int]] = set()
    children: dict[str, list[str]] = defaultdict(list)
    for area, parent in parents.items():
        children[parent].append(area)
    for group in groups:
        values: list[int] = []
        where: dict[tuple[str, str, str, int], int] = {}
        lines: list[list[int]] = []
        for area, tables in areas.items():
            for table in group:
                positions = {}
                for (key, column), value in tables.get(table, {}).items():
                    if value:
                        positions[(key, column)] = where[(area, table, key, column)] = len(values)
                        values.append(value)
                lines += _own_lines(table, positions)
        pairs: list[tuple[int, int]] = []  # positions that hold the same figure
        totals: dict[int, int] = {}
        for parent, parts in children.items():
            for (area, table, key, column), whole in list(where.items()):
                if area != parent:
                    continue
                line = [
                    where[(part, table, key, column)]
                    for part in parts
                    if (part, table, key, column) in where
                ]
                if len(line) == 1:
                    pairs.append((line[0], whole))
                elif line:
                    totals[len(lines)] = whole
                    lines.append(line)
        for area in areas:
            members, permanent = (area, "families", "members", 0), (area, "status", "permanent", 0)
            if members in where and permanent in where:
                pairs.append((where[members], where[permanent]))
        mask = protect_lines(
            values, lines, threshold=threshold, links=_joined(pairs), totals=totals
        )
        hidden |= {cell for cell, position in where.items() if mask[position]}
    return hidden


def _joined(pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Groups of positions holding the same figure, from pairs (union-find)."""
    root: dict[int, int] = {}

    def find(position: int) -> int:
        while root.setdefault(position, position) != position:
            root[position] = root[root[position]]
            position = root[position]
        return position

    for a, b in pairs:
        root[find(a)] = find(b)
    groups: dict[int, list[int]] = defaultdict(list)
    for position in list(root):
        groups[find(position)].append(position)
    return [group for group in groups.values() if len(group) > 1]


def _hidden_pattern(cells: Sequence[StatCell]) -> list[StatHidden]:
    """The pattern to store: `hierarchy_hidden` over the regency (""), every kecamatan and
    every village, plus one marker row per area."""
    villages = {
        pk: (code, kecamatan)
        for pk, code, kecamatan in Desa.objects.values_list("pk", "code", "kecamatan__code")
    }
    by_area: dict[str, list[StatCell]] = defaultdict(list)
    for cell in cells:
        code, kecamatan = villages[cell.desa_id]
        for area in ("", kecamatan, code):
            by_area[area].append(cell)
    parents = {code: kecamatan for code, kecamatan in villages.values()}
    parents |= {kecamatan: "" for _code, kecamatan in villages.values()}
    areas = {area: area_tables(area_cells) for area, area_cells in by_area.items()}
    hidden = hierarchy_hidden(
        areas,
        {area: parent for area, parent in parents.items() if area in areas},
        threshold=settings.STATS_SUPPRESSION_THRESHOLD,
    )
    marked = {"", *parents}
    return [
        StatHidden(area=area, table=table, key=key, column=column)
        for area, table, key, column in sorted(hidden)
    ] + [StatHidden(area=area, table=MARKER, key="") for area in sorted(marked)]


# Reading.


@dataclass(frozen=True)
class Row:
    label: str
    values: tuple[int | None, ...]  # None: suppressed (fewer than the threshold)
    shares: tuple[float, ...] = ()  # each value as a percentage of the table's largest

    @property
    def share(self) -> float:
        return self.shares[0] if self.shares else 0.0


@dataclass(frozen=True)
class Table:
    name: str
    title: Promise | str
    columns: tuple[Promise | str, ...]
    rows: tuple[Row, ...]
    chart: str = "bars"  # "bars" or "pyramid"
    note: Promise | str = ""


@dataclass
class Scope:
    """Which villages a page counts: the reader's jurisdiction, narrowed by the filter."""

    desa_q: Q
    label: str = ""
    suppress: bool = False
    threshold: int = field(default_factory=lambda: settings.STATS_SUPPRESSION_THRESHOLD)
    area: str | None = None  # the regency (""), a kecamatan's or village's code; None: other


def _area(desa_ids: set[int]) -> str | None:
    """The area whose villages these are exactly: the regency (""), a kecamatan or a
    village (its code); None for any other set."""
    villages = list(Desa.objects.values_list("pk", "code", "kecamatan__code"))
    if desa_ids == {pk for pk, _code, _kecamatan in villages}:
        return ""
    if len(desa_ids) == 1:
        return next(code for pk, code, _kecamatan in villages if pk in desa_ids)
    kecamatan = {kecamatan for pk, _code, kecamatan in villages if pk in desa_ids}
    if len(kecamatan) == 1:
        (code,) = kecamatan
        if desa_ids == {pk for pk, _code, other in villages if other == code}:
            return code
    return None


def scope_for(user: User, *, kecamatan_id: int | None, desa_id: int | None) -> Scope:
    """The reader's jurisdiction narrowed to a kecamatan or desa; analysts see suppressed
    figures. A filter outside the jurisdiction (or unknown) raises LookupError."""
    from citizens.models import Kecamatan

    q = policy.statistics_area(user, field="desa")
    label = ""
    if desa_id is not None:
        desa = Desa.objects.select_related("kecamatan").filter(pk=desa_id).first()
        if desa is None or not policy.statistics_covers(user, desa):
            raise LookupError(desa_id)
        q &= Q(desa_id=desa.pk)
        label = f"{desa.name}, {desa.kecamatan.name}"
    elif kecamatan_id is not None:
        kecamatan = Kecamatan.objects.filter(pk=kecamatan_id).first()
        if kecamatan is None or not any(
            policy.statistics_covers(user, desa) for desa in kecamatan.villages.all()
        ):
            raise LookupError(kecamatan_id)
        q &= Q(desa__kecamatan_id=kecamatan.pk)
        label = str(kecamatan.name)
    villages = {
        desa.pk
        for desa in Desa.objects.only("pk", "kecamatan_id")
        if policy.statistics_covers(user, desa)
        and (desa_id is None or desa.pk == desa_id)
        and (kecamatan_id is None or desa.kecamatan_id == kecamatan_id)
    }
    return Scope(
        desa_q=q, label=label, suppress=policy.statistics_suppressed(user), area=_area(villages)
    )


def scope_published(*, kecamatan_code: str = "", desa_code: str = "") -> Scope:
    """The regency, a kecamatan or a village by code, always suppressed: what leaves the
    portal (the institutions' statistics API). An unknown code raises LookupError."""
    from citizens.models import Kecamatan

    q, label, area = Q(), "", ""
    if desa_code:
        desa = Desa.objects.select_related("kecamatan").filter(code=desa_code).first()
        if desa is None:
            raise LookupError(desa_code)
        q, label, area = Q(desa_id=desa.pk), f"{desa.name}, {desa.kecamatan.name}", desa.code
    elif kecamatan_code:
        kecamatan = Kecamatan.objects.filter(code=kecamatan_code).first()
        if kecamatan is None:
            raise LookupError(kecamatan_code)
        q, label = Q(desa__kecamatan_id=kecamatan.pk), str(kecamatan.name)
        area = kecamatan.code
    return Scope(desa_q=q, label=label, suppress=True, area=area)


def filter_choices(user: User) -> tuple[list[Any], list[Any]]:
    """The kecamatan and villages the user may pick (within their statistics area)."""
    from citizens.models import Kecamatan

    villages = [
        desa
        for desa in Desa.objects.select_related("kecamatan").order_by("kecamatan__name", "name")
        if policy.statistics_covers(user, desa)
    ]
    kecamatan_ids = {desa.kecamatan_id for desa in villages}
    return list(Kecamatan.objects.filter(pk__in=kecamatan_ids).order_by("name")), villages


def _sums(scope: Scope, dimension: str, registry: str | None = None) -> dict[str, int]:
    cells = StatCell.objects.filter(scope.desa_q, dimension=dimension)
    if registry is not None:
        cells = cells.filter(registry=registry)
    return {row["key"]: row["n"] for row in cells.values("key").annotate(n=Sum("count"))}


HIDDEN = "x"  # how every hidden count is printed: the same mark whatever the reason


def protect(
    grid: Sequence[Sequence[int]], *, threshold: int, rows_add_up: bool = False
) -> list[list[bool]]:
    """Which cells of a table of counts to hide (True): `protect_lines` over its columns, and
    its rows too when they add up (the age pyramid)."""
    flat = [value for row in grid for value in row]
    index, positions = 0, []
    for row in grid:
        positions.append(list(range(index, index + len(row))))
        index += len(row)
    width = max((len(row) for row in grid), default=0)
    lines = [[row[c] for row in positions if c < len(row)] for c in range(width)]
    if rows_add_up:
        lines += [row for row in positions if len(row) > 1]
    hidden = protect_lines(flat, lines, threshold=threshold)
    return [[hidden[i] for i in row] for row in positions]


def protect_lines(
    values: Sequence[int],
    lines: Sequence[Sequence[int]],
    *,
    threshold: int,
    links: Sequence[Sequence[int]] = (),
    totals: Mapping[int, int] | None = None,
) -> list[bool]:
    """Which counts to hide (True), given lines of positions whose totals are taken as known
    (they usually are, from another table, the status counts or a larger area).

    Primary: every count from 1 to threshold - 1. Complementary: each line with a hidden cell
    must hide at least two, adding up to at least their number + threshold - 1, so that each
    hidden cell could be anything from 1 to threshold or more; otherwise the smallest visible
    non-zero cell of the line is hidden too, preferring one that its other lines can cover
    (when none can, only as long as one hidden cell, or k hidden cells adding up to k, would
    be pinned). Repeated until nothing changes. Zero is never hidden (it is published and
    would protect nothing). A line without a non-zero cell left to hide has a total that is
    itself a small count, hidden wherever it is published. `links` are groups of positions
    holding the same figure (an area and its only non-empty part): hidden together.
    `totals` maps a line's number to the position of its total when that is a cell too (an
    area's figure over its parts): when no cell of the line can be hidden safely, the total
    is hidden instead, and a line whose total is hidden needs one hidden cell (else the total
    is the sum of its visible cells) and nothing more."""
    totals = totals or {}
    hidden = [0 < value < threshold for value in values]
    linked = {position: group for group in links for position in group}

    def hide(position: int) -> None:
        for other in linked.get(position, (position,)):
            hidden[other] = True

    for position in [i for i, secret in enumerate(hidden) if secret]:
        hide(position)
    crossing: dict[int, list[Sequence[int]]] = {}
    for line in lines:
        for position in line:
            crossing.setdefault(position, []).append(line)

    def coverable(position: int, line: Sequence[int]) -> bool:
        # Hiding this cell must not leave it alone in another of its lines with nothing
        # else (non-zero) there to hide beside it.
        return all(
            any(values[i] for i in other if i != position)
            for other in crossing[position]
            if other is not line
        )

    changed = True
    while changed:
        changed = False
        for number, line in enumerate(lines):
            secret = [values[i] for i in line if hidden[i]]
            total = totals.get(number)
            if total is not None and hidden[total]:
                if not secret:
                    candidates = sorted((values[i], i) for i in line if values[i])
                    wanted = [cell for cell in candidates if coverable(cell[1], line)] or candidates
                    if wanted:
                        hide(wanted[0][1])
                        changed = True
                continue
            if not secret or (len(secret) >= 2 and sum(secret) >= len(secret) + threshold - 1):
                continue
            candidates = sorted((values[i], i) for i in line if not hidden[i] and values[i])
            wanted = [cell for cell in candidates if coverable(cell[1], line)]
            if not wanted and (len(secret) == 1 or sum(secret) <= len(secret)):
                wanted = candidates if total is None else [(values[total], total)]
            if wanted:
                hide(wanted[0][1])
                changed = True
    return hidden


def _hides(scope: Scope, suppress: bool | None) -> bool:
    return scope.suppress if suppress is None else suppress


def _stored(scope: Scope, table: str) -> set[tuple[str, int]] | None:
    """The hidden cells (row key, column) of a table of the scope's area, as chosen at
    refresh for the whole hierarchy; None when the area has no stored pattern."""
    if scope.area is None:
        return None
    rows = StatHidden.objects.filter(area=scope.area, table__in=(table, MARKER))
    found = set(rows.values_list("table", "key", "column"))
    if (MARKER, "", 0) not in found:
        return None
    return {(key, column) for name, key, column in found if name == table}


def _mask(
    scope: Scope,
    table: str,
    keyed: Sequence[tuple[str, Sequence[int]]],
    *,
    suppress: bool | None,
    rows_add_up: bool = False,
) -> list[list[bool]]:
    """Which cells of a table (rows by key) to hide: none when not suppressing; else the
    area's stored pattern (`hierarchy_hidden`), or `protect` for an area without one."""
    grid = [list(values) for _key, values in keyed]
    if not _hides(scope, suppress):
        return [[False] * len(row) for row in grid]
    stored = _stored(scope, table)
    if stored is None:
        return protect(grid, threshold=scope.threshold, rows_add_up=rows_add_up)
    return [
        [(key, column) in stored or 0 < value < scope.threshold for column, value in enumerate(row)]
        for (key, _values), row in zip(keyed, grid, strict=True)
    ]


def _rows(
    pairs: Sequence[tuple[str, Sequence[int]]],
    scope: Scope,
    *,
    suppress: bool | None,
    rows_add_up: bool = False,
    hidden: Sequence[Sequence[bool]] | None = None,
) -> tuple[Row, ...]:
    """Rows as published: hidden cells None (`protect` unless a mask is given); bar lengths
    as a share of the largest visible count, so no bar measures a hidden one."""
    if hidden is None:
        hidden = _mask(scope, "", pairs, suppress=suppress, rows_add_up=rows_add_up)
    shown_rows = [
        tuple(None if hide else value for value, hide in zip(values, mask, strict=True))
        for (_label, values), mask in zip(pairs, hidden, strict=True)
    ]
    largest = max((v for shown in shown_rows for v in shown if v is not None), default=0) or 1
    return tuple(
        Row(
            label=label,
            values=shown,
            shares=tuple(0.0 if v is None else round(100 * v / largest, 1) for v in shown),
        )
        for (label, _values), shown in zip(pairs, shown_rows, strict=True)
    )


def _coded(
    scope: Scope, dimension: str, labels: Mapping[str, str], suppress: bool | None
) -> tuple[Row, ...]:
    sums = _sums(scope, dimension)
    keyed = sorted(((key, [n]) for key, n in sums.items() if n), key=lambda pair: -pair[1][0])
    pairs = [(labels.get(key, key or "-"), values) for key, values in keyed]
    hidden = _mask(scope, dimension, keyed, suppress=suppress)
    return _rows(pairs, scope, suppress=suppress, hidden=hidden)


def _choice_labels(codes: type[Any]) -> dict[str, str]:
    return {str(value): str(label) for value, label in codes.choices}


def population_tables(scope: Scope, *, suppress: bool | None = None) -> list[Table]:
    """Age pyramid by sex, permanent against non-permanent, families and their size."""
    ages = _sums(scope, "age_sex")
    pyramid, keyed = [], []
    for start in reversed(AGE_GROUPS):
        label = f"{start}+" if start == AGE_TOP else f"{start}-{start + AGE_STEP - 1}"
        counts = [
            ages.get(f"{choices.Sex.MALE}:{start}", 0),
            ages.get(f"{choices.Sex.FEMALE}:{start}", 0),
        ]
        pyramid.append((label, counts))
        keyed.append((str(start), counts))
    by_registry: dict[str, int] = {
        str(registry): sum(_sums(scope, "age_sex", registry).values())
        for registry in (choices.Registry.PERMANENT, choices.Registry.NON_PERMANENT)
    }
    family = _sums(scope, "family")
    families, members = family.get("families", 0), family.get("members", 0)
    registries = (choices.Registry.PERMANENT, choices.Registry.NON_PERMANENT)
    status = _rows(
        [(str(registry.label), [by_registry[str(registry)]]) for registry in registries],
        scope,
        suppress=suppress,
        hidden=_mask(
            scope,
            "status",
            [(str(registry), [by_registry[str(registry)]]) for registry in registries],
            suppress=suppress,
        ),
    )
    # Members are the permanent residents: hidden with them. Families and members do not add
    # up, so each is hidden on its own count (and across areas); the average only when both
    # are shown.
    members_hidden = status[0].values[0] is None
    [[families_hidden]] = _mask(scope, "families", [("families", [families])], suppress=suppress)
    note: Promise | str
    if families_hidden or members_hidden:
        note = _("Average family size: not shown, as a count it rests on is hidden.")
    else:
        average = f"{members / families:.2f}" if families else "-"
        note = _("Average family size: %(average)s") % {"average": average}
    return [
        Table(
            "pyramid",
            _("Population by sex and age group"),
            (_("Male"), _("Female")),
            _rows(
                pyramid,
                scope,
                suppress=suppress,
                hidden=_mask(scope, "pyramid", keyed, suppress=suppress, rows_add_up=True),
            ),
            chart="pyramid",
        ),
        Table("status", _("Permanent and non-permanent residents"), (_("Residents"),), status),
        Table(
            "families",
            _("Families (KK) and their members"),
            (_("Count"),),
            _rows(
                [(str(_("Families")), [families]), (str(_("Members")), [members])],
                scope,
                suppress=suppress,
                hidden=[[families_hidden], [members_hidden]],
            ),
            note=note,
        ),
    ]


def biodata_tables(scope: Scope, *, suppress: bool | None = None) -> list[Table]:
    """Religion, education, occupation and marital status of all residents counted."""
    titles = {
        "religion": _("Religion"),
        "education": _("Education"),
        "occupation": _("Occupation"),
        "marital": _("Marital status"),
    }
    return [
        Table(
            dimension,
            titles[dimension],
            (_("Residents"),),
            _coded(scope, dimension, _choice_labels(codes), suppress),
        )
        for dimension, (_name, codes) in _CODED.items()
    ]


def _province_labels(codes: Iterable[str]) -> dict[str, str]:
    labels = {}
    database = numdb.get("id/loc")
    for code in codes:
        info = database.info(code)[0][1] if code else {}
        labels[code] = f"{info.get('name_id', code)} ({code})" if info else code
    return labels


def non_permanent_tables(scope: Scope, *, suppress: bool | None = None) -> list[Table]:
    """Non-permanent residents by purpose of stay, origin province and host institution."""
    origins = _sums(scope, "origin")
    return [
        Table(
            "purpose",
            _("Non-permanent residents by purpose of stay"),
            (_("Residents"),),
            _coded(scope, "purpose", _choice_labels(choices.StayPurpose), suppress),
        ),
        Table(
            "origin",
            _("Non-permanent residents by province of origin"),
            (_("Residents"),),
            _coded(scope, "origin", _province_labels(origins), suppress),
        ),
        Table(
            "host",
            _("Non-permanent residents by host institution"),
            (_("Residents"),),
            _coded(scope, "host", {"": str(_("(none)"))}, suppress),
        ),
    ]


PAGES: Mapping[str, tuple[Promise, Callable[..., list[Table]]]] = {
    "population": (_("Population"), population_tables),
    "biodata": (_("Religion, education, occupation"), biodata_tables),
    "non_permanent": (_("Non-permanent residents"), non_permanent_tables),
}


def computed_at() -> datetime.datetime | None:
    return StatCell.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()
