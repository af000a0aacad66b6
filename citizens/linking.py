"""Linking a portal account to the resident it belongs to.

A citizen proves who they are by knowing four things as registered: NIK, KK number, date of
birth and mother's name. Every attempt is recorded (LinkAttempt); five failures within an hour
pause linking for the account for an hour after the latest one. A village operator who has seen
the resident's KTP/KK in person can confirm a link instead.
"""

import datetime
import hmac
import logging
import unicodedata

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from citizens import policy, selectors
from citizens.choices import LifeStatus, Role
from citizens.exceptions import (
    AccountAlreadyLinked,
    AlreadyLinked,
    LinkFailed,
    LinkLocked,
    LinkNotAllowed,
)
from citizens.models import (
    Desa,
    LinkAttempt,
    NonPermanentResident,
    PermanentResident,
    ResidentLink,
    User,
)

logger = logging.getLogger("citizens.linking")

MAX_FAILURES = 5
LOCK_WINDOW = datetime.timedelta(hours=1)

AnyResident = PermanentResident | NonPermanentResident

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


def link_locked_until(user: User) -> datetime.datetime | None:
    """When linking opens again for this account, or None if it is not locked.

    Locked while the latest failure is less than an hour old and it and the four failures
    before it all fell within one hour.
    """
    recent = list(
        LinkAttempt.objects.filter(user=user, succeeded=False)
        .order_by("-attempted_at")
        .values_list("attempted_at", flat=True)[:MAX_FAILURES]
    )
    if len(recent) < MAX_FAILURES or recent[0] - recent[-1] > LOCK_WINDOW:
        return None
    until = recent[0] + LOCK_WINDOW
    return until if until > timezone.now() else None


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


def _link_create(*, user: User, resident: AnyResident, confirmed_by: User | None) -> ResidentLink:
    if isinstance(resident, PermanentResident):
        taken = ResidentLink.objects.filter(permanent_resident=resident).exists()
        link = ResidentLink(user=user, permanent_resident=resident, confirmed_by=confirmed_by)
    else:
        taken = ResidentLink.objects.filter(non_permanent_resident=resident).exists()
        link = ResidentLink(user=user, non_permanent_resident=resident, confirmed_by=confirmed_by)
    if taken:
        raise AlreadyLinked()
    try:
        with transaction.atomic():
            link.save()
    except IntegrityError as exc:
        # The account row is locked by the caller, so the race lost here is on the resident.
        raise AlreadyLinked() from exc
    return link


def _lock_account(user: User) -> None:
    """Serialise one account's linking, so parallel requests cannot slip past the lock-out."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def _ensure_linkable_account(user: User) -> None:
    if not user.is_active or user.role != Role.CITIZEN:
        raise LinkNotAllowed(_("Only a personal citizen account can be linked to a resident."))
    if ResidentLink.objects.filter(user=user).exists():
        raise AccountAlreadyLinked()


def identity_link(
    *,
    user: User,
    nik: str,
    kk_number: str,
    birth_date: datetime.date,
    mother_name: str,
) -> ResidentLink:
    """Link `user` to the resident whose NIK, KK number, birth date and mother's name match.

    Every evaluated attempt writes a LinkAttempt. Any mismatch (including an unknown NIK) raises
    LinkFailed with one message; a locked account gets LinkLocked without its attempt being
    evaluated. Only someone who matched all four elements learns that the resident is already
    linked elsewhere (AlreadyLinked), which is not counted as a failure.
    """
    with transaction.atomic():
        _lock_account(user)
        _ensure_linkable_account(user)
        until = link_locked_until(user)
        if until is not None:
            logger.warning("identity link refused while locked: user %s", user.pk)
            raise _locked_error(until)
        resident = _find(nik)
        if resident is not None and _details_match(
            resident, kk_number=kk_number, birth_date=birth_date, mother_name=mother_name
        ):
            link = _link_create(user=user, resident=resident, confirmed_by=None)
            LinkAttempt.objects.create(user=user, succeeded=True)
            logger.info("identity link made: user %s", user.pk)
            return link
        LinkAttempt.objects.create(user=user, succeeded=False)
    # Raised outside the transaction, so the failed attempt stays recorded.
    logger.warning("identity link failed: user %s", user.pk)
    raise LinkFailed()


def _desa_of(resident: AnyResident) -> Desa:
    if isinstance(resident, PermanentResident):
        return resident.family.desa
    return resident.domicile_desa


def identity_link_confirm_in_person(
    *, operator: User, user: User, resident: AnyResident
) -> ResidentLink:
    """A village operator who checked the resident's KTP/KK in person links their account.

    Only the operator of the resident's own desa may do this (LinkNotAllowed otherwise), and only
    for an active citizen account whose e-mail address is verified, so an account opened in
    someone else's name cannot be handed their record. The lock-out does not apply.
    """
    if not policy.can_file_for_resident(operator, _desa_of(resident)):
        raise LinkNotAllowed()
    if not EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists():
        raise LinkNotAllowed(
            _("The citizen must confirm their e-mail address before their account is linked.")
        )
    with transaction.atomic():
        _lock_account(user)
        _ensure_linkable_account(user)
        link = _link_create(user=user, resident=resident, confirmed_by=operator)
        LinkAttempt.objects.create(user=user, succeeded=True)
    logger.info("identity link confirmed in person: user %s by operator %s", user.pk, operator.pk)
    return link
