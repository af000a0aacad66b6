"""Institution batches, from upload to registry: receive (file or API rows), validate into a
preview, confirm, apply in resumable chunks.

Status moves (`_MOVES`) go through one conditional update each, so a redelivered task or a
second click does nothing harmful. Applying marks each chunk's rows applied in the same
transaction that writes them, and every history row carries the batch and line as its
source reference, so a worker killed mid-file resumes where it stopped without duplicates.
"""

import datetime
import hashlib
import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.db.models import F, Max
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from citizens import crypto, policy
from citizens import selectors as citizen_selectors
from citizens import services as registry
from citizens.choices import AccessPurpose, ChangeSource, Sex, StayPurpose
from citizens.exceptions import ConcurrentChange, RegistryError
from citizens.models import (
    AnyResident,
    Desa,
    NonPermanentResident,
    PermanentResident,
    RecordChange,
    User,
    registry_of,
)
from citizens.nik import validate_nik
from citizens.spreadsheet import data_csv_writer, neutralise
from stakeholders import catalogue, parsing, selectors
from stakeholders import policy as read_policy
from stakeholders.choices import RowOutcome, UploadFormat, UploadStatus, WriteMode
from stakeholders.exceptions import StakeholderError
from stakeholders.models import ExchangeBatch, ExchangeRow, Institution
from submissions import services as review
from submissions.choices import Channel, Kind
from submissions.exceptions import SubmissionError

AnyResidentModel = read_policy.AnyResidentModel

CHUNK = 1000
ACTIONABLE = (RowOutcome.NEW, RowOutcome.CHANGED, RowOutcome.REVIEW)
# Which status a batch may move to from which: data, checked by _transition.
_MOVES: Mapping[str, frozenset[str]] = {
    UploadStatus.RECEIVED: frozenset({UploadStatus.VALIDATING, UploadStatus.CANCELLED}),
    UploadStatus.VALIDATING: frozenset(
        {UploadStatus.VALIDATING, UploadStatus.PREVIEWED, UploadStatus.REFUSED}
    ),
    UploadStatus.PREVIEWED: frozenset(
        {UploadStatus.APPLYING, UploadStatus.CANCELLED, UploadStatus.REFUSED}
    ),
    UploadStatus.APPLYING: frozenset(
        {UploadStatus.APPLYING, UploadStatus.APPLIED, UploadStatus.REFUSED}
    ),
    UploadStatus.APPLIED: frozenset(),
    UploadStatus.REFUSED: frozenset(),
    UploadStatus.CANCELLED: frozenset(),
}
# Roster columns and the non-permanent registry fields they fill.
ROSTER_FIELDS: Mapping[str, str] = {
    "jenis_kelamin": "sex",
    "alamat_asal": "origin_address",
    "kode_wilayah_asal": "origin_region_code",
    "alamat_domisili": "domicile_address",
    "kode_desa_domisili": "domicile_desa",
    "tujuan": "purpose",
    "tanggal_mulai": "start_date",
    "tanggal_selesai": "expected_end_date",
}
# Optional roster columns (catalogue.ROSTER_F115_COLUMNS) and the fields they fill.
ROSTER_F115_FIELDS: Mapping[str, str] = {
    "tempat_lahir": "birth_place",
    "agama": "religion",
    "status_perkawinan": "marital_status",
    "pendidikan": "education",
    "pekerjaan": "occupation",
    "rt_domisili": "domicile_rt",
    "rw_domisili": "domicile_rw",
}
_STAY_PURPOSES = {
    **{value: value for value in StayPurpose.values},
    "studi": StayPurpose.STUDY,
    "kuliah": StayPurpose.STUDY,
    "sekolah": StayPurpose.STUDY,
    "kerja": StayPurpose.WORK,
    "bekerja": StayPurpose.WORK,
    "keluarga": StayPurpose.FAMILY,
    "usaha": StayPurpose.BUSINESS,
    "lainnya": StayPurpose.OTHER,
}
_SEXES = {"1": Sex.MALE, "l": Sex.MALE, "2": Sex.FEMALE, "p": Sex.FEMALE}
_NAME_NOISE = re.compile(r"[.,'`]")


class ExchangeRefused(StakeholderError):
    """The institution may not exchange this batch now; `message` is safe to show and
    `code` is stable (for the API's JSON errors)."""

    def __init__(self, code: str, message: Promise | str) -> None:
        self.code = code
        super().__init__(message)


def _transition(batch_id: int, to: UploadStatus, **extra: Any) -> bool:
    """Move a batch to `to` from any status allowed to reach it; False when it was not in
    one (another worker or click got there first)."""
    sources = [status for status, targets in _MOVES.items() if to in targets]
    if not _MOVES[to]:
        extra.setdefault("closed_at", timezone.now())  # the file's retention runs from here
    updated = ExchangeBatch.objects.filter(pk=batch_id, status__in=sources).update(
        status=to, **extra
    )
    return updated == 1


def _require_member(institution: Institution, user: User) -> None:
    member = selectors.institution_of(user) if policy.is_institution_admin(user) else None
    if member is None or member.pk != institution.pk:
        raise ExchangeRefused("not_member", _("You are not an admin of this institution."))


def _require_agreement(institution: Institution) -> None:
    if not selectors.agreement_in_force(institution):
        raise ExchangeRefused(
            "no_agreement",
            _(
                "Your institution has no MoU and cooperation agreement (PKS) in force: data "
                "exchange is stopped. Contact Dukcapil to renew the agreement."
            ),
        )


def _refused(batch: ExchangeBatch, message: Promise | str) -> ExchangeBatch:
    batch.status = UploadStatus.REFUSED
    batch.refusal = str(message)
    batch.closed_at = timezone.now()
    batch.save()
    return batch


