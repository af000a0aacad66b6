"""Writing an approved submission into the registry, one rule per kind, always through
citizens.services (the registry's one writer), so history and provenance are written there.

Every history row carries source=submission and the tracking code as its reference; the
registry's unique constraint on (record, field, source, reference) means a submission can
never write the same element twice.
"""

import dataclasses
import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext

from citizens import services as registry
from citizens.choices import (
    ChangeSource,
    Education,
    FamilyRelation,
    LifeStatus,
    MaritalStatus,
    Occupation,
    Registry,
)
from citizens.crypto import kk_index
from citizens.exceptions import RegistryError
from citizens.models import (
    AnyResident,
    Desa,
    Family,
    NonPermanentResident,
    PermanentResident,
    RecordChange,
    User,
    registry_of,
)
from citizens.nik import nik_disagreements
from submissions import kinds
from submissions.choices import Kind
from submissions.models import Submission, SubmissionItem
from verification.exceptions import (
    ConflictNotConfirmed,
    MergeRefused,
    NikDisagrees,
    RecordIncomplete,
)

_PERSON_FIELDS = (
    "full_name",
    "birth_place",
    "birth_date",
    "sex",
    "religion",
    "marital_status",
    "education",
    "occupation",
    "father_name",
    "mother_name",
)
_NON_PERMANENT_FIELDS = (
    *_PERSON_FIELDS,
    "origin_address",
    "origin_region_code",
    "purpose",
    "host_institution",
    "domicile_desa",
    "domicile_rt",
    "domicile_rw",
    "domicile_address",
    "start_date",
    "expected_end_date",
)


@dataclass(frozen=True)
class MergeInput:
    """What Dukcapil adds at the final tier: the NIK it assigned to a newborn, the family
    card a newcomer or a single mover joins or opens, the F-1.15 registration reference."""

    nik: str = ""
    kk_number: str = ""
    family_relation: int | None = None
    registration_reference: str = ""


@dataclass(frozen=True)
class MergeResult:
    registry: str
    record_id: int
    changes: int


def merged_nik_index(result: MergeResult) -> str:
    """The blind index of the person a merge wrote ("" for a family's address)."""
    model: type[AnyResident]
    if result.registry == Registry.PERMANENT:
        model = PermanentResident
    elif result.registry == Registry.NON_PERMANENT:
        model = NonPermanentResident
    else:
        return ""
    found = model.objects.filter(pk=result.record_id).values_list("nik_index", flat=True).first()
    return found or ""


def needs_input(submission: Submission) -> tuple[str, ...]:
    """The MergeInput fields the final-tier decision form asks for."""
    if submission.kind == Kind.BIRTH:
        return ("nik",)
    if submission.kind == Kind.ARRIVAL:
        return ("kk_number", "family_relation")
    if submission.kind == Kind.ADDRESS_CHANGE and not submission.whole_family:
        return ("kk_number",)
    if submission.kind == Kind.NON_PERMANENT:
        return ("registration_reference",)
    return ()


def subject_record(submission: Submission) -> AnyResident | Family | None:
    """The registry record the submission concerns, as it is now (None: nobody yet)."""
    models_by_registry: Mapping[str, type[models.Model]] = {
        Registry.PERMANENT: PermanentResident,
        Registry.NON_PERMANENT: NonPermanentResident,
        Registry.FAMILY: Family,
    }
    model = models_by_registry.get(submission.subject_registry)
    if model is None or submission.subject_id is None:
        return None
    record = model._default_manager.filter(pk=submission.subject_id).first()
    assert record is None or isinstance(record, PermanentResident | NonPermanentResident | Family)
    return record


def current_values(submission: Submission) -> dict[str, str]:
    """The registry's values now of the elements the submission changes, as item text."""
    record = subject_record(submission)
    spec = kinds.SPECS[Kind(submission.kind)]
    if isinstance(record, PermanentResident | NonPermanentResident):
        subject = kinds.subject_of(record)
    elif isinstance(record, Family):
        subject = kinds.Subject(family=record)
    else:
        return {}
    if submission.whole_family and submission.family is not None:
        subject = kinds.Subject(resident=subject.resident, family=submission.family)
    values = kinds.current_values(spec, subject)
    return {name: kinds.as_text(value) for name, value in values.items()}


