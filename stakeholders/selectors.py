"""Reads about institutions: is exchange allowed now, what may each institution do, and
whose records may it read (stakeholders.policy)."""

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from citizens.models import NonPermanentResident, PermanentResident, User
from stakeholders import catalogue, policy
from stakeholders.choices import (
    AgreementKind,
    AgreementStatus,
    InstitutionKind,
    ReadScope,
    WriteMode,
)
from stakeholders.models import FieldAuthority, Institution, InstitutionMember


def agreement_in_force(institution: Institution, *, on: datetime.date | None = None) -> bool:
    """Exchange needs an active institution with an MoU and a PKS both active and valid on
    the day: an expired or suspended agreement stops all exchange."""
    if not institution.is_active:
        return False
    day = on or timezone.localdate()
    kinds = set(
        institution.agreements.filter(
            status=AgreementStatus.ACTIVE, valid_from__lte=day, valid_until__gte=day
        ).values_list("kind", flat=True)
    )
    return {AgreementKind.MOU, AgreementKind.PKS} <= kinds


def authority_for(institution: Institution) -> dict[str, catalogue.Authority]:
    """The institution's authority per element; elements without a row allow nothing."""
    return {
        row.field: catalogue.Authority(WriteMode(row.write), row.read)
        for row in FieldAuthority.objects.filter(institution=institution)
    }


def readable_fields(institution: Institution) -> list[str]:
    """Registry fields the institution may read, in catalogue order (none without an
    agreement in force)."""
    if not agreement_in_force(institution):
        return []
    authority = authority_for(institution)
    return [
        element.field
        for element in catalogue.ELEMENTS
        if element.field not in catalogue.PSEUDO_ELEMENTS
        and authority.get(element.field, _NONE).read
    ]


def read_scopes(institution: Institution, *, on: datetime.date | None = None) -> list[policy.Scope]:
    """The populations the institution may read on the day (none without an agreement in
    force, as agreement_in_force): its roster for a university or company, else what its PKS
    in force name. One query."""
    if not institution.is_active:
        return []
    day = on or timezone.localdate()
    in_force = institution.agreements.filter(
        status=AgreementStatus.ACTIVE, valid_from__lte=day, valid_until__gte=day
    ).values_list(
        "kind", "read_scope", "scope_min_age", "scope_max_age", "scope_desa_id", "scope_clause"
    )
    named = []
    kinds = set()
    for kind, scope, low, high, desa, clause in in_force:
        kinds.add(kind)
        if kind == AgreementKind.PKS:
            named.append(policy.Scope(ReadScope(scope), low, high, desa, clause))
    if not {AgreementKind.MOU, AgreementKind.PKS} <= kinds:
        return []
    return policy.scopes_for(InstitutionKind(institution.kind), named)


def residents_in_scope(
    institution: Institution,
    model: policy.AnyResidentModel,
    *,
    scopes: list[policy.Scope] | None = None,
    on: datetime.date | None = None,
) -> "QuerySet[Any]":
    """The residents of one registry the institution may read today (its scopes, loaded
    unless given)."""
    day = on or timezone.localdate()
    if scopes is None:
        scopes = read_scopes(institution, on=day)
    rows = policy.resident_filter(institution, scopes, model, on=day)
    return model._default_manager.filter(rows)


def resident_in_scope(
    institution: Institution, resident: PermanentResident | NonPermanentResident
) -> bool:
    """May the institution read this resident's record (whatever the elements)?"""
    return residents_in_scope(institution, type(resident)).filter(pk=resident.pk).exists()


def may_read_statistics(institution: Institution) -> bool:
    """The statistics API: an agreement in force and the statistics read right."""
    if not agreement_in_force(institution):
        return False
    return authority_for(institution).get(catalogue.STATISTICS, _NONE).read


def write_mode(institution: Institution, field: str) -> WriteMode:
    """How a value of `field` from this institution is treated (NONE without an agreement
    in force, and always NONE for core identity)."""
    element = catalogue.BY_FIELD.get(field)
    if element is None or not element.writable or not agreement_in_force(institution):
        return WriteMode.NONE
    return authority_for(institution).get(field, _NONE).write


def institution_of(user: User) -> Institution | None:
    member = (
        InstitutionMember.objects.select_related("institution")
        .filter(user_id=user.pk, is_active=True)
        .first()
    )
    return member.institution if member is not None else None


_NONE = catalogue.Authority()
