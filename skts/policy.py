"""Who may do what with SKTS letters. Selectors and services ask here."""

from citizens import policy
from citizens.models import User


def can_manage_letters(user: policy.AnyUser) -> bool:
    """Dukcapil verifiers and the head keep the register and revoke letters."""
    return policy.is_officer(user) and user.role in policy.REGENCY_WIDE_ROLES


def can_request_for_institution(user: policy.AnyUser) -> bool:
    return policy.is_institution_admin(user)


def is_holder(user: User, *, linked_resident_id: int | None, resident_id: int) -> bool:
    return linked_resident_id is not None and linked_resident_id == resident_id
