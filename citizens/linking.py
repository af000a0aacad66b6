"""Linking a portal account to the resident it belongs to.

A citizen proves who they are by knowing four things as registered: NIK, KK number, date of
birth and mother's name. Every attempt is recorded (LinkAttempt) with the blind index of the
NIK tried and of the client's address. Failures are counted three ways, as the secrets are
printed on the KK card and circulate in leaks, so fresh accounts must not buy fresh guesses:

- per account: LINK_ACCOUNT_MAX_FAILURES within the window pause it for the window after the
  latest one;
- per IP address: the same rule with LINK_IP_MAX_FAILURES;
- per target record (the NIK's blind index, registered or not): once it has had
  LINK_TARGET_MAX_FAILURES failures within LINK_TARGET_WINDOW_HOURS, online linking of it is
  closed for good, and only the village operator of its desa can link it in person.

A failure against a registered record is also written to its access log, so its owner sees it
once linked. A village operator who has seen the resident's KTP/KK in person can confirm a
link, or move a record's link to another account with a reason; both are audited.
"""

import datetime
import hmac
import logging
import unicodedata

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from citizens import crypto, policy, selectors, services
from citizens.choices import AccessPurpose, AuditAction, LifeStatus, Role
from citizens.exceptions import (
    AccountAlreadyLinked,
    AlreadyLinked,
    ConcurrentChange,
    LinkClosed,
    LinkFailed,
    LinkLocked,
    LinkNotAllowed,
)
from citizens.models import (
    AnyResident,
    Desa,
    LinkAttempt,
    PermanentResident,
    ResidentLink,
    User,
    registry_of,
)
from citizens.nik import validate_nik

logger = logging.getLogger("citizens.linking")


# Apostrophes vanish ("Ma'ruf" = "Maruf"); other punctuation separates words ("Siti-Aminah").
_APOSTROPHES = frozenset("'`´‘’ʼʻ")


def normalise_name(value: str) -> str:
    """Casefolded, punctuation stripped, whitespace collapsed: how names are compared."""
    text = unicodedata.normalize("NFKC", value).casefold()
    kept = []
    for char in text:
        if char in _APOSTROPHES:
            continue
        kept.append(" " if unicodedata.category(char)[0] in "PS" else char)
    return " ".join("".join(kept).split())


def _digits(value: str) -> str:
    return "".join(char for char in value if char in "0123456789")


def _same(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())


def _failures(**filters: object) -> "QuerySet[LinkAttempt]":
    return LinkAttempt.objects.filter(succeeded=False, **filters)


def _account_rule() -> tuple[int, datetime.timedelta]:
    return settings.LINK_ACCOUNT_MAX_FAILURES, datetime.timedelta(
        minutes=settings.LINK_ACCOUNT_WINDOW_MINUTES
    )


def _ip_rule() -> tuple[int, datetime.timedelta]:
    return settings.LINK_IP_MAX_FAILURES, datetime.timedelta(
        minutes=settings.LINK_IP_WINDOW_MINUTES
    )


def _target_rule() -> tuple[int, datetime.timedelta]:
    return settings.LINK_TARGET_MAX_FAILURES, datetime.timedelta(
        hours=settings.LINK_TARGET_WINDOW_HOURS
    )


def target_index(nik: str) -> str:
    """The blind index a NIK's attempts are counted under; empty for a malformed NIK."""
    try:
        return crypto.nik_index(validate_nik(nik))
    except ValidationError:
        return ""


def address_index(ip_address: str) -> str:
    """The client's address as a keyed index: counted, never stored in plaintext."""
    return crypto.blind_index(ip_address, purpose="link-ip") if ip_address else ""


