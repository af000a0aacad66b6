"""What each kind of submission proposes, in the shape of form F-1.06.

For every kind: the data elements it touches, their current registry values ("before", as
text), how the proposed values ("after") and their basis become Items, which desa reviews it,
and the subject_key that allows one open submission per kind and person. Forms parse input,
services write; this module only reads the registry to know what is there now.
"""

import datetime
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from django.db import models
from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from citizens import crypto
from citizens import selectors as citizen_selectors
from citizens.choices import (
    BloodType,
    Disability,
    Education,
    HealthInsurance,
    LifeStatus,
    MaritalStatus,
    Occupation,
    Registry,
    Religion,
    Sex,
    StayPurpose,
)
from citizens.models import AnyResident, Desa, Family, NonPermanentResident, PermanentResident, User
from citizens.nik import nik_warnings
from submissions import selectors
from submissions.choices import Kind
from submissions.models import Submission
from submissions.services import Item

FIELD_LABELS: Mapping[str, Any] = {
    "nik": _("NIK"),
    "full_name": _("Full name"),
    "birth_place": _("Place of birth"),
    "birth_date": _("Date of birth"),
    "sex": _("Sex"),
    "religion": _("Religion"),
    "blood_type": _("Blood type"),
    "education": _("Education"),
    "occupation": _("Occupation"),
    "marital_status": _("Marital status"),
    "disability": _("Disability"),
    "father_name": _("Father's name"),
    "mother_name": _("Mother's name"),
    "desa": _("Village"),
    "rt": _("RT"),
    "rw": _("RW"),
    "address": _("Street address"),
    "life_status": _("Life status"),
    "death_date": _("Date of death"),
    "death_place": _("Place of death"),
    "destination_address": _("Destination address"),
    "destination_region_code": _("Destination region code"),
    "move_date": _("Date of the move"),
    "origin_address": _("Origin address"),
    "origin_region_code": _("Origin region code"),
    "purpose": _("Purpose of stay"),
    "host_institution": _("Host institution"),
    "domicile_desa": _("Village of domicile"),
    "domicile_rt": _("RT of domicile"),
    "domicile_rw": _("RW of domicile"),
    "domicile_address": _("Address in Purworejo"),
    "start_date": _("Start of stay"),
    "expected_end_date": _("Expected end of stay"),
    "school_enrolment": _("School enrolment"),
    "health_insurance": _("Health insurance"),
    "marriage_record_number": _("Marriage or divorce record number"),
    "marriage_record_date": _("Marriage or divorce record date"),
    "skts_valid_until": _("Letter valid until"),
    "skts_host_name": _("Host or guarantor"),
    "skts_host_nik": _("NIK of the host or guarantor"),
}

_CHOICES: Mapping[str, type[models.Choices]] = {
    "sex": Sex,
    "religion": Religion,
    "blood_type": BloodType,
    "education": Education,
    "occupation": Occupation,
    "marital_status": MaritalStatus,
    "disability": Disability,
    "life_status": LifeStatus,
    "purpose": StayPurpose,
    "health_insurance": HealthInsurance,
}
_DATES = frozenset(
    {
        "birth_date",
        "death_date",
        "move_date",
        "start_date",
        "expected_end_date",
        "marriage_record_date",
    }
)
_VILLAGES = frozenset({"desa", "domicile_desa"})