def conflicts(submission: Submission, items: Iterable[SubmissionItem] | None = None) -> list[str]:
    """Elements whose registry value is no longer the "before" the citizen saw: someone
    changed the record after the submission was made."""
    now = current_values(submission)
    if not now:
        return []
    return [
        item.field
        for item in (submission.items.all() if items is None else items)
        if item.field in now and now[item.field].strip() != item.value_before.strip()
    ]


def integrity_check(
    submission: Submission,
    *,
    items: Iterable[SubmissionItem] | None = None,
    data: MergeInput | None = None,
) -> None:
    """The registry's integrity at every approval: the elements the kind requires
    (kinds.KindSpec.required, the F-1.01 ones) are proposed or already registered, and a NIK
    the approval gives a record (the newcomer's own, or Dukcapil's for a newborn in `data`)
    agrees with the person's date of birth and sex. Raises RecordIncomplete, NikDisagrees, or
    MergeRefused for a NIK that is not valid at all; messages name elements, never values."""
    spec = kinds.SPECS[Kind(submission.kind)]
    if not spec.required and not spec.sets_nik:
        return
    after = {
        item.field: item.value_after
        for item in (submission.items.all() if items is None else items)
    }
    values = {**current_values(submission), **after}
    missing = [name for name in spec.required if not values.get(name, "").strip()]
    if missing:
        raise RecordIncomplete(
            missing, [str(kinds.FIELD_LABELS.get(name, name)) for name in missing]
        )
    nik = (data.nik if data is not None else "") or after.get("nik", "")
    if not spec.sets_nik or not nik.strip():
        return
    try:
        birth_date = datetime.date.fromisoformat(values.get("birth_date", ""))
        sex = int(values.get("sex", ""))
        problems = nik_disagreements(nik, birth_date=birth_date, sex=sex)
    except ValidationError as exc:
        raise MergeRefused(" ".join(exc.messages)) from exc
    except ValueError as exc:
        raise MergeRefused() from exc
    if problems:
        raise NikDisagrees(problems)


def _parse(model: type[models.Model], name: str, text: str) -> Any:
    """Item text back to the value the model field holds."""
    if name in ("desa", "domicile_desa"):
        desa = (
            Desa.objects.filter(pk=int(text)).first() if text.isascii() and text.isdigit() else None
        )
        if desa is None:
            raise MergeRefused()
        return desa
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    if text == "" and getattr(field, "null", False):
        return None
    try:
        return field.to_python(text)
    except ValidationError as exc:
        raise MergeRefused() from exc


def _values(
    model: type[models.Model], items: Mapping[str, str], names: Iterable[str]
) -> dict[str, Any]:
    return {name: _parse(model, name, items[name]) for name in names if name in items}


def _family_for(
    *,
    kk_number: str,
    desa: Desa,
    address: str,
    rt: str,
    rw: str,
    officer: User,
    code: str,
) -> tuple[Family, bool]:
    """The family card to join (it exists) or open (it is new); True if it was created. An
    existing card must lie in the approved village: its address becomes the person's."""
    try:
        existing = Family.objects.filter(kk_index=kk_index(kk_number)).first()
    except (ValidationError, ValueError) as exc:
        raise MergeRefused() from exc
    if existing is not None:
        if existing.desa_id != desa.pk:
            raise MergeRefused(_kk_elsewhere())
        return existing, False
    family = registry.family_create(
        kk_number=kk_number,
        desa=desa,
        address=address,
        rt=rt,
        rw=rw,
        source=ChangeSource.SUBMISSION,
        source_ref=code,
        actor=officer,
    )
    return family, True


