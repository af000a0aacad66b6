"""The one writer of registry data. Submissions, imports and API calls all come through here, so
validation, history (RecordChange) and change events are written in one place."""

import dataclasses
import datetime
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone

from citizens import crypto, filecrypt
from citizens.choices import AccessPurpose, AuditAction, ChangeSource, LifeStatus, Registry
from citizens.exceptions import ConcurrentChange, DuplicateKk, DuplicateNik, UnknownField
from citizens.fields import EncryptedTextField
from citizens.models import (
    BIODATA_FIELDS,
    EXCHANGE_FIELDS,
    AccessLog,
    AuditEntry,
    Desa,
    Family,
    NonPermanentResident,
    PermanentResident,
    RecordChange,
    Resident,
    User,
    registry_of,
)
from citizens.nik import validate_kk_number, validate_nik

RESIDENT_FIELDS = frozenset(BIODATA_FIELDS) | frozenset(EXCHANGE_FIELDS)
# Moving a person to another family card (an address change alone) is a registry change too.
PERMANENT_FIELDS = RESIDENT_FIELDS | {"family", "family_relation"}
NON_PERMANENT_FIELDS = RESIDENT_FIELDS | {
    "kk_number",
    "origin_address",
    "origin_region_code",
    "domicile_desa",
    "domicile_address",
    "domicile_rt",
    "domicile_rw",
    "purpose",
    "host_institution",
    "registration_reference",
    "start_date",
    "expected_end_date",
}
FAMILY_FIELDS = frozenset({"desa", "address", "rt", "rw"})
_Diff = dict[str, tuple[Any, Any]]  # field -> (old value, new value)


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return str(value.pk)
    return str(value)


def _ensure_nik_free(index: str) -> None:
    if (
        PermanentResident.objects.filter(nik_index=index).exists()
        or NonPermanentResident.objects.filter(nik_index=index).exists()
    ):
        raise DuplicateNik()


def _record_creation(
    record: Resident | Family,
    fields: Iterable[str],
    *,
    source: ChangeSource,
    source_ref: str,
    actor: User | None,
    reason: str,
) -> None:
    now = timezone.now()
    RecordChange.objects.bulk_create(
        RecordChange(
            registry=registry_of(record),
            record_id=record.pk,
            field=name,
            old_value="",
            new_value=_as_text(getattr(record, name)),
            source=source,
            source_ref=source_ref,
            actor=actor,
            reason=reason,
            changed_at=now,
        )
        for name in sorted(fields)
    )


@transaction.atomic
def family_create(
    *,
    kk_number: str,
    desa: Desa,
    address: str,
    rt: str,
    rw: str,
    source: ChangeSource,
    source_ref: str = "",
    actor: User | None = None,
    reason: str = "",
) -> Family:
    """Register a family (KK). The KK number must be new and structurally valid."""
    kk_number = validate_kk_number(kk_number)
    index = crypto.kk_index(kk_number)
    if Family.objects.filter(kk_index=index).exists():
        raise DuplicateKk()
    family = Family(kk_number=kk_number, kk_index=index, desa=desa, address=address, rt=rt, rw=rw)
    try:
        with transaction.atomic():
            family.save()
    except IntegrityError as exc:
        raise DuplicateKk() from exc
    _record_creation(
        family,
        ["kk_number", *FAMILY_FIELDS],
        source=source,
        source_ref=source_ref,
        actor=actor,
        reason=reason,
    )
    return family