@transaction.atomic
def batch_receive_file(
    *,
    institution: Institution,
    user: User,
    upload: UploadedFile,  # type: ignore[type-arg]
    format: UploadFormat,
) -> ExchangeBatch:
    """Store an uploaded file and queue its validation.

    Refused outright (ExchangeRefused, nothing stored) without an agreement in force or for
    a user who is not the institution's admin. A file refused for its content (too large,
    not UTF-8, a zip bomb, a bad header, already uploaded ...) is recorded as a REFUSED
    batch with the reason and without its content. The file is stored under MEDIA_ROOT by
    its SHA-256, never under the uploaded name.
    """
    _require_member(institution, user)
    _require_agreement(institution)
    name = os.path.basename(str(upload.name or "").replace("\\", "/"))[:200]
    batch = ExchangeBatch(
        institution=institution,
        format=format,
        submitted_by=user,
        original_name=name,
        size=upload.size or 0,
    )
    if batch.size > parsing.MAX_BYTES:
        return _refused(batch, _("The file is larger than 50 MB."))
    content = upload.read(parsing.MAX_BYTES + 1)
    batch.size = len(content)
    if batch.size > parsing.MAX_BYTES:
        return _refused(batch, _("The file is larger than 50 MB."))
    batch.sha256 = hashlib.sha256(content).hexdigest()
    earlier = (
        ExchangeBatch.objects.filter(institution=institution, sha256=batch.sha256)
        .exclude(status__in=(UploadStatus.REFUSED, UploadStatus.CANCELLED))
        .first()
    )
    if earlier is not None:
        return _refused(
            batch,
            _(
                "This file was already uploaded as batch #%(batch)s on %(date)s: it is not "
                "applied twice."
            )
            % {
                "batch": earlier.pk,
                "date": timezone.localtime(earlier.created_at).strftime("%Y-%m-%d"),
            },
        )
    kind = parsing.sniff_kind(content)
    try:
        parsing.precheck(content, format=format)
    except parsing.FileRefused as refusal:
        return _refused(batch, refusal.message)
    batch.extension = ".xlsx" if kind == "xlsx" else ".csv"
    batch.file.save("upload", ContentFile(content), save=False)
    batch.save()
    _enqueue_validation(batch.pk)
    return batch


@transaction.atomic
def batch_receive_rows(
    *,
    institution: Institution,
    user: User,
    format: UploadFormat,
    rows: Sequence[Mapping[str, object]],
    idempotency_key: str,
    via_api: bool = True,
) -> ExchangeBatch:
    """A batch of already-parsed rows (the API): the same checks as a file, then validated
    and, for the API, applied without a human preview. The same idempotency key returns the
    batch it created first. Header problems raise ExchangeRefused (code from parsing)."""
    _require_agreement(institution)
    key = idempotency_key.strip()[:80]
    if not key:
        raise ExchangeRefused("idempotency_key", _("An idempotency key is required."))
    existing = ExchangeBatch.objects.filter(institution=institution, idempotency_key=key).first()
    if existing is not None:
        return existing
    records = [
        {str(name): "" if value is None else str(value) for name, value in row.items()}
        for row in rows
    ]
    try:
        parsed = parsing.parse_records(records, format=format)
    except parsing.FileRefused as refusal:
        raise ExchangeRefused(refusal.code, refusal.message) from None
    buffer = io.StringIO(newline="")
    writer = data_csv_writer(buffer)
    writer.writerow(parsed.columns)
    writer.writerows([row.values[name] for name in parsed.columns] for row in parsed.rows)
    content = buffer.getvalue().encode()
    batch = ExchangeBatch(
        institution=institution,
        format=format,
        via_api=via_api,
        submitted_by=user,
        extension=".csv",
        size=len(content),
        sha256=hashlib.sha256(f"api:{institution.pk}:{key}".encode()).hexdigest(),
        idempotency_key=key,
    )
    batch.file.save("rows", ContentFile(content), save=False)
    try:
        with transaction.atomic():
            batch.save()
    except IntegrityError:
        # A concurrent request with the same key won the race: answer with its batch.
        batch.file.delete(save=False)
        return ExchangeBatch.objects.get(institution=institution, idempotency_key=key)
    _enqueue_validation(batch.pk)
    return batch


def _enqueue_validation(batch_id: int) -> None:
    from stakeholders.tasks import validate_batch

    validate_batch.delay_on_commit(batch_id)


def _enqueue_apply(batch_id: int) -> None:
    """Several appliers share a batch (IMPORT_APPLY_WORKERS): each takes the next chunk not
    locked by another, so a large file uses every worker process."""
    from stakeholders.tasks import apply_batch

    for _applier in range(max(1, settings.IMPORT_APPLY_WORKERS)):
        apply_batch.delay_on_commit(batch_id)


@dataclass
class _Judged:
    outcome: str = ""
    errors: list[str] = field(default_factory=list)
    nik: str = ""
    nik_index: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # registry field -> new value (text)
    decisions: dict[str, str] = field(default_factory=dict)  # registry field -> outcome
    effective_date: datetime.date | None = None