BIODATA = (
    "full_name",
    "birth_place",
    "birth_date",
    "religion",
    "blood_type",
    "education",
    "occupation",
    "marital_status",
    "disability",
)
ADDRESS = ("desa", "rt", "rw", "address")
BIRTH = (
    "full_name",
    "sex",
    "birth_place",
    "birth_date",
    "religion",
    "father_name",
    "mother_name",
)
DEATH = ("life_status", "death_date", "death_place")
MOVE_OUT = ("life_status", "destination_address", "destination_region_code", "move_date")
# Who a newcomer is: enough to open a registry record.
PERSON = (
    "nik",
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
ARRIVAL = (*PERSON, "desa", "rt", "rw", "address")
NON_PERMANENT = (
    *PERSON,
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
REPORT = ("nik", "full_name", "desa")
# What partner institutions may send for review (stakeholders.catalogue's writable elements).
INSTITUTION = (
    "education",
    "school_enrolment",
    "occupation",
    "marital_status",
    "marriage_record_number",
    "marriage_record_date",
    "health_insurance",
    "disability",
)
# A temporary residence letter request (skts): what the letter will carry beyond the registry.
SKTS = ("skts_valid_until", "skts_host_name", "skts_host_nik")
# What a new record must hold before approval: F-1.01 names the mother of every resident
# (the account link asks for her name); a stay (F-1.15) is registered without it.
BIRTH_REQUIRED = ("full_name", "sex", "birth_place", "birth_date", "religion", "mother_name")
ARRIVAL_REQUIRED = ("nik", *BIRTH_REQUIRED)
NON_PERMANENT_REQUIRED = ("nik", "full_name", "sex", "birth_place", "birth_date")

# How the person concerned is chosen before the proposal form opens.
SUBJECT_MEMBER = "member"  # a member of the filer's family (or, assisted, a resident by NIK)
SUBJECT_FAMILY = "family"  # the filer's own family (assisted: the family of a resident by NIK)
SUBJECT_NONE = "none"  # nobody registered yet: the form names the person


@dataclass(frozen=True)
class KindSpec:
    kind: Kind
    elements: tuple[str, ...]
    help_text: Promise
    subject: str
    # The village operator may file it in assisted mode.
    assisted: bool = True
    # Each changed element names its own document; otherwise one document proves them all.
    basis_per_element: bool = False
    # Elements whose proposed value follows from the kind itself, not from the form.
    implied: Mapping[str, str] = field(default_factory=dict)
    # Only permanent residents (members of a family) can be the subject.
    permanent_only: bool = True
    # The citizen may choose their own record (not for reporting a death).
    self_allowed: bool = True
    # Filed only by the stakeholder exchange (CSV or API), never through the portal's forms.
    institution_only: bool = False
    # The elements the registry record must hold before any approval (form F-1.01 for a new
    # permanent resident, F-1.15 for a stay): proposed now or already registered.
    required: tuple[str, ...] = ()
    # The approval gives a record its NIK (Dukcapil's for a newborn, the newcomer's own),
    # which must then agree with the person's date of birth and sex.
    sets_nik: bool = False


SPECS: Mapping[Kind, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            Kind.BIODATA_CORRECTION,
            BIODATA,
            _("Correct a name, date or place of birth, religion, education, occupation..."),
            SUBJECT_MEMBER,
            basis_per_element=True,
            permanent_only=False,
        ),
        KindSpec(
            Kind.ADDRESS_CHANGE,
            ADDRESS,
            _("Moving to another address inside Purworejo Regency, alone or as a family."),
            SUBJECT_MEMBER,
        ),
        KindSpec(
            Kind.BIRTH,
            BIRTH,
            _("Add a newborn child to the family card."),
            SUBJECT_FAMILY,
            required=BIRTH_REQUIRED,
            sets_nik=True,
        ),
        KindSpec(
            Kind.DEATH,
            DEATH,
            _("Report that a family member has died."),
            SUBJECT_MEMBER,
            implied={"life_status": LifeStatus.DEAD},
            self_allowed=False,
        ),
        KindSpec(
            Kind.MOVE_OUT,
            MOVE_OUT,
            _("Moving out of Purworejo Regency, alone or as a family."),
            SUBJECT_MEMBER,
            implied={"life_status": LifeStatus.MOVED_AWAY},
        ),
        KindSpec(
            Kind.ARRIVAL,
            ARRIVAL,
            _("Coming to live in Purworejo from another regency or city."),
            SUBJECT_NONE,
            required=ARRIVAL_REQUIRED,
            sets_nik=True,
        ),
        KindSpec(
            Kind.NON_PERMANENT,
            NON_PERMANENT,
            _("Staying in Purworejo for less than a year to study, work or for family."),
            SUBJECT_NONE,
            required=NON_PERMANENT_REQUIRED,
            sets_nik=True,
        ),
        KindSpec(
            Kind.REPORT,
            REPORT,
            _(
                "Tell the village that someone's data is wrong or missing, e.g. a neighbour "
                "moved away or died. Your name is only shown to officers."
            ),
            SUBJECT_NONE,
            assisted=False,
        ),
        KindSpec(
            Kind.INSTITUTION_UPDATE,
            INSTITUTION,
            _("Values sent by a partner institution that its agreement routes to review."),
            SUBJECT_MEMBER,
            assisted=False,
            basis_per_element=True,
            permanent_only=False,
            institution_only=True,
        ),
        KindSpec(
            Kind.SKTS,
            SKTS,
            _("A temporary residence letter, requested on the SKTS pages."),
            SUBJECT_MEMBER,
            assisted=False,
            permanent_only=False,
            institution_only=True,
        ),
    )
}


