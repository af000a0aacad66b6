"""Whose records an institution may read: the population its purpose covers (UU 27/2022
art. 16, data minimisation). Which elements it reads is its field authority (selectors);
this module decides the rows. The selectors ask here, and the API lookup, the exports, the
change feed and the webhooks read only through them, so no URL reads outside the scope.

- A university or a company: the people on its own applied rosters (catalogue.ROSTER_KINDS):
  a non-permanent roster row it sent was applied for the NIK, the record still names it as
  host and the stay is open (the same rule as skts.selectors.institution_residents).
- Any other kind: the population its cooperation agreements (PKS) in force name, among
  catalogue.AGREEMENT_SCOPES for its kind: an age range on the day of reading, one village,
  or, only when a clause says so, every resident. No named population: nobody.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from citizens.models import NonPermanentResident, PermanentResident
from stakeholders import catalogue
from stakeholders.choices import InstitutionKind, ReadScope, RowOutcome, UploadFormat
from stakeholders.models import ExchangeRow, Institution

AnyResidentModel = type[PermanentResident] | type[NonPermanentResident]

# A filter that matches no row (Django answers it without a query).
NOBODY = Q(pk__in=[])
# Scopes that need the clause of the agreement naming them recorded.
CLAUSE_REQUIRED = frozenset({ReadScope.AGE, ReadScope.DESA, ReadScope.REGENCY})


@dataclass(frozen=True)
class Scope:
    """One population an institution may read."""

    kind: ReadScope
    min_age: int | None = None
    max_age: int | None = None
    desa_id: int | None = None
    clause: str = ""


def scope_allowed(kind: InstitutionKind, scope: ReadScope) -> bool:
    """May an agreement of an institution of this kind name this population? (Nobody is
    always allowed: it withdraws a scope.)"""
    return scope == ReadScope.NONE or scope in catalogue.AGREEMENT_SCOPES[kind]


def scopes_for(kind: InstitutionKind, agreement_scopes: Iterable[Scope]) -> list[Scope]:
    """The populations an institution with agreements in force reads, given the scopes its
    PKS in force name (the caller asks only while exchange is allowed)."""
    if kind in catalogue.ROSTER_KINDS:
        return [Scope(ReadScope.ROSTER)]
    return [
        scope
        for scope in agreement_scopes
        if scope.kind != ReadScope.NONE
        and scope_allowed(kind, scope.kind)
        and (scope.kind not in CLAUSE_REQUIRED or scope.clause.strip())
    ]


def covers_everyone(scopes: Iterable[Scope]) -> bool:
    return any(scope.kind == ReadScope.REGENCY for scope in scopes)


def resident_filter(
    institution: Institution,
    scopes: Iterable[Scope],
    model: AnyResidentModel,
    *,
    on: datetime.date,
) -> Q:
    """A Q over `model` (either registry) matching the residents the scopes cover on the
    day `on`; an empty Q() when they cover everyone, NOBODY when no one."""
    if covers_everyone(scopes):
        return Q()
    found = NOBODY
    for scope in scopes:
        found |= _scope_filter(institution, scope, model, on=on)
    return found


def _scope_filter(
    institution: Institution, scope: Scope, model: AnyResidentModel, *, on: datetime.date
) -> Q:
    if scope.kind == ReadScope.ROSTER:
        return roster_filter(institution) if model is NonPermanentResident else NOBODY
    if scope.kind == ReadScope.DESA and scope.desa_id is not None:
        field = "family__desa_id" if model is PermanentResident else "domicile_desa_id"
        return Q(**{field: scope.desa_id})
    if scope.kind == ReadScope.AGE and scope.min_age is not None and scope.max_age is not None:
        # Aged min_age to max_age in whole years on the day: born after the day max_age + 1
        # years before, and on or before the day min_age years before.
        return Q(
            birth_date__gt=years_before(on, scope.max_age + 1),
            birth_date__lte=years_before(on, scope.min_age),
        )
    return NOBODY


def roster_filter(institution: Institution) -> Q:
    """Non-permanent residents on the institution's applied rosters, still hosted by it and
    still staying. A record has no key to an institution, only the host's name that anybody
    registering can type, so the roster row the institution sent is what proves the link."""
    rostered = (
        ExchangeRow.objects.filter(
            batch__institution=institution, batch__format=UploadFormat.ROSTER, applied=True
        )
        .exclude(outcome=RowOutcome.ERROR)
        .values("nik_index")
    )
    return Q(
        host_institution=institution.name[:200],
        closed_at__isnull=True,
        nik_index__in=rostered,
    )


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day `years` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)