def batch_validate(*, batch_id: int) -> None:
    """Judge every row of a received batch against the registry and the institution's
    authority, and leave a preview (counts, per-field summary, row errors). A redelivered
    task restarts an interrupted validation; nothing is written to the registry here. An
    unexpected failure refuses the batch (and is raised for the log)."""
    if not _transition(batch_id, UploadStatus.VALIDATING, rows_done=0):
        return
    batch = ExchangeBatch.objects.select_related("institution").get(pk=batch_id)
    with translation.override(settings.LANGUAGE_CODE):
        try:
            summary = _validate_rows(batch)
        except parsing.FileRefused as refusal:
            _transition(batch_id, UploadStatus.REFUSED, refusal=str(refusal.message))
            return
        except Exception:
            _transition(
                batch_id,
                UploadStatus.REFUSED,
                refusal=gettext("The file could not be checked because of an error on our side."),
            )
            raise
    extra: dict[str, Any] = {}
    if batch.via_api:
        extra = {"confirmed_by_id": batch.submitted_by_id, "confirmed_at": timezone.now()}
    with transaction.atomic():
        if (
            _transition(
                batch_id,
                UploadStatus.PREVIEWED,
                counts=_counts(batch_id),
                field_summary=summary,
                previewed_at=timezone.now(),
                **extra,
            )
            and batch.via_api
        ):
            _enqueue_apply(batch_id)


def _validate_rows(batch: ExchangeBatch) -> dict[str, dict[str, int]]:
    """Parse the stored file and write its judged rows chunk by chunk (progress in
    rows_done); returns the per-field summary of decisions."""
    parsed = _parse_stored(batch)
    ExchangeRow.objects.filter(batch_id=batch.pk).delete()
    ExchangeBatch.objects.filter(pk=batch.pk).update(rows_total=len(parsed.rows))
    context = _Context.load(batch)
    summary: dict[str, dict[str, int]] = {}
    for start in range(0, len(parsed.rows), CHUNK):
        chunk = parsed.rows[start : start + CHUNK]
        judged = _judge_chunk(batch, context, chunk, columns=parsed.columns)
        with transaction.atomic():
            ExchangeRow.objects.bulk_create(
                ExchangeRow(
                    batch_id=batch.pk,
                    line=row.line,
                    nik_index=result.nik_index,
                    values=json.dumps(
                        {
                            "nik": result.nik or row.values.get("nik", "").strip()[:40],
                            "fields": result.fields,
                        }
                    ),
                    effective_date=result.effective_date,
                    outcome=result.outcome,
                    errors="\n".join(result.errors),
                )
                for row, result in zip(chunk, judged, strict=True)
            )
            ExchangeBatch.objects.filter(pk=batch.pk).update(rows_done=F("rows_done") + len(chunk))
        for result in judged:
            if result.outcome == RowOutcome.ERROR:
                continue
            for name, decision in result.decisions.items():
                per_field = summary.setdefault(name, {})
                per_field[decision] = per_field.get(decision, 0) + 1
    return summary


def _parse_stored(batch: ExchangeBatch) -> parsing.ParsedFile:
    with batch.file.open("rb") as stream:
        content = stream.read(parsing.MAX_BYTES + 1)
    return parsing.parse_file(content, format=UploadFormat(batch.format), by_position=batch.via_api)


def _counts(batch_id: int) -> dict[str, int]:
    counts = {outcome: 0 for outcome in RowOutcome.values}
    for row in (
        ExchangeRow.objects.filter(batch_id=batch_id)
        .values("outcome")
        .annotate(n=models.Count("id"))
    ):
        counts[row["outcome"]] = row["n"]
    return counts


@dataclass
class _Context:
    """What judging needs besides the rows: the authority, desa codes, the day received and,
    for field updates, the populations the institution may read (its read scope)."""

    institution: Institution
    format: UploadFormat
    modes: dict[str, WriteMode]
    received_on: datetime.date
    desa_by_code: dict[str, int]
    scopes: list[read_policy.Scope] | None = None  # None: a roster, not limited to a scope

    @classmethod
    def load(cls, batch: ExchangeBatch) -> "_Context":
        authority = selectors.authority_for(batch.institution)
        roster = batch.format == UploadFormat.ROSTER
        return cls(
            institution=batch.institution,
            format=UploadFormat(batch.format),
            modes={name: rule.write for name, rule in authority.items()},
            received_on=timezone.localtime(batch.created_at).date(),
            desa_by_code=dict(Desa.objects.values_list("code", "pk")) if roster else {},
            # A roster is how people enter the institution's scope, so it is not limited to
            # it; a field update reaches only the residents the institution may read.
            scopes=None if roster else selectors.read_scopes(batch.institution),
        )


def _normalised_name(name: str) -> str:
    return " ".join(_NAME_NOISE.sub(" ", name).split()).casefold()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def _registry_rows(context: _Context, model: AnyResidentModel) -> "models.QuerySet[Any]":
    """Where a chunk looks residents up: the whole registry for a roster, else only the
    residents the institution may read (stakeholders.selectors.residents_in_scope, the same
    rule as the lookup, the export and the feed). A NIK outside the scope is then not found,
    and its row is judged and applied exactly as an unknown NIK: no oracle of existence,
    name, birth date or value for anybody the institution has no reason to read."""
    if context.scopes is None:
        return model._default_manager.all()
    return selectors.residents_in_scope(context.institution, model, scopes=context.scopes)


def _residents(
    indexes: Iterable[str], context: _Context, *, only: Sequence[str] | None = None
) -> dict[str, AnyResident]:
    """Residents of both registries by NIK blind index, within the batch's reach
    (_registry_rows): two queries per chunk, the scope being part of them. With `only`,
    just those fields (and the keys) are loaded, so nothing else is decrypted."""
    wanted = [index for index in set(indexes) if index]
    found: dict[str, AnyResident] = {}
    if not wanted:
        return found
    permanent = _registry_rows(context, PermanentResident).filter(nik_index__in=wanted)
    if only is None:
        permanent = permanent.select_related("family__desa")
    else:
        permanent = permanent.only("id", "version", "updated_at", "nik_index", *only)
    for resident in permanent:
        found[resident.nik_index] = resident
    # Most rows name permanent residents: look in the other registry only for the rest.
    missing = [index for index in wanted if index not in found]
    if missing:
        others = _registry_rows(context, NonPermanentResident).filter(nik_index__in=missing)
        if only is None:
            others = others.select_related("domicile_desa")
        else:
            others = others.only("id", "version", "updated_at", "nik_index", *only)
        for other in others:
            found[other.nik_index] = other
    return found


