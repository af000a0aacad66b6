"""Forms of the citizen portal: they parse and validate input. What the input means (items,
routing, who may file) lives in submissions.kinds and submissions.services."""

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citizens.choices import (
    BloodType,
    Disability,
    Education,
    MaritalStatus,
    Occupation,
    Religion,
    Sex,
    StayPurpose,
)
from citizens.models import Desa, Kecamatan, PermanentResident
from citizens.nik import PURWOREJO_REGENCY, nik_disagreements, validate_nik
from submissions.choices import Kind
from submissions.evidence import MAX_BYTES, MAX_FILES
from submissions.kinds import (
    FIELD_LABELS,
    SPECS,
    AnyResident,
    KindSpec,
    as_text,
    display_value,
)

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"]
BASIS_DATALIST = "basis-documents"
BASIS_HELP = _("For example: birth certificate no. 123/2001, diploma, marriage book.")


def _number_input() -> forms.TextInput:
    return forms.TextInput(
        attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
    )


class NikField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", FIELD_LABELS["nik"])
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("widget", _number_input())
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text: str = super().clean(value)
        return validate_nik(text) if text else ""


class UpperCaseField(forms.CharField):
    """Names and places as on the KTP: capitals, single spaces."""

    def to_python(self, value: Any) -> str:
        text = super().to_python(value) or ""
        return " ".join(text.split()).upper()


