"""Who may see or do what. Every view, selector and service asks here, so no URL bypasses it."""

from typing import TypeGuard

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from citizens.choices import Role
from citizens.models import Desa, User

OFFICER_ROLES = frozenset({Role.OPERATOR_DESA, Role.OFFICER_KECAMATAN, Role.VERIFIER, Role.HEAD})
# Accounts that reach personal data in bulk must enrol a second factor.
MFA_ROLES = OFFICER_ROLES | {Role.SYSTEM_ADMIN, Role.INSTITUTION_ADMIN}
REGENCY_WIDE_ROLES = frozenset({Role.VERIFIER, Role.HEAD})

# Views pass request.user, which may be anonymous.
AnyUser = User | AnonymousUser


def is_officer(user: AnyUser) -> TypeGuard[User]:
    return isinstance(user, User) and user.is_active and user.role in OFFICER_ROLES


def requires_mfa(user: AnyUser) -> bool:
    return isinstance(user, User) and (user.role in MFA_ROLES or user.is_staff or user.is_superuser)


def can_use_admin(user: AnyUser) -> bool:
    return (
        isinstance(user, User)
        and user.is_active
        and user.is_staff
        and user.role == Role.SYSTEM_ADMIN
    )


def desa_filter(user: AnyUser, *, field: str = "desa") -> Q:
    """A Q limiting rows whose desa (reached through `field`) lies in the user's jurisdiction.

    Anyone who is not an officer gets a filter that matches nothing.
    """
    if not is_officer(user):
        return Q(pk__in=[])
    if user.role in REGENCY_WIDE_ROLES:
        return Q()
    if user.role == Role.OPERATOR_DESA and user.jurisdiction_desa_id:
        return Q(**{f"{field}_id": user.jurisdiction_desa_id})
    if user.role == Role.OFFICER_KECAMATAN and user.jurisdiction_kecamatan_id:
        return Q(**{f"{field}__kecamatan_id": user.jurisdiction_kecamatan_id})
    return Q(pk__in=[])


def covers_desa(user: AnyUser, desa: Desa) -> bool:
    if not is_officer(user):
        return False
    if user.role in REGENCY_WIDE_ROLES:
        return True
    if user.role == Role.OPERATOR_DESA:
        return user.jurisdiction_desa_id == desa.pk
    if user.role == Role.OFFICER_KECAMATAN:
        return user.jurisdiction_kecamatan_id == desa.kecamatan_id
    return False


def can_view_submission(
    user: User, *, desa: Desa, filed_by_id: int, citizen_id: int | None
) -> bool:
    """The filer, the citizen it belongs to, and officers whose jurisdiction covers its desa."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.pk in (filed_by_id, citizen_id):
        return True
    return covers_desa(user, desa)


def can_file_for_resident(user: AnyUser, desa: Desa) -> bool:
    """Assisted mode: a village operator files for residents of their own desa."""
    return is_officer(user) and user.role == Role.OPERATOR_DESA and covers_desa(user, desa)


def can_link_in_person(user: AnyUser, desa: Desa) -> bool:
    """Only the village operator of the resident's own desa links an account to them, after
    checking the KTP/KK in person; this is the way in once online linking of a record closed."""
    return is_officer(user) and user.role == Role.OPERATOR_DESA and covers_desa(user, desa)


def can_move_resident_link(user: AnyUser, desa: Desa) -> bool:
    """Moving a record's link to another account: the same village operator, in person."""
    return can_link_in_person(user, desa)


# Which review tier each officer role acts at (values of submissions.choices.Tier).
REVIEW_TIERS = {
    Role.OPERATOR_DESA: "desa",
    Role.OFFICER_KECAMATAN: "kecamatan",
    Role.VERIFIER: "dukcapil",
    Role.HEAD: "dukcapil",
}


def review_tier(user: AnyUser) -> str | None:
    """The tier at which this officer reviews submissions; None for everyone else."""
    if not is_officer(user):
        return None
    return REVIEW_TIERS.get(Role(user.role))


def can_search_audit(user: AnyUser) -> bool:
    """Only the head of Dukcapil searches the audit trail."""
    return is_officer(user) and user.role == Role.HEAD


def can_read_change_statements(user: AnyUser) -> bool:
    """F-1.06 statements are for Dukcapil, who carry the changes into SIAK."""
    return is_officer(user) and user.role in REGENCY_WIDE_ROLES


def can_manage_institutions(user: AnyUser) -> bool:
    """The head of Dukcapil registers institutions, their agreements, authority and admins."""
    return is_officer(user) and user.role == Role.HEAD


def can_view_exchanges(user: AnyUser) -> bool:
    """Dukcapil (verifiers and the head) oversee every institution's exchanges."""
    return is_officer(user) and user.role in REGENCY_WIDE_ROLES


def is_institution_admin(user: AnyUser) -> TypeGuard[User]:
    """An institution admin account; which institution it acts for is the membership's."""
    return isinstance(user, User) and user.is_active and user.role == Role.INSTITUTION_ADMIN


def can_view_statistics(user: AnyUser) -> bool:
    """Officers (within their jurisdiction) and data analysts (the whole regency)."""
    return (is_officer(user) and user.role in REVIEW_TIERS) or (
        user.is_authenticated and getattr(user, "role", None) == Role.ANALYST
    )


def statistics_suppressed(user: AnyUser) -> bool:
    """Analysts see small counts suppressed; officers see their area's figures in full
    (downloads are suppressed for everyone)."""
    return not (is_officer(user) and user.role in REVIEW_TIERS)


def statistics_area(user: AnyUser, *, field: str = "desa") -> Q:
    """The villages whose statistics the user may read: the regency for analysts, else the
    officer's jurisdiction."""
    if user.is_authenticated and getattr(user, "role", None) == Role.ANALYST:
        return Q()
    return desa_filter(user, field=field)


def statistics_covers(user: AnyUser, desa: Desa) -> bool:
    if user.is_authenticated and getattr(user, "role", None) == Role.ANALYST:
        return True
    return covers_desa(user, desa)


def can_read_reports(user: AnyUser) -> bool:
    """The scheduled reports (weekly summary, monthly aggregates) are the head's."""
    return is_officer(user) and user.role == Role.HEAD


def can_invite_account(actor: AnyUser, account: User) -> bool:
    """The system admin invites any account (officers are created in the admin); the head of
    Dukcapil invites institution admins."""
    if can_use_admin(actor):
        return True
    return can_manage_institutions(actor) and account.role == Role.INSTITUTION_ADMIN