def _paused_until(
    failures: "QuerySet[LinkAttempt]", rule: tuple[int, datetime.timedelta]
) -> datetime.datetime | None:
    """Paused while the latest failure is less than a window old and it and the failures
    before it, up to the limit, all fell within one window."""
    limit, window = rule
    recent = list(failures.order_by("-attempted_at").values_list("attempted_at", flat=True)[:limit])
    if len(recent) < limit or recent[0] - recent[-1] > window:
        return None
    until = recent[0] + window
    return until if until > timezone.now() else None


def link_locked_until(user: User, *, ip_address: str = "") -> datetime.datetime | None:
    """When linking opens again for this account from this address, or None if it is open."""
    return _locked_until(user, address_index(ip_address))


def _locked_until(user: User, address: str) -> datetime.datetime | None:
    paused = [_paused_until(_failures(user=user), _account_rule())]
    if address:
        paused.append(_paused_until(_failures(ip_index=address), _ip_rule()))
    return max((until for until in paused if until is not None), default=None)


def link_target_closed(index: str) -> bool:
    """Whether online linking of the NIK with this blind index is closed: at some time it had
    the limit of failures within one window. Closed for good, so it never depends on rows
    being removed; the record can then only be linked in person."""
    if not index:
        return False
    limit, window = _target_rule()
    times = list(
        _failures(target_index=index)
        .order_by("attempted_at")
        .values_list("attempted_at", flat=True)
    )
    return any(
        times[start + limit - 1] - times[start] <= window for start in range(len(times) - limit + 1)
    )


def _left(failures: "QuerySet[LinkAttempt]", rule: tuple[int, datetime.timedelta]) -> int:
    limit, window = rule
    used = failures.filter(attempted_at__gt=timezone.now() - window).count()
    return max(limit - used, 0)


def _tries_left(*, user: User, address: str, target: str) -> int:
    left = [_left(_failures(user=user), _account_rule())]
    if address:
        left.append(_left(_failures(ip_index=address), _ip_rule()))
    if target:
        left.append(
            0
            if link_target_closed(target)
            else _left(_failures(target_index=target), _target_rule())
        )
    return min(left)


def link_tries_left(*, user: User, ip_address: str = "") -> int:
    """How many failures this account may still have from this address before a pause (the
    link page shows it; the NIK's own count is only told after an attempt on it)."""
    if _locked_until(user, address_index(ip_address)) is not None:
        return 0
    return _tries_left(user=user, address=address_index(ip_address), target="")


def _locked_error(until: datetime.datetime) -> LinkLocked:
    when = formats.date_format(timezone.localtime(until), "DATETIME_FORMAT")
    return LinkLocked(
        until,
        _("Too many failed attempts. Try again after %(time)s or ask your village office.")
        % {"time": when},
    )


def _details_match(
    resident: AnyResident, *, kk_number: str, birth_date: datetime.date, mother_name: str
) -> bool:
    """All four elements are compared every time, so the answer takes the same path."""
    if isinstance(resident, PermanentResident):
        recorded_kk = _digits(resident.family.kk_number)
        kk_ok = _same(recorded_kk, _digits(kk_number))
    else:
        # A non-permanent resident's origin KK is optional; when it is recorded it must match.
        recorded_kk = _digits(resident.kk_number or "")
        kk_ok = not recorded_kk or _same(recorded_kk, _digits(kk_number))
    date_ok = resident.birth_date == birth_date
    recorded_mother = normalise_name(resident.mother_name or "")
    # With no mother's name on record there is nothing to prove: only the office can link.
    mother_ok = bool(recorded_mother) and _same(recorded_mother, normalise_name(mother_name))
    alive = resident.life_status != LifeStatus.DEAD
    return kk_ok & date_ok & mother_ok & alive


def _find(nik: str) -> AnyResident | None:
    try:
        return selectors.resident_get_by_nik(nik)
    except ValidationError:
        return None


def _link_of(resident: AnyResident) -> ResidentLink | None:
    links = ResidentLink.objects.select_for_update()
    if isinstance(resident, PermanentResident):
        return links.filter(permanent_resident=resident).first()
    return links.filter(non_permanent_resident=resident).first()