def spec_get(slug: str) -> KindSpec | None:
    """A kind people file through the portal's forms (never an institution-only kind)."""
    try:
        spec = SPECS[Kind(slug)]
    except ValueError:
        return None
    return None if spec.institution_only else spec


def specs_for(*, assisted: bool) -> list[KindSpec]:
    return [
        spec
        for spec in SPECS.values()
        if not spec.institution_only and (spec.assisted or not assisted)
    ]


@dataclass(frozen=True)
class Subject:
    """Whom a submission is about, as registered: a resident and their family, a family
    alone (a birth), or nobody yet (an arrival, a first non-permanent registration)."""

    resident: AnyResident | None = None
    family: Family | None = None


@dataclass(frozen=True)
class Proposal:
    """Everything submission_create needs, derived from one form."""

    kind: Kind
    subject: Subject
    desa: Desa
    subject_key: str
    items: tuple[Item, ...]
    subject_registry: str = ""
    subject_id: int | None = None
    whole_family: bool = False
    description: str = ""
    warnings: tuple[str, ...] = ()


def as_text(value: object) -> str:
    """How registry values are written in items (as citizens.services writes its history)."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def display_value(name: str, text: str) -> str:
    """An item value as people read it: labels for codes, village names, masked NIKs."""
    if not text:
        return ""
    if name in _CHOICES:
        enum = _CHOICES[name]
        try:
            return str(enum(int(text) if issubclass(enum, models.IntegerChoices) else text).label)
        except ValueError:
            return text
    if name in _DATES:
        try:
            return formats.date_format(datetime.date.fromisoformat(text), "DATE_FORMAT")
        except ValueError:
            return text
    if name in _VILLAGES:
        desa = (
            Desa.objects.select_related("kecamatan").filter(pk=text).first()
            if text.isdigit()
            else None
        )
        return f"{desa.name}, {desa.kecamatan.name}" if desa else text
    if name == "nik":
        return citizen_selectors.mask_number(text)
    return text


def subject_choices(spec: KindSpec, members: list[AnyResident]) -> list[AnyResident]:
    """Whom a citizen can pick for this kind, from selectors.family_members_for_filing (which
    lists their own record first)."""
    eligible = members if spec.self_allowed else members[1:]
    return [m for m in eligible if isinstance(m, PermanentResident) or not spec.permanent_only]


def subject_of(resident: AnyResident) -> Subject:
    family = resident.family if isinstance(resident, PermanentResident) else None
    return Subject(resident=resident, family=family)


def own_subject(user: User, spec: KindSpec) -> Subject | None:
    """The subject when the citizen files without choosing anyone: their own family for a
    birth, their own non-permanent record for a renewal. None: they must link their account."""
    link = citizen_selectors.resident_link_for_user(user)
    if spec.subject == SUBJECT_FAMILY:
        if link is None or link.permanent_resident is None:
            return None
        return subject_of(link.permanent_resident)
    if spec.kind == Kind.NON_PERMANENT and link is not None and link.non_permanent_resident:
        return Subject(resident=link.non_permanent_resident)
    return Subject()


def current_values(spec: KindSpec, subject: Subject) -> dict[str, object]:
    """The registry's values of the kind's elements now (empty for someone not registered)."""
    resident, family = subject.resident, subject.family
    if spec.kind == Kind.ADDRESS_CHANGE and family is not None:
        return {"desa": family.desa, "rt": family.rt, "rw": family.rw, "address": family.address}
    if spec.kind in (Kind.DEATH, Kind.MOVE_OUT) and resident is not None:
        values: dict[str, object] = dict.fromkeys(spec.elements, "")
        values["life_status"] = resident.life_status
        if spec.kind == Kind.DEATH:
            values["death_date"] = resident.death_date
        return values
    if (
        spec.kind in (Kind.BIODATA_CORRECTION, Kind.NON_PERMANENT, Kind.INSTITUTION_UPDATE)
        and resident is not None
    ):
        return {name: getattr(resident, name) for name in spec.elements}
    return {}


def proposed_values(submission: Submission) -> tuple[dict[str, str], dict[str, str]]:
    """The stored proposal of a submission being edited: after-values and bases by element."""
    items = list(submission.items.all())
    return (
        {item.field: item.value_after for item in items},
        {item.field: item.basis for item in items},
    )


def _normalised_name(name: str) -> str:
    return " ".join(name.split()).upper()


def _subject_key(
    spec: KindSpec, *, user: User, subject: Subject, data: Mapping[str, object]
) -> str:
    resident, family = subject.resident, subject.family
    if spec.kind in (Kind.ARRIVAL, Kind.NON_PERMANENT):
        return crypto.nik_index(str(data["nik"]))
    if spec.kind == Kind.REPORT:
        target = (
            str(data.get("nik") or "")
            or hashlib.sha256(
                " ".join(str(data.get("description", "")).split()).casefold().encode()
            ).hexdigest()
        )
        return crypto.blind_index(f"{user.pk}:{target}", purpose="report")
    if spec.kind == Kind.BIRTH:
        assert family is not None
        name = _normalised_name(str(data["full_name"]))
        return crypto.blind_index(f"{family.kk_number}:{name}", purpose="birth")
    assert resident is not None
    if data.get("whole_family") and family is not None:
        head = selectors.family_head(family)
        if head is not None:
            return head.nik_index
    return resident.nik_index


def _routing_desa(spec: KindSpec, subject: Subject, data: Mapping[str, object]) -> Desa:
    """The village that reviews first: where the person lives, or where they are going."""
    if spec.kind in (Kind.ADDRESS_CHANGE, Kind.ARRIVAL):
        desa = data["desa"]
    elif spec.kind == Kind.NON_PERMANENT:
        desa = data["domicile_desa"]
    elif spec.kind == Kind.REPORT and subject.resident is None:
        desa = data["desa"]
    elif subject.family is not None:
        desa = subject.family.desa
    else:
        assert subject.resident is not None
        desa = selectors.resident_desa(subject.resident)
    assert isinstance(desa, Desa)
    return desa


def _subject_record(spec: KindSpec, subject: Subject) -> tuple[str, int | None]:
    if spec.kind == Kind.BIRTH and subject.family is not None:
        return Registry.FAMILY, subject.family.pk
    if isinstance(subject.resident, PermanentResident):
        return Registry.PERMANENT, subject.resident.pk
    if isinstance(subject.resident, NonPermanentResident):
        return Registry.NON_PERMANENT, subject.resident.pk
    return "", None


def build(
    spec: KindSpec, *, user: User, subject: Subject, cleaned: Mapping[str, object]
) -> Proposal:
    """Turn a valid form's data into a proposal: one Item per element that really changes."""
    data = {**cleaned, **spec.implied}
    if spec.kind == Kind.REPORT and data.get("nik"):
        # Reports route to the registered person's village when the reporter knows the NIK.
        # Nothing about the person is shown to the reporter, so this reveals nothing.
        found = citizen_selectors.resident_get_by_nik(str(data["nik"]))
        subject = subject_of(found) if found is not None else Subject()
    current = current_values(spec, subject)
    items = []
    for name in spec.elements:
        if name not in data:
            continue
        before, after = as_text(current.get(name)), as_text(data[name])
        if before.strip() == after.strip():
            continue
        basis = data.get(f"basis_{name}") if spec.basis_per_element else data.get("basis")
        items.append(Item(field=name, before=before, after=after, basis=str(basis or "")))
    warnings: tuple[str, ...] = ()
    if spec.kind in (Kind.ARRIVAL, Kind.NON_PERMANENT):
        birth_date, sex = data["birth_date"], data["sex"]
        assert isinstance(birth_date, datetime.date) and isinstance(sex, int)
        warnings = tuple(nik_warnings(str(data["nik"]), birth_date=birth_date, sex=sex))
    registry, record_id = _subject_record(spec, subject)
    return Proposal(
        kind=spec.kind,
        subject=subject,
        desa=_routing_desa(spec, subject, data),
        subject_key=_subject_key(spec, user=user, subject=subject, data=data),
        items=tuple(items),
        subject_registry=registry,
        subject_id=record_id,
        whole_family=bool(data.get("whole_family")),
        description=str(data.get("description") or ""),
        warnings=warnings,
    )


@dataclass(frozen=True)
class ItemRow:
    label: str
    before: str
    after: str
    basis: str


def items_for_display(submission: Submission) -> list[ItemRow]:
    """The stored proposal in element order, with labels and readable values."""
    spec = SPECS[Kind(submission.kind)]
    order = {name: index for index, name in enumerate(spec.elements)}
    items = sorted(submission.items.all(), key=lambda item: order.get(item.field, len(order)))
    return [
        ItemRow(
            label=str(FIELD_LABELS.get(item.field, item.field)),
            before=display_value(item.field, item.value_before),
            after=display_value(item.field, item.value_after),
            basis=item.basis,
        )
        for item in items
    ]