def _reloaded(resident: AnyResident) -> AnyResident:
    """The whole record, for the one-by-one writers (which validate every field)."""
    model = type(resident)
    related = "family__desa" if model is PermanentResident else "domicile_desa"
    return model._default_manager.select_related(related).get(pk=resident.pk)


def _last_changes(
    residents: Iterable[AnyResident], fields: Iterable[str]
) -> dict[tuple[str, int, str], datetime.datetime]:
    """When each field of each resident last changed: one query per registry and chunk."""
    by_registry: dict[str, list[int]] = {}
    for resident in residents:
        by_registry.setdefault(registry_of(resident), []).append(resident.pk)
    names = sorted(set(fields))
    latest: dict[tuple[str, int, str], datetime.datetime] = {}
    for registry_name, ids in by_registry.items():
        rows = (
            RecordChange.objects.filter(registry=registry_name, record_id__in=ids, field__in=names)
            .values("record_id", "field")
            .annotate(last=Max("changed_at"))
        )
        for row in rows:
            latest[(registry_name, row["record_id"], row["field"])] = row["last"]
    return latest


def _last_changed_on(
    resident: AnyResident, name: str, latest: Mapping[tuple[str, int, str], datetime.datetime]
) -> datetime.date:
    moment = latest.get((registry_of(resident), resident.pk, name), resident.updated_at)
    return timezone.localtime(moment).date()


def _judge_chunk(
    batch: ExchangeBatch,
    context: _Context,
    chunk: Sequence[parsing.ParsedRow],
    *,
    columns: Sequence[str],
) -> list[_Judged]:
    judged = [_identify(row) for row in chunk]
    residents = _residents((result.nik_index for result in judged), context)
    if context.format == UploadFormat.ROSTER:
        fields = [*ROSTER_FIELDS.values(), "host_institution"]
    else:
        fields = [
            catalogue.BY_COLUMN[name].field for name in columns if name in catalogue.BY_COLUMN
        ]
    latest = _last_changes(residents.values(), fields)
    for row, result in zip(chunk, judged, strict=True):
        resident = residents.get(result.nik_index)
        if context.format == UploadFormat.ROSTER:
            _judge_roster(row, result, resident, context)
        else:
            _judge_update(row, result, resident, context, latest)
        if result.errors:
            result.outcome = RowOutcome.ERROR
    return judged


def _identify(row: parsing.ParsedRow) -> _Judged:
    result = _Judged(errors=list(row.errors))
    try:
        result.nik = validate_nik(row.values.get("nik", "").strip())
    except ValidationError as exc:
        result.errors.extend(str(message) for message in exc.messages)
        return result
    result.nik_index = crypto.nik_index(result.nik)
    return result


def _check_identity(
    row: parsing.ParsedRow, result: _Judged, resident: AnyResident | None
) -> AnyResident | None:
    """Name and birth date must match the registry: a mismatch is an error, never an
    update of the name or birth date."""
    name = row.values.get("nama_lengkap", "")
    birth_text = row.values.get("tanggal_lahir", "")
    birth_date = parsing.parse_date(birth_text)
    if not name.strip():
        result.errors.append(gettext("The full name (nama_lengkap) is empty."))
    if birth_date is None:
        result.errors.append(_bad_date("tanggal_lahir", birth_text))
    if resident is None or not name.strip() or birth_date is None:
        return resident
    if _normalised_name(name) != _normalised_name(resident.full_name):
        result.errors.append(
            gettext("The full name does not match the registry for this NIK: nothing updated.")
        )
    if birth_date != resident.birth_date:
        result.errors.append(
            gettext("The date of birth does not match the registry for this NIK: nothing updated.")
        )
    return resident


def _bad_date(column: str, text: str) -> str:
    if not text.strip():
        return gettext("The date in %(column)s is empty.") % {"column": column}
    return gettext(
        "The date in %(column)s is impossible or not written as YYYY-MM-DD, DD-MM-YYYY or "
        "DD/MM/YYYY."
    ) % {"column": column}


def _reasons(exc: ValidationError) -> str:
    """What is wrong with a cell, never its value: Django's messages quote it ("Nilai
    '3306…' bukan pilihan yang valid"), and a value in the wrong column may be a NIK. Stored
    row errors reach the preview, the API and the error CSV."""
    reasons: list[str] = []
    for error in exc.error_list:
        if "value" in (error.params or {}):
            reasons.append(
                gettext("The value is not one of the allowed codes.")
                if error.code == "invalid_choice"
                else gettext("The value is not valid here.")
            )
        else:
            reasons.extend(error.messages)
    return " ".join(dict.fromkeys(reasons))


def _field_value(model: type[AnyResident], name: str, text: str) -> Any:
    """Text to the value the registry field holds, validated like the registry does."""
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.Field)
    raw: Any = text.strip()
    if isinstance(model_field, models.DateField):
        raw = parsing.parse_date(text)
        if raw is None:
            raise ValidationError(_bad_date(catalogue.BY_FIELD[name].column, text))
    return model_field.clean(raw, None)