def merge(
    *,
    submission: Submission,
    officer: User,
    confirmed: Iterable[str] = (),
    data: MergeInput = MergeInput(),
) -> MergeResult | None:
    """Write the approved proposal into the registry and return what was written (None for a
    report, which changes nothing by itself). Runs inside the decision's transaction: any
    refusal rolls the whole decision back."""
    items = list(submission.items.all())
    conflicting = conflicts(submission, items)
    missing = sorted(set(conflicting) - set(confirmed))
    if missing:
        raise ConflictNotConfirmed(
            missing, [str(kinds.FIELD_LABELS.get(name, name)) for name in missing]
        )
    after = {item.field: item.value_after for item in items}
    try:
        result = _MERGERS[Kind(submission.kind)](submission, officer, after, data)
    except RegistryError as exc:
        raise MergeRefused(exc.message) from exc
    except ValidationError as exc:
        raise MergeRefused(" ".join(exc.messages)) from exc
    if result is None:
        return None
    # Count what was really written under this submission's reference (a new family card
    # and the person's creation rows included), rather than trusting each merger's arithmetic.
    written = RecordChange.objects.filter(
        source=ChangeSource.SUBMISSION, source_ref=submission.tracking_code
    ).count()
    if not written:
        raise MergeRefused(_already_merged())
    return dataclasses.replace(result, changes=written)


def _common(submission: Submission, officer: User) -> dict[str, Any]:
    return {
        "source": ChangeSource.SUBMISSION,
        "source_ref": submission.tracking_code,
        "actor": officer,
        "reason": str(submission.get_kind_display()),
    }


def _resident(submission: Submission) -> AnyResident:
    record = subject_record(submission)
    if not isinstance(record, PermanentResident | NonPermanentResident):
        raise MergeRefused()
    return record


def _merge_biodata(
    submission: Submission, officer: User, after: dict[str, str], data: MergeInput
) -> MergeResult:
    resident = _resident(submission)
    history = registry.record_update(
        record=resident,
        changes=_values(type(resident), after, after),
        **_common(submission, officer),
    )
    return MergeResult(registry_of(resident), resident.pk, len(history))


def _merge_address(
    submission: Submission, officer: User, after: dict[str, str], data: MergeInput
) -> MergeResult:
    resident = _resident(submission)
    if submission.whole_family or not isinstance(resident, PermanentResident):
        family = submission.family or getattr(resident, "family", None)
        if family is None:
            raise MergeRefused()
        history = registry.record_update(
            record=family, changes=_values(Family, after, after), **_common(submission, officer)
        )
        return MergeResult(Registry.FAMILY, family.pk, len(history))
    # One person moves: they join or open the family card Dukcapil names at the new address.
    old = resident.family
    target = {
        "desa": _parse(Family, "desa", after["desa"]) if "desa" in after else old.desa,
        "address": after.get("address", old.address),
        "rt": after.get("rt", old.rt),
        "rw": after.get("rw", old.rw),
    }
    if not data.kk_number:
        raise MergeRefused(_kk_required())
    family, created = _family_for(
        kk_number=data.kk_number, officer=officer, code=submission.tracking_code, **target
    )
    if family.pk == old.pk:
        raise MergeRefused(gettext("The person is already on this family card (KK)."))
    relation = FamilyRelation.HEAD if created else (data.family_relation or FamilyRelation.OTHER)
    history = registry.record_update(
        record=resident,
        changes={"family": family, "family_relation": relation},
        **_common(submission, officer),
    )
    return MergeResult(Registry.PERMANENT, resident.pk, len(history))


def _merge_birth(
    submission: Submission, officer: User, after: dict[str, str], data: MergeInput
) -> MergeResult:
    if submission.family is None or not data.nik:
        raise MergeRefused(_nik_required())
    values = _values(PermanentResident, after, _PERSON_FIELDS)
    values.setdefault("marital_status", MaritalStatus.SINGLE)
    values.setdefault("education", Education.NONE)
    values.setdefault("occupation", Occupation.UNEMPLOYED)
    values["family_relation"] = FamilyRelation.CHILD
    child = registry.permanent_resident_create(
        nik=data.nik, family=submission.family, data=values, **_common(submission, officer)
    )
    return MergeResult(Registry.PERMANENT, child.pk, len(values) + 1)


