"""Reads of the registry that matter: scoped by citizens.policy, cheap in queries."""

import datetime
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import router
from django.db.models import F, Field, Model, ProtectedError, Q, QuerySet, RestrictedError, Window
from django.db.models.deletion import Collector
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from citizens import crypto, policy
from citizens.choices import AccessPurpose, ChangeSource, Registry, Role
from citizens.models import (
    BIODATA_FIELDS,
    AccessLog,
    Desa,
    Family,
    NonPermanentResident,
    PermanentResident,
    RecordChange,
    ResidentLink,
    User,
)
from citizens.nik import nik_warnings, validate_nik


def resident_get_by_nik(nik: str) -> PermanentResident | NonPermanentResident | None:
    """Find a resident by NIK through the blind index (one indexed query per table)."""
    index = crypto.nik_index(validate_nik(nik))
    permanent = (
        PermanentResident.objects.select_related("family__desa__kecamatan")
        .filter(nik_index=index)
        .first()
    )
    if permanent is not None:
        return permanent
    return (
        NonPermanentResident.objects.select_related("domicile_desa__kecamatan")
        .filter(nik_index=index)
        .first()
    )


def permanent_residents_for_officer(user: User) -> QuerySet[PermanentResident]:
    """Permanent residents inside the officer's jurisdiction (none for anyone else)."""
    return (
        PermanentResident.objects.filter(policy.desa_filter(user, field="family__desa"))
        .select_related("family__desa__kecamatan")
        .order_by("pk")
    )


_REGISTRY_MODELS = {
    Registry.PERMANENT: PermanentResident,
    Registry.NON_PERMANENT: NonPermanentResident,
    Registry.FAMILY: Family,
}


# History elements that are not model fields (citizens.services.FAMILY_VILLAGE).
_DERIVED_LABELS = {"family_desa": _("village (of the family card)")}


def record_history(*, registry: str, record_id: int, limit: int = 50) -> list[RecordChange]:
    """Newest changes first, each with `field_label`: the field's name in the user's language."""
    model = _REGISTRY_MODELS[Registry(registry)]
    changes = list(
        RecordChange.objects.filter(registry=registry, record_id=record_id)
        .select_related("actor")
        .order_by("-changed_at", "-pk")[:limit]
    )
    for change in changes:
        try:
            change.field_label = getattr(
                model._meta.get_field(change.field), "verbose_name", change.field
            )
        except FieldDoesNotExist:
            change.field_label = _DERIVED_LABELS.get(change.field, change.field)
    return changes


def nik_warnings_for(resident: PermanentResident | NonPermanentResident) -> list[str]:
    return nik_warnings(resident.nik, birth_date=resident.birth_date, sex=resident.sex)


def resident_link_for_user(user: User) -> ResidentLink | None:
    """The account's link with its resident loaded: a permanent resident with family, desa and
    kecamatan in one query, a non-permanent one with its domicile desa in a second.

    Joining both branches at once (seven tables) cost more to compile and plan than the
    common case, a permanent resident, needs.
    """
    # At most one link per account (unique): no ordering needed, which .first() would add.
    link = next(
        iter(
            ResidentLink.objects.select_related(
                "permanent_resident__family__desa__kecamatan"
            ).filter(user_id=user.pk)[:1]
        ),
        None,
    )
    if link is not None and link.non_permanent_resident_id is not None:
        link.non_permanent_resident = NonPermanentResident.objects.select_related(
            "domicile_desa__kecamatan"
        ).get(pk=link.non_permanent_resident_id)
    return link


def resident_get_by_nik_for_officer(
    user: User, nik: str
) -> PermanentResident | NonPermanentResident | None:
    """Like resident_get_by_nik, but None outside the officer's jurisdiction, so an officer
    cannot learn whether a NIK exists elsewhere."""
    resident = resident_get_by_nik(nik)
    if resident is None:
        return None
    desa = (
        resident.family.desa if isinstance(resident, PermanentResident) else resident.domicile_desa
    )
    return resident if policy.covers_desa(user, desa) else None


def citizen_account_by_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip(), role=Role.CITIZEN).first()


_MASK = "•"


def mask_number(value: str) -> str:
    """`3306••••••••0001`: the first and last four digits of a NIK or KK number."""
    if len(value) <= 8:
        return _MASK * len(value)
    return value[:4] + _MASK * (len(value) - 8) + value[-4:]


@dataclass(frozen=True)
class RecordField:
    label: str
    value: object
    changed_at: datetime.datetime
    source: str
    # "Last changed 3 Mar 2025 · Initial data load", in the active language.
    note: str