def _decide(
    *,
    mode: WriteMode,
    current: str,
    new: str,
    effective: datetime.date,
    last_changed: datetime.date,
) -> str:
    if current.strip() == new.strip():
        return RowOutcome.UNCHANGED
    if effective < last_changed:
        return RowOutcome.OLDER
    if mode == WriteMode.REVIEW:
        return RowOutcome.REVIEW
    return RowOutcome.NEW if not current.strip() else RowOutcome.CHANGED


_ROW_ORDER = (
    RowOutcome.REVIEW,
    RowOutcome.CHANGED,
    RowOutcome.NEW,
    RowOutcome.OLDER,
    RowOutcome.UNCHANGED,
)


def _row_outcome(decisions: Iterable[str]) -> str:
    found = set(decisions)
    return next((outcome for outcome in _ROW_ORDER if outcome in found), RowOutcome.UNCHANGED)


def _judge_update(
    row: parsing.ParsedRow,
    result: _Judged,
    resident: AnyResident | None,
    context: _Context,
    latest: Mapping[tuple[str, int, str], datetime.datetime],
) -> None:
    """Validate one field-update row and decide each field it sends."""
    if result.nik_index and resident is None:
        result.errors.append(gettext("No resident with this NIK is in the Purworejo registry."))
    resident = _check_identity(row, result, resident)
    effective_text = row.values.get(catalogue.EFFECTIVE_DATE_COLUMN, "")
    effective = context.received_on
    if effective_text.strip():
        parsed = parsing.parse_date(effective_text)
        if parsed is None:
            result.errors.append(_bad_date(catalogue.EFFECTIVE_DATE_COLUMN, effective_text))
        elif parsed > context.received_on:
            result.errors.append(gettext("The date in berlaku_sejak lies in the future."))
        else:
            effective = parsed
            result.effective_date = parsed
    model: type[AnyResident] = type(resident) if resident is not None else PermanentResident
    for column, text in row.values.items():
        element = catalogue.BY_COLUMN.get(column)
        if element is None or not element.writable or not text.strip():
            continue
        mode = context.modes.get(element.field, WriteMode.NONE)
        if mode == WriteMode.NONE:
            result.errors.append(
                gettext("Your institution may not write %(column)s.") % {"column": column}
            )
            continue
        try:
            value = _field_value(model, element.field, text)
        except ValidationError as exc:
            result.errors.append(
                gettext("%(column)s: %(reason)s") % {"column": column, "reason": _reasons(exc)}
            )
            continue
        result.fields[element.field] = _text(value)
        if resident is not None:
            result.decisions[element.field] = _decide(
                mode=mode,
                current=_text(getattr(resident, element.field)),
                new=_text(value),
                effective=effective,
                last_changed=_last_changed_on(resident, element.field, latest),
            )
    if not result.fields and not result.errors:
        result.errors.append(gettext("The row sends no value to update."))
    result.outcome = _row_outcome(result.decisions.values())


def _roster_values(row: parsing.ParsedRow, result: _Judged, context: _Context) -> dict[str, Any]:
    values: dict[str, Any] = {}
    sex = _SEXES.get(row.values.get("jenis_kelamin", "").strip().lower())
    if sex is None:
        result.errors.append(gettext("jenis_kelamin must be 1 or L (male), 2 or P (female)."))
    values["sex"] = sex
    for column in ("alamat_asal", "alamat_domisili"):
        text = " ".join(row.values.get(column, "").split())
        if not text:
            result.errors.append(gettext("%(column)s is empty.") % {"column": column})
        values[ROSTER_FIELDS[column]] = text
    region = row.values.get("kode_wilayah_asal", "").strip().replace(".", "")
    if not (region.isascii() and region.isdigit() and len(region) in (2, 4, 6, 10)):
        result.errors.append(
            gettext("kode_wilayah_asal must be a Kemendagri region code of 2, 4, 6 or 10 digits.")
        )
    values["origin_region_code"] = region
    desa_code = row.values.get("kode_desa_domisili", "").strip().replace(".", "")
    desa_id = context.desa_by_code.get(desa_code)
    if desa_id is None:
        result.errors.append(gettext("kode_desa_domisili is not a village of Purworejo."))
    values["domicile_desa"] = desa_id
    purpose = _STAY_PURPOSES.get(row.values.get("tujuan", "").strip().lower())
    if purpose is None:
        result.errors.append(
            gettext("tujuan must be one of: %(values)s.") % {"values": ", ".join(_STAY_PURPOSES)}
        )
    values["purpose"] = purpose
    for column in ("tanggal_mulai", "tanggal_selesai"):
        text = row.values.get(column, "")
        day = parsing.parse_date(text)
        if day is None:
            result.errors.append(_bad_date(column, text))
        values[ROSTER_FIELDS[column]] = day
    start, end = values["start_date"], values["expected_end_date"]
    if start and end and end < start:
        result.errors.append(gettext("tanggal_selesai lies before tanggal_mulai."))
    values["host_institution"] = context.institution.name[:200]
    for column, name in ROSTER_F115_FIELDS.items():
        text = row.values.get(column, "").strip()
        if not text:
            continue
        try:
            values[name] = _field_value(NonPermanentResident, name, text)
        except ValidationError as exc:
            result.errors.append(
                gettext("%(column)s: %(reason)s") % {"column": column, "reason": _reasons(exc)}
            )
    return values


