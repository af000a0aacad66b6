"""Population statistics: counts per village refreshed from the registry into `StatCell`
(aggregate queries only), read per page within the reader's jurisdiction, with small-number
suppression for analysts and for every download.

Suppression (`protect`, the one rule for the pages, CSV, API and reports): counts from 1 to
threshold - 1 are hidden, and then more cells, so that no hidden count can be worked out from
a total and the visible cells of its row or column (complementary suppression). A derived
figure (an average, a share, a bar's length) is shown only when every count it rests on is.

Refreshing scans the registry once per dimension (seconds for 770,000 residents); the pages
then sum a few hundred cells, so they stay fast at any filter.
"""

import datetime
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
from citizens.models import NonPermanentResident, PermanentResident, StatCell, User

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
    return len(cells)


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


def scope_for(user: User, *, kecamatan_id: int | None, desa_id: int | None) -> Scope:
    """The reader's jurisdiction narrowed to a kecamatan or desa; analysts see suppressed
    figures. A filter outside the jurisdiction (or unknown) raises LookupError."""
    from citizens.models import Desa, Kecamatan

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
    return Scope(desa_q=q, label=label, suppress=policy.statistics_suppressed(user))


def scope_published(*, kecamatan_code: str = "", desa_code: str = "") -> Scope:
    """The regency, a kecamatan or a village by code, always suppressed: what leaves the
    portal (the institutions' statistics API). An unknown code raises LookupError."""
    from citizens.models import Desa, Kecamatan

    q, label = Q(), ""
    if desa_code:
        desa = Desa.objects.select_related("kecamatan").filter(code=desa_code).first()
        if desa is None:
            raise LookupError(desa_code)
        q, label = Q(desa_id=desa.pk), f"{desa.name}, {desa.kecamatan.name}"
    elif kecamatan_code:
        kecamatan = Kecamatan.objects.filter(code=kecamatan_code).first()
        if kecamatan is None:
            raise LookupError(kecamatan_code)
        q, label = Q(desa__kecamatan_id=kecamatan.pk), str(kecamatan.name)
    return Scope(desa_q=q, label=label, suppress=True)


def filter_choices(user: User) -> tuple[list[Any], list[Any]]:
    """The kecamatan and villages the user may pick (within their statistics area)."""
    from citizens.models import Desa, Kecamatan

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