def _close_all(
    submission: Submission, officer: User, status: LifeStatus, death_date: datetime.date | None
) -> MergeResult:
    resident = _resident(submission)
    people: list[AnyResident] = [resident]
    if submission.whole_family and isinstance(resident, PermanentResident):
        people = list(
            PermanentResident.objects.filter(
                family_id=resident.family_id, life_status=LifeStatus.ALIVE
            ).order_by("pk")
        )
    written = 0
    for person in people:
        written += len(
            registry.resident_close(
                resident=person,
                status=status,
                death_date=death_date,
                **_common(submission, officer),
            )
        )
    return MergeResult(registry_of(resident), resident.pk, written)


def _merge_death(
    submission: Submission, officer: User, after: dict[str, str], data: MergeInput
) -> MergeResult:
    death_date = _parse(PermanentResident, "death_date", after.get("death_date", ""))
    return _close_all(submission, officer, LifeStatus.DEAD, death_date)


def _merge_move_out(
    submission: Submission, officer: User, after: dict[str, str], data: MergeInput
) -> MergeResult:
    return _close_all(submission, officer, LifeStatus.MOVED_AWAY, None)


def _merge_arrival(
    submission: Submission, officer: User, after: dict[str, str], data: MergeInput
) -> MergeResult:
    if not data.kk_number:
        raise MergeRefused(_kk_required())
    family, created = _family_for(
        kk_number=data.kk_number,
        desa=_parse(Family, "desa", after["desa"]),
        address=after.get("address", ""),
        rt=after.get("rt", ""),
        rw=after.get("rw", ""),
        officer=officer,
        code=submission.tracking_code,
    )
    values = _values(PermanentResident, after, _PERSON_FIELDS)
    values["family_relation"] = (
        FamilyRelation.HEAD if created else (data.family_relation or FamilyRelation.OTHER)
    )
    resident = registry.permanent_resident_create(
        nik=after["nik"], family=family, data=values, **_common(submission, officer)
    )
    return MergeResult(Registry.PERMANENT, resident.pk, len(values) + 1)


def _merge_non_permanent(
    submission: Submission, officer: User, after: dict[str, str], data: MergeInput
) -> MergeResult:
    values = _values(NonPermanentResident, after, _NON_PERMANENT_FIELDS)
    if data.registration_reference:
        values["registration_reference"] = data.registration_reference
    existing = subject_record(submission)
    if isinstance(existing, NonPermanentResident):  # a renewal or a change of stay
        history = registry.record_update(
            record=existing, changes=values, **_common(submission, officer)
        )
        return MergeResult(Registry.NON_PERMANENT, existing.pk, len(history))
    resident = registry.non_permanent_resident_create(
        nik=after["nik"], data=values, **_common(submission, officer)
    )
    return MergeResult(Registry.NON_PERMANENT, resident.pk, len(values) + 1)


def _merge_report(
    submission: Submission, officer: User, after: dict[str, str], data: MergeInput
) -> None:
    # A confirmed report changes nothing by itself: the officer acts on it with a correction.
    return None


def _merge_skts(
    submission: Submission, officer: User, after: dict[str, str], data: MergeInput
) -> None:
    # A letter request writes nothing to the registry: the letter is issued by the skts app
    # on the submission_approved signal (verification.signals).
    return None


def _kk_required() -> str:
    return gettext("Enter the number of the family card (KK) the person joins or opens.")


def _already_merged() -> str:
    return gettext(
        "The registry already holds the approved values: nothing would change. Reject the "
        "submission as a duplicate instead."
    )


def _kk_elsewhere() -> str:
    return gettext(
        "This family card (KK) is registered in another village than the approved address."
    )


def _nik_required() -> str:
    return gettext("Enter the NIK that Dukcapil assigned to the child.")


_MERGERS = {
    Kind.BIODATA_CORRECTION: _merge_biodata,
    Kind.ADDRESS_CHANGE: _merge_address,
    Kind.BIRTH: _merge_birth,
    Kind.DEATH: _merge_death,
    Kind.MOVE_OUT: _merge_move_out,
    Kind.ARRIVAL: _merge_arrival,
    Kind.NON_PERMANENT: _merge_non_permanent,
    Kind.REPORT: _merge_report,
    Kind.INSTITUTION_UPDATE: _merge_biodata,
    Kind.SKTS: _merge_skts,
}