def _judge_roster(
    row: parsing.ParsedRow, result: _Judged, resident: AnyResident | None, context: _Context
) -> None:
    """Validate one roster row. A new person is always reviewed and needs every element of
    form F-1.15 (the optional columns included); a known non-permanent resident is updated."""
    mode = context.modes.get(catalogue.ROSTER, WriteMode.NONE)
    if mode == WriteMode.NONE:
        result.errors.append(gettext("Your institution may not send a roster."))
    if isinstance(resident, PermanentResident):
        result.errors.append(
            gettext("This NIK belongs to a permanent resident of Purworejo, not a newcomer.")
        )
    birth_date = parsing.parse_date(row.values.get("tanggal_lahir", ""))
    values = _roster_values(row, result, context)
    if resident is None:
        _check_identity(row, result, None)
        missing = [
            column for column in ROSTER_F115_FIELDS if not row.values.get(column, "").strip()
        ]
        if missing:
            result.errors.append(
                gettext(
                    "This NIK is not registered yet: registering a newcomer (form F-1.15) "
                    "also needs %(columns)s."
                )
                % {"columns": ", ".join(missing)}
            )
        values |= {
            "full_name": " ".join(row.values.get("nama_lengkap", "").split()).upper(),
            "birth_date": birth_date,
        }
        result.fields = {name: _text(value) for name, value in values.items()}
        result.decisions = dict.fromkeys(result.fields, RowOutcome.REVIEW)
        result.outcome = RowOutcome.REVIEW
        return
    _check_identity(row, result, resident)
    if values.pop("sex") not in (None, resident.sex):
        result.errors.append(
            gettext("jenis_kelamin does not match the registry for this NIK: nothing updated.")
        )
    result.fields = {name: _text(value) for name, value in values.items()}
    result.decisions = {
        name: _decide(
            mode=mode,
            current=_text(getattr(resident, name)),
            new=text,
            effective=context.received_on,
            last_changed=context.received_on,
        )
        for name, text in result.fields.items()
    }
    result.outcome = _row_outcome(result.decisions.values())


@transaction.atomic
def batch_confirm(*, batch: ExchangeBatch, user: User) -> ExchangeBatch:
    """The institution admin confirms the preview; a worker then applies it."""
    _require_member(batch.institution, user)
    _require_agreement(batch.institution)
    updated = ExchangeBatch.objects.filter(
        pk=batch.pk, status=UploadStatus.PREVIEWED, confirmed_at__isnull=True
    ).update(confirmed_by=user, confirmed_at=timezone.now())
    if updated != 1:
        raise ExchangeRefused(
            "not_previewed", _("This batch is not waiting for confirmation any more.")
        )
    _enqueue_apply(batch.pk)
    batch.refresh_from_db()
    return batch


@transaction.atomic
def batch_cancel(*, batch: ExchangeBatch, user: User) -> ExchangeBatch:
    """Cancel a batch that has not been confirmed: nothing of it is applied."""
    _require_member(batch.institution, user)
    updated = ExchangeBatch.objects.filter(
        pk=batch.pk,
        status__in=(UploadStatus.RECEIVED, UploadStatus.PREVIEWED),
        confirmed_at__isnull=True,
    ).update(status=UploadStatus.CANCELLED, closed_at=timezone.now())
    if updated != 1:
        raise ExchangeRefused(
            "not_cancellable", _("This batch can no longer be cancelled: it is being applied.")
        )
    batch.refresh_from_db()
    return batch


def batch_apply(*, batch_id: int) -> None:
    """Apply a confirmed batch, chunk by chunk, alongside any other applier of the same batch;
    resumes an interrupted run (a redelivered task finds the batch APPLYING and carries on with
    the rows not yet applied). Whoever finds no row left unapplied marks the batch applied."""
    batch = ExchangeBatch.objects.select_related("institution").get(pk=batch_id)
    if batch.status == UploadStatus.PREVIEWED and batch.confirmed_at is not None:
        if not selectors.agreement_in_force(batch.institution):
            with translation.override(settings.LANGUAGE_CODE):
                _transition(
                    batch_id,
                    UploadStatus.REFUSED,
                    refusal=gettext("The agreement expired before the batch was applied."),
                )
            return
        with transaction.atomic():
            # Only one applier starts the batch; the others join it below.
            started = ExchangeBatch.objects.filter(
                pk=batch_id, status=UploadStatus.PREVIEWED
            ).update(status=UploadStatus.APPLYING, rows_done=0)
            if started:
                done = (
                    ExchangeRow.objects.filter(batch_id=batch_id)
                    .exclude(outcome__in=ACTIONABLE)
                    .update(applied=True)
                )
                ExchangeBatch.objects.filter(pk=batch_id).update(rows_done=done)
        batch.refresh_from_db(fields=["status"])
    if batch.status != UploadStatus.APPLYING:
        return
    with translation.override(settings.LANGUAGE_CODE):
        context = _Context.load(batch)
        while apply_chunk(batch, context):
            pass
    # Rows another applier is still writing are not applied yet: that applier finishes.
    if not ExchangeRow.objects.filter(batch_id=batch_id, applied=False).exists():
        _transition(
            batch_id, UploadStatus.APPLIED, applied_at=timezone.now(), counts=_counts(batch_id)
        )