def _link_create(
    *, user: User, resident: AnyResident, confirmed_by: User | None, taken_message: object = None
) -> ResidentLink:
    if isinstance(resident, PermanentResident):
        taken = ResidentLink.objects.filter(permanent_resident=resident).exists()
        link = ResidentLink(user=user, permanent_resident=resident, confirmed_by=confirmed_by)
    else:
        taken = ResidentLink.objects.filter(non_permanent_resident=resident).exists()
        link = ResidentLink(user=user, non_permanent_resident=resident, confirmed_by=confirmed_by)
    if taken:
        raise AlreadyLinked(taken_message)
    try:
        with transaction.atomic():
            link.save()
    except IntegrityError as exc:
        # The account row is locked by the caller, so the race lost here is on the resident.
        raise AlreadyLinked(taken_message) from exc
    return link


def _lock_account(user: User) -> None:
    """Serialise one account's linking, so parallel requests cannot slip past the lock-out."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def _lock_target(index: str) -> None:
    """Serialise attempts on one NIK from all accounts, so parallel requests cannot slip past
    its limit (a transaction-scoped advisory lock; other databases serialise writes anyway).
    Always taken after the account's row lock, so two attempts never wait on each other in
    opposite orders."""
    if index and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(index[:15], 16)])


def _ensure_linkable_account(user: User) -> None:
    if not user.is_active or user.role != Role.CITIZEN:
        raise LinkNotAllowed(_("Only a personal citizen account can be linked to a resident."))
    if ResidentLink.objects.filter(user=user).exists():
        raise AccountAlreadyLinked()


def _record_access(resident: AnyResident, purpose: AccessPurpose) -> None:
    services.access_log_record(
        actor=None, registry=registry_of(resident), record_id=resident.pk, purpose=purpose
    )


def identity_link(
    *,
    user: User,
    nik: str,
    kk_number: str,
    birth_date: datetime.date,
    mother_name: str,
    ip_address: str = "",
) -> ResidentLink:
    """Link `user` to the resident whose NIK, KK number, birth date and mother's name match.

    A paused account or address gets LinkLocked, and a NIK closed to online linking gets
    LinkClosed, without the attempt being evaluated or recorded. Otherwise every attempt
    writes a LinkAttempt. Any mismatch (including an unknown NIK) raises LinkFailed with one
    message and the tries left, counted alike for registered and unknown NIKs; a mismatch on
    a registered record is written to its access log for its owner. Only someone who matched
    all four elements learns that the resident is already linked elsewhere (AlreadyLinked),
    which is not counted as a failure and shows on the owner's access log.
    """
    target = target_index(nik)
    address = address_index(ip_address)
    with transaction.atomic():
        _lock_account(user)
        _ensure_linkable_account(user)
        until = _locked_until(user, address)
        if until is not None:
            logger.warning("identity link refused while locked: user %s", user.pk)
            raise _locked_error(until)
        _lock_target(target)
        if link_target_closed(target):
            logger.warning(
                "identity link refused, record closed to online linking: user %s", user.pk
            )
            raise LinkClosed()
        resident = _find(nik)
        matched = resident is not None and _details_match(
            resident, kk_number=kk_number, birth_date=birth_date, mother_name=mother_name
        )
        if resident is not None and matched:
            if _link_of(resident) is None:
                link = _link_create(user=user, resident=resident, confirmed_by=None)
                LinkAttempt.objects.create(
                    user=user, succeeded=True, target_index=target, ip_index=address
                )
                logger.info("identity link made: user %s", user.pk)
                return link
            _record_access(resident, AccessPurpose.LINK_REFUSED)
        else:
            LinkAttempt.objects.create(
                user=user, succeeded=False, target_index=target, ip_index=address
            )
            if resident is not None:
                _record_access(resident, AccessPurpose.LINK_FAILED)
            tries_left = _tries_left(user=user, address=address, target=target)
    # Raised outside the transaction, so the attempt and the access log row stay recorded.
    if matched:
        logger.warning("identity link refused, resident linked elsewhere: user %s", user.pk)
        raise AlreadyLinked()
    logger.warning("identity link failed: user %s", user.pk)
    raise LinkFailed(tries_left=tries_left)


def _desa_of(resident: AnyResident) -> Desa:
    if isinstance(resident, PermanentResident):
        return resident.family.desa
    return resident.domicile_desa


def _ensure_verified_email(user: User) -> None:
    if not EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists():
        raise LinkNotAllowed(
            _("The citizen must confirm their e-mail address before their account is linked.")
        )


def identity_link_confirm_in_person(
    *, operator: User, user: User, resident: AnyResident
) -> ResidentLink:
    """A village operator who checked the resident's KTP/KK in person links their account.

    Only the operator of the resident's own desa may do this (LinkNotAllowed otherwise), and only
    for an active citizen account whose e-mail address is verified, so an account opened in
    someone else's name cannot be handed their record. No lock-out applies, including a record
    closed to online linking. Audited (LINK_CONFIRM).
    """
    if not policy.can_link_in_person(operator, _desa_of(resident)):
        raise LinkNotAllowed()
    _ensure_verified_email(user)
    with transaction.atomic():
        _lock_account(user)
        _ensure_linkable_account(user)
        link = _link_create(
            user=user,
            resident=resident,
            confirmed_by=operator,
            taken_message=_(
                "This resident is already linked to another account: move the link instead."
            ),
        )
        LinkAttempt.objects.create(user=user, succeeded=True, target_index=resident.nik_index)
        services.audit_record(
            actor=operator,
            action=AuditAction.LINK_CONFIRM,
            registry=registry_of(resident),
            record_id=resident.pk,
            nik_index=resident.nik_index,
        )
    logger.info("identity link confirmed in person: user %s by operator %s", user.pk, operator.pk)
    return link


def resident_link_move(
    *, operator: User, resident: AnyResident, to_user: User, reason: str
) -> ResidentLink:
    """A village operator moves a record's link to another account, with a reason.

    For when the record was linked to the wrong account (or an attacker's): the operator of
    the resident's own desa (policy.can_move_resident_link) checks the KTP/KK in person; the
    new account must be an unlinked, active citizen account with a verified e-mail address.
    The link row changes owner by a conditional update (ConcurrentChange if it moved in the
    meantime) and the move is audited (LINK_MOVE, the reason as its detail).
    """
    if not policy.can_move_resident_link(operator, _desa_of(resident)):
        raise LinkNotAllowed()
    reason = " ".join(reason.split())
    if not reason:
        raise LinkNotAllowed(_("Give the reason for moving the link."))
    _ensure_verified_email(to_user)
    with transaction.atomic():
        _lock_account(to_user)
        link = _link_of(resident)
        if link is None:
            raise LinkNotAllowed(
                _("This record is not linked to any account: link it in person instead.")
            )
        if link.user_id == to_user.pk:
            raise LinkNotAllowed(_("The record is already linked to this account."))
        _ensure_linkable_account(to_user)
        moved = ResidentLink.objects.filter(pk=link.pk, user_id=link.user_id).update(
            user=to_user, confirmed_by=operator, linked_at=timezone.now()
        )
        if moved != 1:
            raise ConcurrentChange()
        LinkAttempt.objects.create(user=to_user, succeeded=True, target_index=resident.nik_index)
        services.audit_record(
            actor=operator,
            action=AuditAction.LINK_MOVE,
            registry=registry_of(resident),
            record_id=resident.pk,
            nik_index=resident.nik_index,
            detail=reason,
        )
    logger.info(
        "identity link moved: from user %s to user %s by operator %s",
        link.user_id,
        to_user.pk,
        operator.pk,
    )
    link.refresh_from_db()
    return link
