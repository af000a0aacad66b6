"""What an institution may read of the registry: one resident's readable elements, and the
change feed (approved changes after a cursor) limited to its readable elements.

Only elements in the institution's `readable_fields` (none without an agreement in force),
of residents in its scope (`selectors.residents_in_scope`, stakeholders.policy), ever leave
this module; values are text (codes as the registry stores them, dates ISO,
villages by their code) keyed by the catalogue's Indonesian column names.
"""

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from citizens.choices import ChangeSource, Registry
from citizens.models import AnyResident, Desa, NonPermanentResident, PermanentResident, RecordChange
from citizens.services import FAMILY_VILLAGE
from stakeholders import catalogue, policy, selectors
from stakeholders.models import Institution

MAX_PAGE = 500
DEFAULT_PAGE = 100
# Registries whose records are people with a NIK. A family card's move reaches the feed as
# each member's derived village change (citizens.services.FAMILY_VILLAGE).
PERSON_REGISTRIES: Mapping[str, type[AnyResident]] = {
    Registry.PERMANENT: PermanentResident,
    Registry.NON_PERMANENT: NonPermanentResident,
}
# Catalogue element -> the field name in a registry's change history, where they differ.
_HISTORY_FIELD: Mapping[str, Mapping[str, str]] = {
    Registry.NON_PERMANENT: {"desa": "domicile_desa"},
    # A permanent resident's village is their family card's (citizens.services.FAMILY_VILLAGE).
    Registry.PERMANENT: {"desa": FAMILY_VILLAGE},
}


def _settle_delay() -> datetime.timedelta:
    # A change's id is taken when it is inserted, but it becomes visible at commit: a feed
    # that returned the newest ids at once could move its cursor past a slower transaction's
    # smaller ids and skip them. Changes are served once they are this old.
    return datetime.timedelta(seconds=getattr(settings, "STAKEHOLDER_FEED_SETTLE_SECONDS", 30))


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _desa(resident: AnyResident) -> Desa:
    if isinstance(resident, PermanentResident):
        return resident.family.desa
    return resident.domicile_desa


def resident_values(resident: AnyResident, fields: Sequence[str]) -> dict[str, str]:
    """The resident's values of `fields` (readable registry fields), by column name."""
    values: dict[str, str] = {}
    for name in fields:
        element = catalogue.BY_FIELD[name]
        if name == "desa":
            values[element.column] = _desa(resident).code
        else:
            values[element.column] = _text(getattr(resident, name))
    return values


def resident_read(institution: Institution, nik_resident: AnyResident | None) -> dict[str, str]:
    """A resident as the institution may see it (empty: nothing readable, no resident, or a
    resident outside the institution's scope, which the caller cannot tell apart)."""
    fields = selectors.readable_fields(institution)
    if nik_resident is None or not fields:
        return {}
    if not selectors.resident_in_scope(institution, nik_resident):
        return {}
    return resident_values(nik_resident, fields)


@dataclass(frozen=True)
class FeedChange:
    id: int
    registry: str
    nik: str
    column: str
    value: str
    source: str
    changed_at: datetime.datetime


@dataclass(frozen=True)
class FeedPage:
    changes: list[FeedChange]
    next_cursor: int


def _history_fields(fields: Iterable[str]) -> dict[str, dict[str, str]]:
    """Per person registry: history field name -> catalogue element."""
    mapping: dict[str, dict[str, str]] = {}
    for registry in PERSON_REGISTRIES:
        renames = _HISTORY_FIELD.get(registry, {})
        mapping[registry] = {renames.get(name, name): name for name in fields}
    return mapping


def changes_after(
    institution: Institution, *, since: int = 0, limit: int = DEFAULT_PAGE
) -> FeedPage:
    """Approved changes (any source but the initial load) with an id above `since`, oldest
    first, to elements the institution may read, of residents in its scope today, with the
    person's NIK; at most `limit` (capped at MAX_PAGE). `next_cursor` is where the next
    page starts. Four queries: the changes, the NIKs of each registry, the village codes."""
    limit = max(1, min(limit, MAX_PAGE))
    readable = selectors.readable_fields(institution)
    scopes = selectors.read_scopes(institution)
    if not readable or not scopes:
        return FeedPage(changes=[], next_cursor=since)
    by_registry = _history_fields(readable)
    wanted = {name for names in by_registry.values() for name in names}
    scanned = list(
        RecordChange.objects.filter(
            id__gt=since,
            registry__in=list(PERSON_REGISTRIES),
            field__in=sorted(wanted),
            changed_at__lte=timezone.now() - _settle_delay(),
        )
        .filter(_in_scope(institution, scopes))
        .exclude(source=ChangeSource.SEED)
        .order_by("id")
        .only("id", "registry", "record_id", "field", "new_value", "source", "changed_at")[
            : limit * 2
        ]
    )
    # The same history field name means different things per registry only for renames;
    # a row whose field is not readable in its own registry is dropped here.
    rows = [row for row in scanned if row.field in by_registry[row.registry]][:limit]
    # A full page ends at its last change; a short one consumed everything scanned.
    full = len(rows) == limit
    cursor = rows[-1].id if full else (scanned[-1].id if scanned else since)
    niks = _niks(rows)
    desa_codes = _desa_codes(
        row.new_value for row in rows if by_registry[row.registry][row.field] == "desa"
    )
    changes = []
    for row in rows:
        element = catalogue.BY_FIELD[by_registry[row.registry][row.field]]
        nik = niks.get((row.registry, row.record_id))
        if nik is None:
            continue
        value = row.new_value
        if element.field == "desa":
            value = desa_codes.get(value, "")
        changes.append(
            FeedChange(
                id=row.id,
                registry=row.registry,
                nik=nik,
                column=element.column,
                value=value,
                source=row.source,
                changed_at=row.changed_at,
            )
        )
    return FeedPage(changes=changes, next_cursor=cursor)


def _in_scope(institution: Institution, scopes: list[policy.Scope]) -> Q:
    """Changes whose person is in the institution's scope: a subquery per registry, none
    when the scope is every resident."""
    if policy.covers_everyone(scopes):
        return Q()
    found = policy.NOBODY
    for registry, model in PERSON_REGISTRIES.items():
        people = selectors.residents_in_scope(institution, model, scopes=scopes)
        found |= Q(registry=registry, record_id__in=people.values("pk"))
    return found


def change_read(institution: Institution, change_id: int) -> FeedChange | None:
    """One change as the institution may see it now; None when it may not (any more)."""
    page = changes_after(institution, since=change_id - 1, limit=1)
    if page.changes and page.changes[0].id == change_id:
        return page.changes[0]
    return None


def _niks(rows: Sequence[RecordChange]) -> dict[tuple[str, int], str]:
    niks: dict[tuple[str, int], str] = {}
    for registry, model in PERSON_REGISTRIES.items():
        ids = {row.record_id for row in rows if row.registry == registry}
        if ids:
            found: Iterable[tuple[Any, Any]] = model.objects.filter(pk__in=ids).values_list(
                "pk", "nik"
            )
            niks.update({(registry, pk): nik for pk, nik in found})
    return niks


def _desa_codes(pks: Iterable[str]) -> dict[str, str]:
    wanted = {pk for pk in pks if pk.isdigit()}
    if not wanted:
        return {}
    return {
        str(pk): code
        for pk, code in Desa.objects.filter(pk__in=[int(pk) for pk in wanted]).values_list(
            "pk", "code"
        )
    }
