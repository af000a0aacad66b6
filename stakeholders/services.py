"""Writes about institutions: registering them with their default authority, agreements,
admin invitations."""

import datetime

from django.db import transaction

from citizens.models import User
from stakeholders import catalogue
from stakeholders.choices import AgreementKind, AgreementStatus, InstitutionKind
from stakeholders.models import Agreement, FieldAuthority, Institution


@transaction.atomic
def institution_create(
    *, name: str, kind: InstitutionKind, code: str, contact_email: str = ""
) -> Institution:
    """Register an institution with its kind's default field authority (catalogue)."""
    institution = Institution.objects.create(
        name=name, kind=kind, code=code, contact_email=contact_email
    )
    FieldAuthority.objects.bulk_create(
        FieldAuthority(institution=institution, field=field, write=rule.write, read=rule.read)
        for field, rule in catalogue.DEFAULT_AUTHORITY[InstitutionKind(kind)].items()
    )
    return institution


@transaction.atomic
def agreement_record(
    *,
    institution: Institution,
    kind: AgreementKind,
    number: str,
    purpose: str,
    signed_on: datetime.date,
    valid_from: datetime.date,
    valid_until: datetime.date,
    status: AgreementStatus = AgreementStatus.ACTIVE,
    actor: User | None = None,
) -> Agreement:
    """Record an MoU or PKS as signed (validated: the period must be ordered)."""
    agreement = Agreement(
        institution=institution,
        kind=kind,
        number=number,
        purpose=purpose,
        signed_on=signed_on,
        valid_from=valid_from,
        valid_until=valid_until,
        status=status,
    )
    agreement.full_clean()
    agreement.save()
    return agreement