def _resident_create(
    model: type[Resident],
    allowed: frozenset[str],
    *,
    nik: str,
    data: Mapping[str, Any],
    source: ChangeSource,
    source_ref: str,
    actor: User | None,
    reason: str,
    extra: Mapping[str, Any],
) -> Resident:
    unknown = set(data) - allowed
    if unknown:
        raise UnknownField(sorted(unknown))
    nik = validate_nik(nik)
    index = crypto.nik_index(nik)
    _ensure_nik_free(index)
    resident = model(
        nik=nik,
        nik_index=index,
        name_key=crypto.name_index(str(data["full_name"])),
        **data,
        **extra,
    )
    resident.full_clean(exclude=["nik_index"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            resident.save()
    except IntegrityError as exc:
        raise DuplicateNik() from exc
    _record_creation(
        resident,
        ["nik", *data, *extra],
        source=source,
        source_ref=source_ref,
        actor=actor,
        reason=reason,
    )
    return resident


@transaction.atomic
def permanent_resident_create(
    *,
    nik: str,
    family: Family,
    data: Mapping[str, Any],
    source: ChangeSource,
    source_ref: str = "",
    actor: User | None = None,
    reason: str = "",
) -> PermanentResident:
    """Add a permanent resident to a family. Refuses a NIK already in either registry."""
    resident = _resident_create(
        PermanentResident,
        PERMANENT_FIELDS,
        nik=nik,
        data=data,
        source=source,
        source_ref=source_ref,
        actor=actor,
        reason=reason,
        extra={"family": family},
    )
    assert isinstance(resident, PermanentResident)
    return resident


@transaction.atomic
def non_permanent_resident_create(
    *,
    nik: str,
    data: Mapping[str, Any],
    source: ChangeSource,
    source_ref: str = "",
    actor: User | None = None,
    reason: str = "",
) -> NonPermanentResident:
    """Register a non-permanent resident (F-1.15). Refuses a NIK already in either registry."""
    resident = _resident_create(
        NonPermanentResident,
        NON_PERMANENT_FIELDS,
        nik=nik,
        data=data,
        source=source,
        source_ref=source_ref,
        actor=actor,
        reason=reason,
        extra={},
    )
    assert isinstance(resident, NonPermanentResident)
    return resident


def _allowed_fields(record: Resident | Family) -> frozenset[str]:
    if isinstance(record, PermanentResident):
        return PERMANENT_FIELDS
    if isinstance(record, NonPermanentResident):
        return NON_PERMANENT_FIELDS
    return FAMILY_FIELDS


@transaction.atomic
def record_update(
    *,
    record: Resident | Family,
    changes: Mapping[str, Any],
    source: ChangeSource,
    source_ref: str = "",
    actor: User | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> list[RecordChange]:
    """Apply field changes to a registry record and write one history row per changed field.

    Unchanged values are skipped. The row is updated only if its version is still the one the
    caller read (`expected_version`, default: the instance's), so two writers cannot silently
    overwrite each other: the loser gets ConcurrentChange.
    """
    unknown = set(changes) - _allowed_fields(record)
    if unknown:
        raise UnknownField(sorted(unknown))
    version = record.version if expected_version is None else expected_version
    diff = {
        name: (getattr(record, name), value)
        for name, value in changes.items()
        if _as_text(getattr(record, name)) != _as_text(value)
    }
    if not diff:
        return []
    for name, (_old, new) in diff.items():
        setattr(record, name, new)
    record.full_clean(
        exclude=["nik_index", "kk_index"], validate_unique=False, validate_constraints=False
    )
    now = timezone.now()
    derived: dict[str, Any] = {}
    if "full_name" in diff:
        derived["name_key"] = crypto.name_index(str(diff["full_name"][1]))
    updated = (
        type(record)
        ._default_manager.filter(pk=record.pk, version=version)
        .update(
            **{name: new for name, (_old, new) in diff.items()},
            **derived,
            version=F("version") + 1,
            updated_at=now,
        )
    )
    if updated != 1:
        raise ConcurrentChange()
    for name, value in derived.items():
        setattr(record, name, value)
    record.version = version + 1
    record.updated_at = now
    history = RecordChange.objects.bulk_create(
        RecordChange(
            registry=registry_of(record),
            record_id=record.pk,
            field=name,
            old_value=_as_text(old),
            new_value=_as_text(new),
            source=source,
            source_ref=source_ref,
            actor=actor,
            reason=reason,
            changed_at=now,
        )
        for name, (old, new) in sorted(diff.items())
    )
    moved = _village_moves(record, diff)
    if moved:
        RecordChange.objects.bulk_create(
            RecordChange(
                registry=Registry.PERMANENT,
                record_id=person_id,
                field=FAMILY_VILLAGE,
                old_value=str(old_desa),
                new_value=str(new_desa),
                source=source,
                source_ref=source_ref,
                actor=actor,
                reason=reason,
                changed_at=now,
            )
            for person_id, old_desa, new_desa in moved
        )
    return history


# A permanent resident's village is their family card's. When it changes (the card moves, or
# the person joins a card elsewhere) each person concerned gets a history row of this derived
# element, so their own history and the institutions' change feed show the new village.
FAMILY_VILLAGE = "family_desa"


def _pk(value: object) -> int:
    """The id of a model instance, or the id itself."""
    return value.pk if isinstance(value, models.Model) else int(str(value))


def _village_moves(record: Resident | Family, diff: _Diff) -> list[tuple[int, int, int]]:
    """(person, old desa id, new desa id) for every living person whose village changed."""
    if isinstance(record, Family) and "desa" in diff:
        old, new = (_pk(value) for value in diff["desa"])
        people = PermanentResident.objects.filter(
            family=record, life_status=LifeStatus.ALIVE, closed_at__isnull=True
        ).values_list("pk", flat=True)
        return [(person, old, new) for person in people]
    if isinstance(record, PermanentResident) and "family" in diff:
        old_family, new_family = (_pk(value) for value in diff["family"])
        villages = dict(
            Family.objects.filter(pk__in=[old_family, new_family]).values_list("pk", "desa_id")
        )
        old_desa, new_desa = villages.get(old_family), villages.get(new_family)
        if old_desa is not None and new_desa is not None and old_desa != new_desa:
            return [(record.pk, old_desa, new_desa)]
    return []


@dataclasses.dataclass(frozen=True)
class RecordUpdate:
    """One record's changes for `record_update_many`, with the reference of their source."""

    record: Resident
    changes: Mapping[str, Any]
    source_ref: str
    reason: str = ""


# Rows per UPDATE ... FROM (VALUES ...) statement: well under SQLite's variable limit.
_BULK_ROWS = 1000


@transaction.atomic
def record_update_many(
    *,
    updates: Iterable[RecordUpdate],
    source: ChangeSource,
    actor: User | None = None,
) -> list[Resident]:
    """`record_update` for many residents at once, for institution batches: the same rules
    (allowed fields, each changed value validated, version check, one history row per changed
    field) in a few statements instead of three per record.

    Records are grouped by the set of fields they change; each group is one UPDATE that only
    touches rows whose version is still the one read. Returns the records that changed
    concurrently: nothing was written for them, and the caller may retry them one by one with
    `record_update`.
    """
    now = timezone.now()
    groups: dict[tuple[type[Resident], tuple[str, ...]], list[tuple[RecordUpdate, _Diff]]] = {}
    for update in updates:
        record = update.record
        # A name change also changes the name index: one record at a time, by record_update.
        unknown = set(update.changes) - (_allowed_fields(record) - {"full_name"})
        if unknown:
            raise UnknownField(sorted(unknown))
        diff = {
            name: (getattr(record, name), value)
            for name, value in update.changes.items()
            if _as_text(getattr(record, name)) != _as_text(value)
        }
        for name, (_old, new) in diff.items():
            model_field = record._meta.get_field(name)
            assert isinstance(model_field, models.Field)
            model_field.clean(new, record)
        if diff:
            groups.setdefault((type(record), tuple(sorted(diff))), []).append((update, diff))
    concurrent: list[Resident] = []
    history: list[tuple[Any, ...]] = []
    actor_id = actor.pk if actor is not None else None
    for (model, names), members in groups.items():
        for start in range(0, len(members), _BULK_ROWS):
            batch = members[start : start + _BULK_ROWS]
            written = _update_versioned(model, names, batch, now)
            for update, diff in batch:
                record = update.record
                if record.pk not in written:
                    concurrent.append(record)
                    continue
                for name, (_old, new) in diff.items():
                    setattr(record, name, new)
                record.version += 1
                record.updated_at = now
                registry = registry_of(record)
                history.extend(
                    (
                        registry,
                        record.pk,
                        name,
                        _as_text(old),
                        _as_text(new),
                        source,
                        update.source_ref,
                        actor_id,
                        update.reason,
                        now,
                    )
                    for name, (old, new) in sorted(diff.items())
                )
    _history_write(history)
    return concurrent


_HISTORY_COLUMNS = (
    "registry",
    "record_id",
    "field",
    "old_value",
    "new_value",
    "source",
    "source_ref",
    "actor_id",
    "reason",
    "changed_at",
)


def _history_write(rows: list[tuple[Any, ...]]) -> None:
    """History rows in bulk: COPY on PostgreSQL (several times faster than INSERT for
    thousands of rows), bulk_create elsewhere. Old and new values are encrypted either way."""
    if not rows:
        return
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        RecordChange.objects.bulk_create(
            (RecordChange(**dict(zip(_HISTORY_COLUMNS, row, strict=True))) for row in rows),
            batch_size=_BULK_ROWS,
        )
        return
    encrypted = [
        (
            *row[:3],
            crypto.encrypt(row[3]) if row[3] else "",
            crypto.encrypt(row[4]) if row[4] else "",
            *row[5:],
        )
        for row in rows
    ]
    table = connection.ops.quote_name(RecordChange._meta.db_table)
    sql = f"COPY {table} ({', '.join(_HISTORY_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in encrypted:
            copy.write_row(row)


def _update_versioned(
    model: type[Resident],
    names: tuple[str, ...],
    members: list[tuple[RecordUpdate, _Diff]],
    now: datetime.datetime,
) -> set[int]:
    """One UPDATE of `names` for these records, each only at the version it was read at;
    returns the ids it wrote."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    fields: list[models.Field[Any, Any]] = []
    for name in names:
        model_field = model._meta.get_field(name)
        assert isinstance(model_field, models.Field)
        fields.append(model_field)
    columns = [quote(field.column) for field in fields]
    ids = [update.record.pk for update, _diff in members]
    versions = [update.record.version for update, _diff in members]
    values = [
        [field.get_db_prep_save(diff[name][1], connection) for _update, diff in members]
        for field, name in zip(fields, names, strict=True)
    ]
    table = quote(model._meta.db_table)
    assignments = ", ".join(f"{column} = v.{column}" for column in columns)
    if connection.vendor == "postgresql":
        # One array per column: a handful of parameters however many rows.
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
        names_list = ", ".join(columns)
        source = f"unnest(%s::bigint[], %s::integer[], {arrays}) AS v(_id, _version, {names_list})"
        params: list[Any] = [now, ids, versions, *values]
        prefix = ""
    else:
        # A CTE names the VALUES columns on SQLite; one parameter per value.
        row = "(" + ", ".join(["%s"] * (2 + len(fields))) + ")"
        rows = ", ".join([row] * len(members))
        prefix = f"WITH v(_id, _version, {', '.join(columns)}) AS (VALUES {rows}) "
        source = "v"
        params = [
            value
            for position in range(len(members))
            for value in (
                ids[position],
                versions[position],
                *(column[position] for column in values),
            )
        ]
        params.append(now)
    version = quote("version")
    # Identifiers come from the model's metadata; every value is a parameter.
    update_sql = (
        f"UPDATE {table} SET {assignments}, {version} = {table}.{version} + 1, "  # noqa: S608
        f"{quote('updated_at')} = %s FROM {source} "
        f"WHERE {table}.{quote('id')} = v._id AND {table}.{version} = v._version "
        f"RETURNING {table}.{quote('id')}"
    )
    sql = prefix + update_sql
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


@transaction.atomic
def resident_close(
    *,
    resident: Resident,
    status: LifeStatus,
    death_date: datetime.date | None = None,
    source: ChangeSource,
    source_ref: str = "",
    actor: User | None = None,
    reason: str = "",
) -> list[RecordChange]:
    """Close a record (death, moved away, missing). Records are never deleted."""
    changes: dict[str, Any] = {"life_status": status}
    if status == LifeStatus.DEAD:
        changes["death_date"] = death_date
    history = record_update(
        record=resident,
        changes=changes,
        source=source,
        source_ref=source_ref,
        actor=actor,
        reason=reason,
    )
    type(resident)._default_manager.filter(pk=resident.pk).update(closed_at=timezone.now())
    return history


def access_log_record(
    *,
    actor: User | None,
    registry: Registry,
    record_id: int,
    purpose: AccessPurpose,
    actor_label: str = "",
    reason: str = "",
    nik_index: str = "",
    reference: str = "",
) -> AccessLog:
    """Append who looked at a record and why; the citizen sees this on their own page. An
    officer's view also goes into the audit trail."""
    # Officers are shown by role and office at read time, in the reader's language;
    # `actor_label` names an institution (e.g. for API reads).
    entry = AccessLog.objects.create(
        registry=registry,
        record_id=record_id,
        actor=actor,
        actor_label=actor_label,
        purpose=purpose,
        reason=reason,
    )
    if actor is not None and purpose in (AccessPurpose.OFFICER_VIEW, AccessPurpose.REVIEW):
        audit_record(
            actor=actor,
            action=AuditAction.RECORD_VIEW
            if purpose == AccessPurpose.OFFICER_VIEW
            else AuditAction.REVIEW_VIEW,
            registry=registry,
            record_id=record_id,
            nik_index=nik_index,
            reference=reference,
        )
    return entry


def access_log_record_many(
    *,
    registry: Registry,
    record_ids: Iterable[int],
    purpose: AccessPurpose,
    actor_label: str,
    reason: str = "",
) -> int:
    """One access row per record for an institution's bulk read (an export), in one insert;
    each citizen sees it on their own page like a single lookup. Returns the rows written."""
    return access_log_reads(
        records=((registry, record_id) for record_id in record_ids),
        purpose=purpose,
        actor_label=actor_label,
        reason=reason,
    )


def access_log_reads(
    *,
    records: Iterable[tuple[str, int]],
    purpose: AccessPurpose,
    actor: User | None = None,
    actor_label: str = "",
    reason: str = "",
) -> int:
    """One access row per record shown (a page of a list, a search result, a CSV), each
    record once, in one insert whatever the count; each citizen sees it on their own page.
    `reason` names the read (a tracking code, letter numbers), never a personal value.
    Returns the rows written."""
    now = timezone.now()
    entries = [
        AccessLog(
            registry=registry,
            record_id=record_id,
            actor=actor,
            actor_label=actor_label,
            purpose=purpose,
            reason=reason[:300],
            accessed_at=now,
        )
        for registry, record_id in dict.fromkeys(records)
    ]
    AccessLog.objects.bulk_create(entries, batch_size=_BULK_ROWS)
    return len(entries)


def audit_record(
    *,
    actor: User | None,
    action: AuditAction,
    registry: str = "",
    record_id: int | None = None,
    nik_index: str = "",
    reference: str = "",
    tier: str = "",
    detail: str = "",
) -> AuditEntry:
    """Append one audit entry. The table is append-only (and guarded by a trigger on
    PostgreSQL), so nothing written here can be changed or removed by the application."""
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        registry=registry,
        record_id=record_id,
        nik_index=nik_index,
        reference=reference,
        tier=tier,
        detail=detail[:300],
    )


def _encrypted_models() -> list[tuple[type[models.Model], list[str]]]:
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


def _declare_reencryption() -> None:
    """Tell the append-only triggers (citizens.0013) that this transaction only re-encrypts:
    they then let an UPDATE rewrite a history row's encrypted columns, and nothing else."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL portal.reencrypting = 'on'")


def encryption_keys_rotate(
    *, batch_size: int = 2000, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Re-encrypt every encrypted column, allauth TOTP secrets and every stored file under
    the newest key.

    Each batch is its own transaction, so a long run can be interrupted and started again:
    values already under the newest key are simply encrypted once more.
    """
    counts: dict[str, int] = {}
    for model, names in _encrypted_models():
        label = model._meta.label
        manager = model._base_manager  # bypasses the append-only guard: content is unchanged
        last_pk = 0
        done = 0
        while True:
            with transaction.atomic():
                _declare_reencryption()
                # Locked, so an edit made meanwhile is not overwritten with the value read here.
                rows = list(
                    manager.select_for_update()
                    .filter(pk__gt=last_pk)
                    .order_by("pk")
                    .only("pk", *names)[:batch_size]
                )
                if not rows:
                    break
                manager.bulk_update(rows, names, batch_size=500)
            last_pk = rows[-1].pk
            done += len(rows)
            if progress:
                progress(label, done)
        counts[label] = done
    done = 0
    for authenticator in Authenticator.objects.filter(type=Authenticator.Type.TOTP):
        authenticator.data["secret"] = crypto.rotate(authenticator.data["secret"])
        authenticator.save(update_fields=["data"])
        done += 1
    counts["mfa.Authenticator"] = done
    # Stored files (evidence, batch files, statements, letters, reports): each is rewritten
    # whole and put in place atomically, so an interrupted run leaves every file readable.
    files = filecrypt.files_rotate()
    counts["files"] = files.rotated
    if files.unreadable:
        counts["files unreadable"] = files.unreadable
    if progress:
        progress("files", files.rotated)
    return counts