@dataclass(frozen=True)
class FamilyMember:
    full_name: str
    relation: str
    birth_date: datetime.date
    life_status: str
    is_self: bool


@dataclass(frozen=True)
class RecordActivity:
    at: datetime.datetime
    is_access: bool
    actor: str
    purpose: str
    fields: list[str]
    reason: str


@dataclass(frozen=True)
class RecordOverview:
    """What a citizen sees about themselves on the "check my data" page."""

    registry: str
    record_id: int
    family_id: int | None
    full_name: str
    revealed: bool
    fields: list[RecordField]
    family_members: list[FamilyMember]
    member_ids: list[int]
    activity: list[RecordActivity]
    activity_limit: int


_BIODATA_FIELDS = BIODATA_FIELDS
_FAMILY_SHOWN = ("kk_number", "address", "rt", "rw", "desa")
_NON_PERMANENT_SHOWN = (
    "kk_number",
    "origin_address",
    "origin_region_code",
    "domicile_address",
    "domicile_rt",
    "domicile_rw",
    "domicile_desa",
    "purpose",
    "host_institution",
    "registration_reference",
    "start_date",
    "expected_end_date",
)
_NUMBERS = frozenset({"nik", "kk_number"})


def _label(model: type[Model], name: str) -> str:
    return str(getattr(model._meta.get_field(name), "verbose_name", name))


@functools.cache
def _choice_labels(model: type[Model], name: str) -> dict[object, object]:
    # Model.get_FOO_display() rebuilds this dict on every call and hashes every (lazy) label,
    # which translates it: ~0.05 ms a call for the long code lists, 20 calls on the page.
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return dict(field.flatchoices)


def _choice_display(record: Model, name: str) -> object:
    """What get_FOO_display() returns, in the active language."""
    return _choice_label(type(record), name, getattr(record, name))


def _choice_label(model: type[Model], name: str, value: object) -> object:
    return force_str(_choice_labels(model, name).get(value, value), strings_only=True)


def _display(record: Model, name: str, *, reveal: bool) -> object:
    value = getattr(record, name)
    if name in _NUMBERS:
        return value if reveal or not value else mask_number(value)
    if isinstance(value, Desa):
        return f"{value.name}, {value.kecamatan.name}"
    field = record._meta.get_field(name)
    if getattr(field, "choices", None):
        return _choice_display(record, name)
    return value


_Latest = dict[tuple[str, str], tuple[datetime.datetime, str]]


def _of_records(keys: list[tuple[str, int]]) -> Q:
    where = Q(pk__in=[])
    for registry, record_id in keys:
        where |= Q(registry=registry, record_id=record_id)
    return where


def _latest_changes(keys: list[tuple[str, int]]) -> _Latest:
    """The newest change of every field of these records, in one query (a window function)."""
    rows = (
        RecordChange.objects.filter(_of_records(keys))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("registry"), F("record_id"), F("field")],
                order_by=[F("changed_at").desc(), F("pk").desc()],
            )
        )
        .filter(rank=1)
        .values_list("registry", "field", "changed_at", "source")
    )
    return {(registry, name): (changed_at, source) for registry, name, changed_at, source in rows}


