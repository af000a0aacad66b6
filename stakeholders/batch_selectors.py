"""Reads of exchange batches, with who may see them: the institution's own admins, and
Dukcapil officers (regency-wide roles) for every institution."""

from django.db.models import QuerySet

from citizens import policy
from citizens.models import User
from stakeholders import selectors
from stakeholders.models import ExchangeBatch, Institution


def is_dukcapil(user: User) -> bool:
    return policy.can_view_exchanges(user)


def acting_institution(user: User) -> Institution | None:
    """The institution this account acts for: institution admins only."""
    if not policy.is_institution_admin(user):
        return None
    return selectors.institution_of(user)


def batches_for(user: User) -> QuerySet[ExchangeBatch]:
    batches = ExchangeBatch.objects.select_related("institution").defer(
        "field_summary", "original_name"
    )
    if is_dukcapil(user):
        return batches
    institution = acting_institution(user)
    if institution is None:
        return batches.none()
    return batches.filter(institution=institution)


def batch_get_for(user: User, batch_id: int) -> ExchangeBatch | None:
    return batches_for(user).defer(None).filter(pk=batch_id).first()