@transaction.atomic
def apply_chunk(batch: ExchangeBatch, context: _Context) -> int:
    """Apply the next chunk of rows in one transaction that also marks them applied; returns
    how many rows it took (0: nothing left). Rows locked by another worker are skipped.

    Reads in bulk (residents by blind index, last-change dates). Field updates that are only
    adopted go through the registry's bulk writer; rows with a value for review, roster rows
    and records changed meanwhile go one by one. Every history row has the source reference
    "b<batch>:<line>"."""
    rows = list(
        ExchangeRow.objects.select_for_update(skip_locked=True)
        .filter(batch_id=batch.pk, applied=False)
        .order_by("line")[:CHUNK]
    )
    if not rows:
        return 0
    payloads = {row.pk: json.loads(row.values) for row in rows}
    names = {name for payload in payloads.values() for name in payload["fields"]}
    actor = batch.confirmed_by or batch.submitted_by
    if context.format == UploadFormat.ROSTER:
        residents = _residents((row.nik_index for row in rows), context)
        for row in rows:
            with _row_errors(row):
                row.outcome = _apply_roster(
                    batch, context, row, payloads[row.pk], residents.get(row.nik_index), actor
                )
    else:
        residents = _residents((row.nik_index for row in rows), context, only=sorted(names))
        # A value dated today or later is never older than the registry's: look up the last
        # changes only for residents whose row claims an earlier date.
        today = timezone.localdate()
        dated = {
            row.nik_index for row in rows if (row.effective_date or context.received_on) < today
        }
        latest = _last_changes(
            (resident for index, resident in residents.items() if index in dated), names
        )
        _apply_updates(batch, context, rows, payloads, residents, latest, actor)
    # Rows mostly share an outcome and have no error: one UPDATE per (outcome, errors).
    groups: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        groups.setdefault((row.outcome, row.errors), []).append(row.pk)
    for (outcome, errors), ids in groups.items():
        ExchangeRow.objects.filter(pk__in=ids).update(outcome=outcome, errors=errors, applied=True)
    ExchangeBatch.objects.filter(pk=batch.pk).update(rows_done=F("rows_done") + len(rows))
    return len(rows)


@contextmanager
def _row_errors(row: ExchangeRow) -> Iterator[None]:
    """Turn a row's refusal into its outcome and message instead of failing the chunk."""
    try:
        yield
    except (RegistryError, SubmissionError) as exc:
        row.outcome, row.errors = RowOutcome.ERROR, str(exc.message)
    except ValidationError as exc:
        row.outcome, row.errors = RowOutcome.ERROR, " ".join(exc.messages)


def _apply_updates(
    batch: ExchangeBatch,
    context: _Context,
    rows: Sequence[ExchangeRow],
    payloads: Mapping[int, Mapping[str, Any]],
    residents: Mapping[str, AnyResident],
    latest: Mapping[tuple[str, int, str], datetime.datetime],
    actor: User | None,
) -> None:
    bulk: list[tuple[ExchangeRow, registry.RecordUpdate]] = []
    for row in rows:
        with _row_errors(row):
            resident = residents.get(row.nik_index)
            if resident is None:
                raise RegistryError(
                    gettext("No resident with this NIK is in the Purworejo registry.")
                )
            plan = _plan_update(batch, context, row, payloads[row.pk], resident, latest)
            row.outcome = plan.outcome
            if plan.to_review:
                _apply_planned(batch, row, _reloaded(resident), plan, actor)
            elif plan.adopt:
                update = registry.RecordUpdate(
                    record=resident,
                    changes=plan.adopt,
                    source_ref=_source_ref(batch, row),
                    reason=_basis(batch, row),
                )
                bulk.append((row, update))
    if not bulk:
        return
    concurrent = registry.record_update_many(
        updates=[update for _row, update in bulk], source=_source(batch), actor=actor
    )
    # Records written by someone else since the chunk read them: again, one by one.
    moved = {id(record) for record in concurrent}
    for row, update in bulk:
        if id(update.record) in moved:
            with _row_errors(row):
                _record_update(batch, row, _reloaded(update.record), update.changes, actor)  # type: ignore[arg-type]


def _basis(batch: ExchangeBatch, row: ExchangeRow) -> str:
    return f"{batch.institution.name}, batch #{batch.pk} line {row.line}"[:300]


def _resident_desa(resident: AnyResident) -> Desa:
    if isinstance(resident, PermanentResident):
        return resident.family.desa
    return resident.domicile_desa


@dataclass
class _Plan:
    outcome: str
    adopt: dict[str, Any] = field(default_factory=dict)
    to_review: list[review.Item] = field(default_factory=list)


def _plan_update(
    batch: ExchangeBatch,
    context: _Context,
    row: ExchangeRow,
    payload: Mapping[str, Any],
    resident: AnyResident,
    latest: Mapping[tuple[str, int, str], datetime.datetime],
) -> _Plan:
    """Decide each field of a row again against the registry as it is now."""
    effective = row.effective_date or context.received_on
    plan = _Plan(outcome=RowOutcome.UNCHANGED)
    decisions: list[str] = []
    for name, text in payload["fields"].items():
        mode = context.modes.get(name, WriteMode.NONE)
        if mode == WriteMode.NONE:
            raise RegistryError(
                gettext("Your institution may not write %(column)s.")
                % {"column": catalogue.BY_FIELD[name].column}
            )
        current = _text(getattr(resident, name))
        decision = _decide(
            mode=mode,
            current=current,
            new=text,
            effective=effective,
            last_changed=_last_changed_on(resident, name, latest),
        )
        decisions.append(decision)
        if decision in (RowOutcome.NEW, RowOutcome.CHANGED):
            # Checked when the file was previewed; the registry's writer validates it again.
            plan.adopt[name] = _stored_value(type(resident), name, text)
        elif decision == RowOutcome.REVIEW:
            plan.to_review.append(review.Item(name, current, text, basis=_basis(batch, row)))
    plan.outcome = _row_outcome(decisions)
    return plan


def _apply_planned(
    batch: ExchangeBatch, row: ExchangeRow, resident: AnyResident, plan: _Plan, actor: User | None
) -> None:
    # Each writer runs in its own savepoint; a row needing both is applied whole or not at all.
    with transaction.atomic() if plan.adopt and plan.to_review else nullcontext():
        if plan.adopt:
            _record_update(batch, row, resident, plan.adopt, actor)
        if plan.to_review:
            _send_to_review(
                batch,
                kind=Kind.INSTITUTION_UPDATE,
                items=plan.to_review,
                resident=resident,
                row=row,
            )