class RtRwField(forms.CharField):
    """An RT or RW number, stored with three digits ("1" becomes "001")."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("widget", _number_input())
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text: str = super().clean(value)
        if not text.isascii() or not text.isdigit() or int(text) == 0:
            raise ValidationError(_("Enter the RT or RW number, e.g. 3 or 003."), code="rt_rw")
        return text.zfill(3)


class RegionCodeField(forms.CharField):
    """A Kemendagri region code: province (2), regency (4), kecamatan (6) or village (10)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 13)
        kwargs.setdefault("widget", _number_input())
        kwargs.setdefault(
            "help_text",
            _(
                "The Kemendagri code of the regency or city (4 digits, e.g. 3404 for Sleman), "
                "or of the kecamatan or village."
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text = "".join(str(super().clean(value)).replace(".", "").split())
        if not text.isascii() or not text.isdigit() or len(text) not in (2, 4, 6, 10):
            raise ValidationError(
                _("A region code has 2, 4, 6 or 10 digits, e.g. 3404."), code="region_code"
            )
        return text


class DateField(forms.DateField):
    def __init__(self, *, past_only: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", DATE_INPUT_FORMATS)
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        super().__init__(**kwargs)
        self.past_only = past_only

    def clean(self, value: Any) -> datetime.date | None:
        date: datetime.date | None = super().clean(value)
        if date is not None and self.past_only and date > timezone.localdate():
            raise ValidationError(_("This date cannot be in the future."), code="future")
        return date


def _code_choices(choices: Iterable[tuple[Any, Any]]) -> Callable[[], list[tuple[Any, Any]]]:
    def make() -> list[tuple[Any, Any]]:
        return [("", "—"), *choices]

    return make


class CodeField(forms.TypedChoiceField):
    """One of the official SIAK code lists (integer codes)."""

    def __init__(self, choices: Iterable[tuple[Any, Any]], **kwargs: Any) -> None:
        super().__init__(choices=_code_choices(choices), coerce=int, empty_value=None, **kwargs)


def _village_choices() -> list[tuple[Any, Any]]:
    villages: dict[int, list[tuple[str, str]]] = {}
    for desa in Desa.objects.order_by("name").only("pk", "name", "kecamatan_id"):
        villages.setdefault(desa.kecamatan_id, []).append((str(desa.pk), desa.name))
    grouped: list[tuple[Any, Any]] = [("", "—")]
    for kecamatan in Kecamatan.objects.order_by("name"):
        if kecamatan.pk in villages:
            grouped.append((kecamatan.name, villages[kecamatan.pk]))
    return grouped


def _village(pk: str) -> Desa:
    return Desa.objects.select_related("kecamatan").get(pk=pk)


class VillageField(forms.TypedChoiceField):
    """A desa or kelurahan of Purworejo, grouped by kecamatan."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=_village_choices, coerce=_village, empty_value=None, **kwargs)


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    """Several evidence files in one input; their content is vetted by the service."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:  # type: ignore[type-arg]
        uploads = data if isinstance(data, list | tuple) else [data]
        return [super(EvidenceField, self).clean(upload, initial) for upload in uploads if upload]


@dataclass(frozen=True)
class ElementRow:
    name: str
    label: str
    current: str
    field: forms.BoundField
    basis: forms.BoundField | None


class SubjectForm(forms.Form):
    """Whom the submission is about: a member of the citizen's family card, or (assisted) a
    resident of the operator's village by NIK. The NIK travels in the POST body only."""

    subject_nik = NikField(label=_("NIK of the resident"))

    def __init__(
        self, data: Mapping[str, Any] | None = None, *, members: Sequence[AnyResident] | None
    ) -> None:
        super().__init__(data)
        if members is not None:
            field = self.fields["subject_nik"]
            field.label = _("Family member")
            field.widget = forms.Select(
                choices=[(member.nik, self.member_label(member)) for member in members]
            )

    @staticmethod
    def member_label(member: AnyResident) -> str:
        if isinstance(member, PermanentResident):
            return f"{member.full_name} ({member.get_family_relation_display()})"
        return str(member.full_name)


class ProposalForm(forms.Form):
    """The proposal of one kind: for each data element the current value (read-only), the
    proposed value and the document that proves it; plus evidence files."""

    kind: ClassVar[Kind]
    basis_required: ClassVar[bool] = True

    evidence = EvidenceField(
        label=_("Evidence files"),
        help_text=_(
            "PDF, JPEG or PNG; at most 5 files of 5 MB each. Photos of documents are fine."
        ),
    )

    def __init__(
        self,
        data: Any = None,
        files: Any = None,
        *,
        current: Mapping[str, object] | None = None,
        proposed: Mapping[str, str] | None = None,
        proposed_basis: Mapping[str, str] | None = None,
        initial: Mapping[str, object] | None = None,
        assisted: bool = False,
        evidence_count: int = 0,
    ) -> None:
        super().__init__(data, files, initial=dict(initial or {}))
        self.spec: KindSpec = SPECS[self.kind]
        self.current_text = {name: as_text(value) for name, value in (current or {}).items()}
        self.has_current = bool(self.current_text)
        self.evidence_count = evidence_count
        proposed, proposed_basis = proposed or {}, proposed_basis or {}
        for name in self.element_names:
            self.fields[name].label = FIELD_LABELS[name]
            if name in proposed or name in self.current_text:
                self.initial[name] = proposed.get(name, self.current_text.get(name))
            if name in self.spec.required:
                self.fields[name].required = True
            if self.spec.basis_per_element:
                self.fields[f"basis_{name}"] = self._basis_field(_("Document proving the change"))
                self.initial[f"basis_{name}"] = proposed_basis.get(name, "")
        if not self.spec.basis_per_element and self.basis_required:
            self.fields["basis"] = self._basis_field(_("Document proving the change"))
            self.initial["basis"] = next((b for b in proposed_basis.values() if b), "")
        if assisted:
            self.fields["consent"] = forms.BooleanField(
                label=_("The resident was present and consented to this submission"),
                required=True,
            )
        # Keep the evidence input last.
        self.fields["evidence"] = self.fields.pop("evidence")

    @staticmethod
    def _basis_field(label: Any, help_text: Any = BASIS_HELP) -> forms.CharField:
        return forms.CharField(
            label=label,
            max_length=200,
            required=False,
            widget=forms.TextInput(attrs={"list": BASIS_DATALIST}),
            help_text=help_text,
        )

    @property
    def element_names(self) -> list[str]:
        return [name for name in self.spec.elements if name in self.fields]

    def rows(self) -> list[ElementRow]:
        return [
            ElementRow(
                name=name,
                label=str(FIELD_LABELS[name]),
                current=display_value(name, self.current_text.get(name, "")),
                field=self[name],
                basis=self[f"basis_{name}"] if self.spec.basis_per_element else None,
            )
            for name in self.element_names
        ]

    def other_fields(self) -> list[forms.BoundField]:
        """Fields outside the element table (family scope, basis, description, consent...)."""
        skip = {*self.element_names, "evidence"}
        skip |= {f"basis_{name}" for name in self.element_names}
        return [self[name] for name in self.fields if name not in skip]

    def clean_evidence(self) -> list[UploadedFile]:  # type: ignore[type-arg]
        uploads: list[UploadedFile] = self.cleaned_data.get("evidence") or []  # type: ignore[type-arg]
        if self.evidence_count + len(uploads) > MAX_FILES:
            raise ValidationError(
                _("At most %(max)s evidence files may be attached (%(left)s more)."),
                code="too_many",
                params={"max": MAX_FILES, "left": max(MAX_FILES - self.evidence_count, 0)},
            )
        for number, upload in enumerate(uploads, start=1):
            if upload.size is None or upload.size > MAX_BYTES:
                raise ValidationError(
                    _("File %(number)s is larger than 5 MB."),
                    code="too_big",
                    params={"number": number},
                )
        return uploads

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        changed = [
            name
            for name in self.element_names
            if name in cleaned
            and as_text(cleaned[name]).strip() != self.current_text.get(name, "").strip()
        ]
        message = _("Name the document that proves this change.")
        if self.spec.basis_per_element:
            for name in changed:
                if not cleaned.get(f"basis_{name}", "").strip():
                    self.add_error(f"basis_{name}", message)
        elif self.basis_required and changed and not cleaned.get("basis", "").strip():
            self.add_error("basis", message)
        self._check_nik(cleaned)
        return cleaned

    def _check_nik(self, cleaned: Mapping[str, Any]) -> None:
        """A NIK given to a new record must agree with the person (as the approval checks)."""
        nik, birth_date, sex = cleaned.get("nik"), cleaned.get("birth_date"), cleaned.get("sex")
        if not self.spec.sets_nik or not nik or birth_date is None or sex is None:
            return
        if self.has_current:
            return  # a renewal keeps the registered NIK (submission_file refuses another)
        for problem in nik_disagreements(nik, birth_date=birth_date, sex=int(sex)):
            self.add_error("nik", problem)


def _choice(enum_choices: Iterable[tuple[Any, Any]], **kwargs: Any) -> CodeField:
    return CodeField(enum_choices, **kwargs)


class BiodataCorrectionForm(ProposalForm):
    kind = Kind.BIODATA_CORRECTION

    full_name = UpperCaseField(max_length=150)
    birth_place = UpperCaseField(max_length=100)
    birth_date = DateField(past_only=True)
    religion = _choice(Religion.choices)
    blood_type = _choice(BloodType.choices)
    education = _choice(Education.choices)
    occupation = _choice(Occupation.choices)
    marital_status = _choice(MaritalStatus.choices)
    disability = _choice(Disability.choices)


class AddressChangeForm(ProposalForm):
    kind = Kind.ADDRESS_CHANGE

    desa = VillageField()
    rt = RtRwField()
    rw = RtRwField()
    address = forms.CharField(max_length=200)
    whole_family = forms.BooleanField(
        label=_("The whole family moves (everyone on the family card)"), required=False
    )


class BirthForm(ProposalForm):
    kind = Kind.BIRTH

    full_name = UpperCaseField(max_length=150)
    sex = _choice(Sex.choices)
    birth_place = UpperCaseField(max_length=100)
    birth_date = DateField(past_only=True)
    religion = _choice(Religion.choices)
    father_name = UpperCaseField(max_length=150, required=False)
    mother_name = UpperCaseField(max_length=150, required=False)


class DeathForm(ProposalForm):
    kind = Kind.DEATH

    death_date = DateField(past_only=True)
    death_place = UpperCaseField(max_length=100)


class MoveOutForm(ProposalForm):
    kind = Kind.MOVE_OUT

    destination_address = forms.CharField(max_length=200)
    destination_region_code = RegionCodeField()
    move_date = DateField()
    whole_family = forms.BooleanField(
        label=_("The whole family moves (everyone on the family card)"), required=False
    )

    def clean_destination_region_code(self) -> str:
        code: str = self.cleaned_data["destination_region_code"]
        if code.startswith(PURWOREJO_REGENCY):
            raise ValidationError(
                _(
                    "This destination is inside Purworejo Regency: file a change of address "
                    "instead."
                ),
                code="inside_purworejo",
            )
        return code


class _PersonForm(ProposalForm):
    """Who a newcomer is: NIK and the biodata of a new registry record."""

    nik = NikField()
    full_name = UpperCaseField(max_length=150)
    birth_place = UpperCaseField(max_length=100)
    birth_date = DateField(past_only=True)
    sex = _choice(Sex.choices)
    religion = _choice(Religion.choices)
    marital_status = _choice(MaritalStatus.choices)
    education = _choice(Education.choices)
    occupation = _choice(Occupation.choices)
    father_name = UpperCaseField(max_length=150, required=False)
    mother_name = UpperCaseField(max_length=150, required=False)


class ArrivalForm(_PersonForm):
    kind = Kind.ARRIVAL

    desa = VillageField()
    rt = RtRwField()
    rw = RtRwField()
    address = forms.CharField(max_length=200)


def _one_year_after(start: datetime.date) -> datetime.date:
    try:
        return start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        return start.replace(year=start.year + 1, day=28)


class NonPermanentForm(_PersonForm):
    kind = Kind.NON_PERMANENT

    origin_address = forms.CharField(max_length=200)
    origin_region_code = RegionCodeField()
    purpose = forms.ChoiceField(choices=_code_choices(StayPurpose.choices))
    host_institution = forms.CharField(
        max_length=200,
        required=False,
        help_text=_("School, university, employer or the family you stay with."),
    )
    domicile_desa = VillageField()
    domicile_rt = RtRwField()
    domicile_rw = RtRwField()
    domicile_address = forms.CharField(max_length=200)
    start_date = DateField()
    expected_end_date = DateField()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("expected_end_date")
        if start and end:
            if end <= start:
                self.add_error(
                    "expected_end_date", _("The end of the stay must come after its start.")
                )
            elif end > _one_year_after(start):
                self.add_error(
                    "expected_end_date",
                    _(
                        "A non-permanent stay lasts at most one year. For a longer stay, move "
                        "to Purworejo: file an arrival from outside Purworejo instead."
                    ),
                )
        return cleaned


class ReportForm(ProposalForm):
    kind = Kind.REPORT
    basis_required = False

    nik = NikField(required=False, help_text=_("If you know it; leave empty otherwise."))
    full_name = UpperCaseField(max_length=150, help_text=_("The person's name as you know it."))
    desa = VillageField(help_text=_("The village where the person is registered or lives."))
    description = forms.CharField(
        label=_("What is wrong or missing"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For example: moved to Jakarta in March 2025; died on 2 May 2025."),
    )


FORMS: Mapping[Kind, type[ProposalForm]] = {
    form.kind: form
    for form in (
        BiodataCorrectionForm,
        AddressChangeForm,
        BirthForm,
        DeathForm,
        MoveOutForm,
        ArrivalForm,
        NonPermanentForm,
        ReportForm,
    )
}
