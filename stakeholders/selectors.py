"""Reads about institutions: is exchange allowed now, and what may each institution do."""

import datetime

from django.utils import timezone

from citizens.models import User
from stakeholders import catalogue
from stakeholders.choices import AgreementKind, AgreementStatus, WriteMode
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