def _source(batch: ExchangeBatch) -> ChangeSource:
    return ChangeSource.API if batch.via_api else ChangeSource.IMPORT_ROW


def _source_ref(batch: ExchangeBatch, row: ExchangeRow) -> str:
    return f"b{batch.pk}:{row.line}"


def _record_update(
    batch: ExchangeBatch,
    row: ExchangeRow,
    resident: AnyResident,
    changes: Mapping[str, Any],
    actor: User | None,
) -> None:
    try:
        registry.record_update(
            record=resident,
            changes=changes,
            source=_source(batch),
            source_ref=_source_ref(batch, row),
            actor=actor,
            reason=_basis(batch, row),
        )
    except ConcurrentChange:
        # Someone else wrote the record since it was read: read it again once.
        registry.record_update(
            record=_reloaded(resident),
            changes=changes,
            source=_source(batch),
            source_ref=_source_ref(batch, row),
            actor=actor,
            reason=_basis(batch, row),
        )


def _send_to_review(
    batch: ExchangeBatch,
    *,
    kind: Kind,
    items: Sequence[review.Item],
    row: ExchangeRow,
    resident: AnyResident | None,
    desa: Desa | None = None,
) -> None:
    filer = batch.submitted_by
    if filer is None:
        raise RegistryError(gettext("The batch has no submitter to file the review."))
    submission = review.submission_create(
        kind=kind,
        filed_by=filer,
        citizen=None,
        channel=Channel.API if batch.via_api else Channel.INSTITUTION_CSV,
        desa=desa or _resident_desa(resident),  # type: ignore[arg-type]
        subject_registry=registry_of(resident) if resident is not None else "",
        subject_id=resident.pk if resident is not None else None,
        subject_key=row.nik_index,
        items=items,
        description=_basis(batch, row),
    )
    review.submission_submit(submission=submission, actor=filer)


def _apply_roster(
    batch: ExchangeBatch,
    context: _Context,
    row: ExchangeRow,
    payload: Mapping[str, Any],
    resident: AnyResident | None,
    actor: User | None,
) -> str:
    fields: dict[str, str] = payload["fields"]
    mode = context.modes.get(catalogue.ROSTER, WriteMode.NONE)
    if mode == WriteMode.NONE:
        raise RegistryError(gettext("Your institution may not send a roster."))
    desa = Desa.objects.get(pk=int(fields["domicile_desa"]))
    if resident is None:
        items = [review.Item("nik", "", payload["nik"], basis=_basis(batch, row))]
        items += [
            review.Item(name, "", text, basis=_basis(batch, row)) for name, text in fields.items()
        ]
        _send_to_review(
            batch, kind=Kind.NON_PERMANENT, items=items, row=row, resident=None, desa=desa
        )
        return RowOutcome.REVIEW
    if isinstance(resident, PermanentResident):
        raise RegistryError(
            gettext("This NIK belongs to a permanent resident of Purworejo, not a newcomer.")
        )
    changed = {
        name: text for name, text in fields.items() if _text(getattr(resident, name)) != text
    }
    if not changed:
        return RowOutcome.UNCHANGED
    if mode == WriteMode.REVIEW:
        items = [
            review.Item(name, _text(getattr(resident, name)), text, basis=_basis(batch, row))
            for name, text in changed.items()
        ]
        _send_to_review(batch, kind=Kind.NON_PERMANENT, items=items, row=row, resident=resident)
        return RowOutcome.REVIEW
    values: dict[str, Any] = {
        name: desa if name == "domicile_desa" else _roster_field(name, text)
        for name, text in changed.items()
    }
    _record_update(batch, row, resident, values, actor)
    return RowOutcome.CHANGED


def _stored_value(model: type[AnyResident], name: str, text: str) -> Any:
    """A value kept in a previewed row (already checked) back to the registry field's type."""
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.Field)
    return model_field.to_python(text) if text != "" else ""


def _roster_field(name: str, text: str) -> Any:
    model_field = NonPermanentResident._meta.get_field(name)
    assert isinstance(model_field, models.Field)
    return model_field.to_python(text)


ERROR_CSV_HEADER = ("baris", "nik", "kesalahan")


def batch_error_csv(batch: ExchangeBatch) -> list[list[str]]:
    """The row errors of a batch, for download: line, NIK, reasons; every cell neutralised
    against formula injection (again by spreadsheet.csv_writer, which is idempotent)."""
    rows: list[list[str]] = [list(ERROR_CSV_HEADER)]
    for line, values, errors in (
        ExchangeRow.objects.filter(batch=batch, outcome=RowOutcome.ERROR)
        .order_by("line")
        .values_list("line", "values", "errors")
        .iterator(chunk_size=CHUNK)
    ):
        nik = json.loads(values).get("nik", "") if values else ""
        rows.append([str(line), neutralise(nik), neutralise(errors.replace("\n", "; "))])
    return rows


def batch_errors_read_record(*, batch: ExchangeBatch, user: User) -> int:
    """The error CSV shows each error row's NIK: one access row per registry record among
    them, in one insert, which the person sees on their own page (an institution's read
    under its name, a Dukcapil officer's as an export). Returns the rows written."""
    indexes = ExchangeRow.objects.filter(batch=batch, outcome=RowOutcome.ERROR).values_list(
        "nik_index", flat=True
    )
    own = selectors.institution_of(user) == batch.institution
    return registry.access_log_reads(
        records=citizen_selectors.records_of_nik_indexes(indexes),
        purpose=AccessPurpose.INSTITUTION_READ if own else AccessPurpose.EXPORT,
        actor=user,
        actor_label=batch.institution.name if own else "",
        reason=f"batch {batch.pk}",
    )