def _change_rows(keys: list[tuple[str, int]], *, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` changes of these records, newest first, with their actors."""
    return list(
        RecordChange.objects.filter(_of_records(keys))
        .order_by("-changed_at", "-pk")
        .values(
            "registry",
            "field",
            "changed_at",
            "source",
            "source_ref",
            "reason",
            "actor_id",
            "actor__role",
            "actor__jurisdiction_desa__name",
            "actor__jurisdiction_kecamatan__name",
        )[:limit]
    )


def _latest_of(
    keys: list[tuple[str, int]], rows: list[dict[str, Any]], *, complete: bool
) -> _Latest:
    """The newest change of every field, taken from the rows already read for the activity
    list; only when those were cut off at their limit are they looked up on their own."""
    if not complete:
        return _latest_changes(keys)
    latest: _Latest = {}
    for row in rows:
        latest.setdefault((row["registry"], row["field"]), (row["changed_at"], row["source"]))
    return latest


def _record_fields(
    resident: PermanentResident | NonPermanentResident, *, reveal: bool, latest: _Latest
) -> list[RecordField]:
    registry = (
        Registry.PERMANENT if isinstance(resident, PermanentResident) else Registry.NON_PERMANENT
    )
    family = resident.family if isinstance(resident, PermanentResident) else None
    initial = str(ChangeSource.SEED.label)
    notes: dict[tuple[datetime.date, str], str] = {}

    def note(when: datetime.datetime, source: str) -> str:
        # Formatted once per day and source: most fields share a handful of them, and
        # formatting each of some twenty fields was a fifth of the page's first rendering.
        day = timezone.localtime(when).date() if timezone.is_aware(when) else when.date()
        if (day, source) not in notes:
            notes[day, source] = gettext("Last changed %(when)s · %(source)s") % {
                "when": date_format(day, "j N Y"),
                "source": source,
            }
        return notes[day, source]

    def row(
        record: Model, reg: str, name: str, moved: tuple[datetime.datetime, str] | None
    ) -> RecordField:
        created: datetime.datetime = getattr(record, "created_at")  # noqa: B009
        when, source = latest.get((reg, name), (created, ChangeSource.SEED))
        # A move to another family changes the address as much as an edit of the family does.
        if moved is not None and moved[0] > when:
            when, source = moved
        shown_source = initial if source == ChangeSource.SEED else str(ChangeSource(source).label)
        return RecordField(
            label=_label(type(record), name),
            value=_display(record, name, reveal=reveal),
            changed_at=when,
            source=shown_source,
            note=note(when, shown_source),
        )

    names: tuple[str, ...] = ("nik", *_BIODATA_FIELDS)
    if isinstance(resident, PermanentResident):
        names = (*names, "family_relation")
    else:
        names = (*names, *_NON_PERMANENT_SHOWN)
    fields = [row(resident, str(registry), name, None) for name in names]
    if family is not None:
        moved = latest.get((str(registry), "family"))
        fields += [row(family, str(Registry.FAMILY), name, moved) for name in _FAMILY_SHOWN]
    return fields


def _family_members(resident: PermanentResident) -> tuple[list[FamilyMember], list[int]]:
    # Plain values: model instances with all but five fields deferred cost twice as much.
    members = list(
        PermanentResident.objects.filter(family_id=resident.family_id)
        .order_by("family_relation", "birth_date", "pk")
        .values_list("pk", "full_name", "family_relation", "birth_date", "life_status")
    )
    rows = [
        FamilyMember(
            full_name=full_name,
            relation=str(_choice_label(PermanentResident, "family_relation", relation)),
            birth_date=birth_date,
            life_status=str(_choice_label(PermanentResident, "life_status", life_status)),
            is_self=pk == resident.pk,
        )
        for pk, full_name, relation, birth_date, life_status in members
    ]
    return rows, [pk for pk, *_rest in members]


def _officer_label(row: dict[str, object]) -> str:
    """Role and office, in the reader's language (stored rows keep only the role key)."""
    who = str(Role(str(row["actor__role"])).label)
    place = row["actor__jurisdiction_desa__name"] or row["actor__jurisdiction_kecamatan__name"]
    return f"{who} ({place})" if place else who


def _actor_of_change(row: dict[str, object]) -> str:
    source = str(ChangeSource(str(row["source"])).label)
    if not row["actor__role"]:
        return source
    return f"{source}: {_officer_label(row)}"


def _accesses(keys: list[tuple[str, int]], *, limit: int) -> list[RecordActivity]:
    return [
        RecordActivity(
            at=row["accessed_at"],
            is_access=True,
            actor=row["actor_label"] or (_officer_label(row) if row["actor__role"] else ""),
            purpose=str(AccessPurpose(row["purpose"]).label),
            fields=[],
            reason=row["reason"],
        )
        for row in AccessLog.objects.filter(_of_records(keys))
        .order_by("-accessed_at", "-pk")
        .values(
            "accessed_at",
            "actor_label",
            "actor__role",
            "actor__jurisdiction_desa__name",
            "actor__jurisdiction_kecamatan__name",
            "purpose",
            "reason",
        )[:limit]
    ]


def _activity(
    accesses: list[RecordActivity], change_rows: list[dict[str, Any]], *, limit: int
) -> list[RecordActivity]:
    """Officer and institution reads (AccessLog) and changes (RecordChange), newest first.

    Changes written together (one source, one moment) are shown as one entry.
    """
    models_by_registry = {
        str(Registry.PERMANENT): PermanentResident,
        str(Registry.NON_PERMANENT): NonPermanentResident,
        str(Registry.FAMILY): Family,
    }
    changes: list[RecordActivity] = []
    group: tuple[object, ...] | None = None
    for row in change_rows:
        key = (row["changed_at"], row["source"], row["source_ref"], row["actor_id"], row["reason"])
        try:
            label = _label(models_by_registry[str(row["registry"])], str(row["field"]))
        except FieldDoesNotExist:
            label = str(_DERIVED_LABELS.get(str(row["field"]), row["field"]))
        if key == group:
            changes[-1].fields.append(label)
            continue
        group = key
        changes.append(
            RecordActivity(
                at=row["changed_at"],
                is_access=False,
                actor=_actor_of_change(row),
                purpose="",
                fields=[label],
                reason=row["reason"],
            )
        )
    merged = sorted([*accesses, *changes], key=lambda entry: entry.at, reverse=True)
    return merged[:limit]


def my_record_overview(
    resident: PermanentResident | NonPermanentResident,
    *,
    reveal: bool = False,
    limit: int = 50,
    accesses: bool = True,
    history: bool = True,
) -> RecordOverview:
    """The linked resident's own record with the last change of each field, their family
    (names, relations, birth dates, status: no NIKs) and who read or changed the record.

    `resident` must come with its family/desa/kecamatan loaded (resident_link_for_user does
    that). A fixed number of queries whatever the family size or history length. NIK and KK
    number are masked unless `reveal`; the unmasked values never leave here otherwise.
    A caller that knows the record and family have no access log rows (`accesses=False`) or
    no change history (`history=False`) saves the query for them.
    """
    if isinstance(resident, PermanentResident):
        registry = str(Registry.PERMANENT)
        keys = [(registry, resident.pk), (str(Registry.FAMILY), resident.family_id)]
        members, member_ids = _family_members(resident)
        family_id: int | None = resident.family_id
    else:
        registry = str(Registry.NON_PERMANENT)
        keys = [(registry, resident.pk)]
        members = []
        member_ids = [resident.pk]
        family_id = None
    # Up to ten changed fields for each entry the activity list can show.
    row_limit = limit * 10
    change_rows = _change_rows(keys, limit=row_limit) if history else []
    latest = _latest_of(keys, change_rows, complete=len(change_rows) < row_limit)
    return RecordOverview(
        registry=registry,
        record_id=resident.pk,
        family_id=family_id,
        full_name=resident.full_name,
        revealed=reveal,
        fields=_record_fields(resident, reveal=reveal, latest=latest),
        family_members=members,
        member_ids=member_ids,
        activity=_activity(
            _accesses(keys, limit=limit) if accesses else [], change_rows, limit=limit
        ),
        activity_limit=limit,
    )


def user_has_history(*, user: User) -> bool:
    """Whether rows that must outlive the account point to it (history, audit entries,
    submissions, decisions: every relation declared PROTECT). Such an account is deactivated,
    never deleted, so that nobody's history is cascaded away with it."""
    collector = Collector(using=router.db_for_write(User), origin=user)
    try:
        collector.collect([user])
    except (ProtectedError, RestrictedError):
        return True
    return False


def records_of_nik_indexes(indexes: Iterable[str]) -> list[tuple[str, int]]:
    """The registry records (permanent, then non-permanent) with these NIK blind indexes, as
    (registry, id): for logging a read that showed NIKs. Two queries whatever the count."""
    wanted = {index for index in indexes if index}
    if not wanted:
        return []
    permanent = PermanentResident.objects.filter(nik_index__in=wanted).values_list("pk", flat=True)
    guests = NonPermanentResident.objects.filter(nik_index__in=wanted).values_list("pk", flat=True)
    return [(str(Registry.PERMANENT), pk) for pk in permanent] + [
        (str(Registry.NON_PERMANENT), pk) for pk in guests
    ]


def records_of_accounts(user_ids: Iterable[int]) -> list[tuple[str, int]]:
    """The registry records these accounts are linked to, as (registry, id). One query."""
    links = ResidentLink.objects.filter(user_id__in=list(user_ids)).values_list(
        "permanent_resident_id", "non_permanent_resident_id"
    )
    return [
        (str(Registry.PERMANENT), permanent)
        if permanent is not None
        else (str(Registry.NON_PERMANENT), int(guest))
        for permanent, guest in links
    ]


def records_of_changes(change_ids: Iterable[int]) -> list[tuple[str, int]]:
    """The records these history rows belong to, as (registry, id). One query."""
    return [
        (str(registry), int(record_id))
        for registry, record_id in RecordChange.objects.filter(pk__in=list(change_ids))
        .values_list("registry", "record_id")
        .distinct()
    ]