def published(value: int, scope: Scope, *, suppress: bool | None = None) -> int | None:
    """A count on its own as published: None when it is under the threshold and must be
    suppressed. Counts in a table go through `protect`, which also hides the complements."""
    hide = scope.suppress if suppress is None else suppress
    return None if hide and 0 < value < scope.threshold else value


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
    is hidden instead, and a line whose total is hidden needs nothing more."""
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
            if not secret or (len(secret) >= 2 and sum(secret) >= len(secret) + threshold - 1):
                continue
            total = totals.get(number)
            if total is not None and hidden[total]:
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
        grid = [list(values) for _label, values in pairs]
        hidden = (
            protect(grid, threshold=scope.threshold, rows_add_up=rows_add_up)
            if _hides(scope, suppress)
            else [[False] * len(row) for row in grid]
        )
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
    pairs = [(labels.get(key, key or "-"), [n]) for key, n in sums.items() if n]
    pairs.sort(key=lambda pair: -pair[1][0])
    return _rows(pairs, scope, suppress=suppress)


def _choice_labels(codes: type[Any]) -> dict[str, str]:
    return {str(value): str(label) for value, label in codes.choices}


def population_tables(scope: Scope, *, suppress: bool | None = None) -> list[Table]:
    """Age pyramid by sex, permanent against non-permanent, families and their size."""
    ages = _sums(scope, "age_sex")
    pyramid = []
    for start in reversed(AGE_GROUPS):
        label = f"{start}+" if start == AGE_TOP else f"{start}-{start + AGE_STEP - 1}"
        pyramid.append(
            (
                label,
                [
                    ages.get(f"{choices.Sex.MALE}:{start}", 0),
                    ages.get(f"{choices.Sex.FEMALE}:{start}", 0),
                ],
            )
        )
    by_registry: dict[str, int] = {
        str(registry): sum(_sums(scope, "age_sex", registry).values())
        for registry in (choices.Registry.PERMANENT, choices.Registry.NON_PERMANENT)
    }
    family = _sums(scope, "family")
    families, members = family.get("families", 0), family.get("members", 0)
    status = _rows(
        [
            (str(choices.Registry.PERMANENT.label), [by_registry["permanent"]]),
            (str(choices.Registry.NON_PERMANENT.label), [by_registry["non_permanent"]]),
        ],
        scope,
        suppress=suppress,
    )
    # Members are the permanent residents: hidden with them. Families and members do not add
    # up, so each is hidden on its own count; the average only when both are shown.
    members_hidden = status[0].values[0] is None
    families_hidden = published(families, scope, suppress=suppress) is None
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
            _rows(pyramid, scope, suppress=suppress, rows_add_up=True),
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


def published_areas(areas: Sequence[Sequence[Table]], *, threshold: int) -> list[list[Table]]:
    """The same page for an area (first) and its parts (the rest: its kecamatan or
    villages), counted in full, as published side by side in one file: `protect_lines` over
    every table's own lines and over each cell across the parts (their sum is the area's
    figure). Members are hidden with the permanent count; notes are left out."""
    values: list[int] = []
    where: dict[tuple[int, str, str, int], int] = {}
    lines: list[list[int]] = []
    for a, tables in enumerate(areas):
        for table in tables:
            grid: list[list[int]] = []
            for row in table.rows:
                grid.append([])
                for c, value in enumerate(row.values):
                    where[(a, table.name, row.label, c)] = len(values)
                    grid[-1].append(len(values))
                    values.append(value or 0)
            if table.name == "families":
                continue
            lines += [[row[c] for row in grid] for c in range(len(table.columns))]
            if table.chart == "pyramid":
                lines += grid
    across: dict[tuple[str, str, int], list[int]] = {}
    for (a, name, label, c), index in where.items():
        if a and (name, label) != ("families", str(_("Members"))):
            across.setdefault((name, label, c), []).append(index)
    links, totals = [], {}
    for (name, label, c), line in across.items():
        parts = [index for index in line if values[index]]
        whole = where.get((0, name, label, c))
        if len(parts) > 1:
            if whole is not None:
                totals[len(lines)] = whole
            lines.append(parts)
        elif parts and whole is not None:
            links.append([parts[0], whole])  # the only non-empty part is the area's figure
    hidden = protect_lines(values, lines, threshold=threshold, links=links, totals=totals)
    members, permanent = str(_("Members")), str(choices.Registry.PERMANENT.label)
    published_tables = []
    for a, tables in enumerate(areas):
        shown = []
        for table in tables:
            mask = [
                [hidden[where[(a, table.name, row.label, c)]] for c in range(len(row.values))]
                for row in table.rows
            ]
            if table.name == "families":
                mask = [
                    [hidden[where[(a, "status", permanent, 0)]]] if row.label == members else hides
                    for row, hides in zip(table.rows, mask, strict=True)
                ]
            pairs = [(row.label, [v or 0 for v in row.values]) for row in table.rows]
            rows = _rows(pairs, Scope(desa_q=Q(), threshold=threshold), suppress=True, hidden=mask)
            shown.append(Table(table.name, table.title, table.columns, rows, chart=table.chart))
        published_tables.append(shown)
    return published_tables


PAGES: Mapping[str, tuple[Promise, Callable[..., list[Table]]]] = {
    "population": (_("Population"), population_tables),
    "biodata": (_("Religion, education, occupation"), biodata_tables),
    "non_permanent": (_("Non-permanent residents"), non_permanent_tables),
}


def computed_at() -> datetime.datetime | None:
    return StatCell.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()
