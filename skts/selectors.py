"""Reads of SKTS letters: state, who may download, institution rosters, the register."""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from citizens import selectors as citizen_selectors
from citizens.choices import LifeStatus
from citizens.models import NonPermanentResident, User
from skts import policy
from skts.choices import LetterState, LetterStatus
from skts.models import Letter
from stakeholders import policy as stakeholder_policy
from stakeholders import selectors as stakeholder_selectors
from stakeholders.models import Institution


def letter_state(letter: Letter, *, today: datetime.date | None = None) -> LetterState:
    """What a letter is now. A stored end (revoked, superseded, ended) wins; a letter whose
    non-permanent record has been closed (moved away) reads as ended even before the
    housekeeping task marks it; past its last day it is expired."""
    today = today or timezone.localdate()
    if letter.status != LetterStatus.ISSUED:
        return LetterState(letter.status)
    resident = letter.resident
    if resident.closed_at is not None or resident.life_status != LifeStatus.ALIVE:
        return LetterState.ENDED
    if today > letter.valid_until:
        return LetterState.EXPIRED
    if not letter.sha256:
        return LetterState.PENDING
    return LetterState.VALID


def mask_name(name: str) -> str:
    """`BUDI SANTOSO` -> `Bu** Sa*****`: two letters of each word, the rest hidden."""
    words = []
    for word in name.split():
        shown = word[:2].capitalize() if len(word) > 2 else word[:1].capitalize()
        words.append(shown + "*" * (len(word) - len(shown)))
    return " ".join(words)


def institution_of(user: User) -> Institution | None:
    """The institution an institution admin acts for (None for everyone else)."""
    if not policy.can_request_for_institution(user):
        return None
    return stakeholder_selectors.institution_of(user)


def institution_residents(institution: Institution) -> QuerySet[NonPermanentResident]:
    """An institution's registered non-permanent residents, still open: the people on its
    applied rosters, the rule that also limits what it reads (stakeholders.policy)."""
    return (
        NonPermanentResident.objects.filter(stakeholder_policy.roster_filter(institution))
        .select_related("domicile_desa")
        .order_by("pk")
    )


def institution_for_resident(resident: NonPermanentResident) -> Institution | None:
    """The institution whose roster holds this resident (see institution_residents)."""
    if not resident.host_institution:
        return None
    for institution in Institution.objects.filter(name=resident.host_institution).order_by("pk"):
        if institution_residents(institution).filter(pk=resident.pk).exists():
            return institution
    return None


def linked_non_permanent(user: User) -> NonPermanentResident | None:
    """The non-permanent record linked to this account, if any."""
    if not user.is_authenticated:
        return None
    link = citizen_selectors.resident_link_for_user(user)
    if link is None or link.non_permanent_resident_id is None:
        return None
    return link.non_permanent_resident


def _letters() -> QuerySet[Letter]:
    return Letter.objects.select_related("resident", "institution", "request")


def letters_for_holder(user: User) -> list[Letter]:
    resident = linked_non_permanent(user)
    if resident is None:
        return []
    return list(_letters().filter(resident=resident).order_by("-issued_at", "-pk"))


def letters_for_institution(institution: Institution) -> QuerySet[Letter]:
    return _letters().filter(institution=institution).order_by("-issued_at", "-pk")


def active_letter(resident: NonPermanentResident) -> Letter | None:
    """The resident's letter in force (issued, not past its last day), the one a new request
    renews."""
    return (
        Letter.objects.filter(
            resident=resident,
            status=LetterStatus.ISSUED,
            valid_until__gte=timezone.localdate(),
        )
        .order_by("-issued_at", "-pk")
        .first()
    )


def letter_get_for_download(*, user: User, letter_id: int) -> Letter | None:
    """The letter if this user may download it: its holder (linked account) or an admin of
    its institution. None for everybody else, so a guessed id reveals nothing."""
    if not user.is_authenticated or not user.is_active:
        return None
    letter = _letters().filter(pk=letter_id).exclude(sha256="").first()
    if letter is None:
        return None
    return letter if _may_download(user, letter) else None


def letters_get_for_download(*, user: User, letter_ids: list[int]) -> list[Letter]:
    """Of these ids, the rendered letters this user may download (an institution admin's
    many-at-once download); the others are silently left out."""
    institution = institution_of(user)
    if institution is None:
        return []
    return list(
        _letters()
        .filter(pk__in=letter_ids, institution=institution)
        .exclude(sha256="")
        .order_by("number")
    )


def _may_download(user: User, letter: Letter) -> bool:
    holder = linked_non_permanent(user)
    if holder is not None and policy.is_holder(
        user, linked_resident_id=holder.pk, resident_id=letter.resident_id
    ):
        return True
    institution = institution_of(user)
    return institution is not None and institution.pk == letter.institution_id


def letter_get_by_token(token: str) -> Letter | None:
    if not token or len(token) > 64:
        return None
    return _letters().filter(token=token).first()


@dataclass(frozen=True)
class RegisterFilter:
    status: str = ""
    institution_id: int | None = None
    issued_from: datetime.date | None = None
    issued_until: datetime.date | None = None


def register_letters(*, user: User, filters: RegisterFilter) -> QuerySet[Letter]:
    """Dukcapil's register of issued letters, newest first; nothing for anyone else.
    The state filter follows letter_state: expired and ended are read from dates and the
    record, not only from the stored status."""
    if not policy.can_manage_letters(user):
        return Letter.objects.none()
    letters = _letters().order_by("-issued_at", "-pk")
    today = timezone.localdate()
    open_record = Q(resident__closed_at__isnull=True, resident__life_status=LifeStatus.ALIVE)
    issued = Q(status=LetterStatus.ISSUED)
    by_state = {
        LetterState.PENDING: issued & open_record & Q(valid_until__gte=today, sha256=""),
        LetterState.VALID: issued & open_record & Q(valid_until__gte=today) & ~Q(sha256=""),
        LetterState.EXPIRED: issued & open_record & Q(valid_until__lt=today),
        LetterState.ENDED: Q(status=LetterStatus.ENDED) | (issued & ~open_record),
        LetterState.REVOKED: Q(status=LetterStatus.REVOKED),
        LetterState.SUPERSEDED: Q(status=LetterStatus.SUPERSEDED),
    }
    if filters.status in by_state:
        letters = letters.filter(by_state[LetterState(filters.status)])
    if filters.institution_id:
        letters = letters.filter(institution_id=filters.institution_id)
    if filters.issued_from:
        letters = letters.filter(issued_at__date__gte=filters.issued_from)
    if filters.issued_until:
        letters = letters.filter(issued_at__date__lte=filters.issued_until)
    return letters


def institutions_with_letters() -> QuerySet[Institution]:
    return Institution.objects.filter(
        pk__in=Letter.objects.exclude(institution=None).values("institution_id")
    ).order_by("name")
