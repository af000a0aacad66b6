"""Officer forms: queue filters, the decision, the audit search. NIKs come only by POST."""

import re
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from citizens import crypto
from citizens.choices import FamilyRelation
from citizens.models import Desa
from citizens.nik import validate_kk_number, validate_nik
from submissions.choices import Kind, RejectReason, Status
from submissions.urls import TrackingCodeConverter
from verification import merge
from verification.choices import Outcome
from verification.selectors import QueueFilters

_TRACKING_CODE = re.compile(rf"^{TrackingCodeConverter.regex}$")


class QueueFilterForm(forms.Form):
    """GET filters of the queue; the villages offered are the officer's own."""

    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *Kind.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("All statuses")),
            (Status.SUBMITTED, Status.SUBMITTED.label),
            (Status.IN_REVIEW, Status.IN_REVIEW.label),
        ],
    )
    older_than = forms.IntegerField(
        label=_("Waiting more than (days)"), required=False, min_value=1, max_value=3650
    )
    desa = forms.TypedChoiceField(label=_("Village"), required=False, coerce=int, empty_value=None)
    code = forms.CharField(label=_("Tracking code"), required=False, max_length=20)

    def __init__(self, *args: Any, villages: Sequence[Desa], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        grouped: list[tuple[object, object]] = [("", _("All villages"))]
        for kecamatan, group in groupby(villages, key=lambda desa: desa.kecamatan.name):
            grouped.append((kecamatan, [(desa.pk, desa.name) for desa in group]))
        desa = self.fields["desa"]
        assert isinstance(desa, forms.TypedChoiceField)
        desa.choices = grouped

    def clean_code(self) -> str:
        code = str(self.cleaned_data.get("code") or "").strip().upper()
        if code and not _TRACKING_CODE.match(code):
            raise ValidationError(_("A tracking code looks like PRJ-ABCD-1234."))
        return code

    def filters(self) -> QueueFilters:
        if not self.is_valid():
            return QueueFilters()
        data = self.cleaned_data
        return QueueFilters(
            kind=data.get("kind") or "",
            status=data.get("status") or "",
            older_than_days=data.get("older_than"),
            desa_id=data.get("desa"),
            tracking_code=data.get("code") or "",
        )


class NikSearchForm(forms.Form):
    """Search by NIK, by POST only; the NIK becomes its blind index at once."""

    nik = forms.CharField(label=_("NIK"), max_length=32)

    def clean_nik(self) -> str:
        return validate_nik(self.cleaned_data["nik"].strip())

    @property
    def nik_index(self) -> str:
        return crypto.nik_index(self.cleaned_data["nik"])


class DecisionForm(forms.Form):
    """Approve, reject (with a reason from the list) or return (naming elements). At the last
    tier an approval confirms every conflicting element again and adds what Dukcapil assigns
    (merge.needs_input). The service checks the same rules: this only gives early feedback."""

    outcome = forms.ChoiceField(
        label=_("Decision"), choices=Outcome.choices, widget=forms.RadioSelect
    )
    reason_code = forms.ChoiceField(
        label=_("Reason for the rejection"),
        required=False,
        choices=[("", "—"), *RejectReason.choices],
    )
    return_fields = forms.MultipleChoiceField(
        label=_("Elements to revise"), required=False, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(
        label=_("Note for the citizen"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirmed = forms.MultipleChoiceField(
        label=_("I checked again these elements that changed in the registry"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    nik = forms.CharField(label=_("NIK assigned to the child"), required=False, max_length=32)
    kk_number = forms.CharField(
        label=_("KK number the person joins or opens"), required=False, max_length=32
    )
    family_relation = forms.TypedChoiceField(
        label=_("Relation in that family"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *FamilyRelation.choices],
    )
    registration_reference = forms.CharField(
        label=_("F-1.15 registration reference"), required=False, max_length=40
    )

    def __init__(
        self,
        *args: Any,
        elements: Sequence[tuple[str, str]],
        conflicts: Sequence[tuple[str, str]] = (),
        needs_input: Sequence[str] = (),
        final_tier: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.final_tier = final_tier
        self.needs_input = tuple(needs_input) if final_tier else ()
        self.conflicts = {name for name, _label in conflicts} if final_tier else set()
        self._choices("return_fields").choices = list(elements)
        if final_tier and conflicts:
            self._choices("confirmed").choices = list(conflicts)
        else:
            del self.fields["confirmed"]
        for name in ("nik", "kk_number", "family_relation", "registration_reference"):
            if name not in self.needs_input:
                del self.fields[name]

    def _choices(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field

    def clean_nik(self) -> str:
        value = str(self.cleaned_data.get("nik") or "").strip()
        return validate_nik(value) if value else ""

    def clean_kk_number(self) -> str:
        value = str(self.cleaned_data.get("kk_number") or "").strip()
        return validate_kk_number(value) if value else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        outcome = data.get("outcome")
        note = str(data.get("note") or "").strip()
        if outcome == Outcome.REJECT:
            if not data.get("reason_code"):
                self.add_error("reason_code", _("Choose the reason for the rejection."))
            elif data["reason_code"] == RejectReason.OTHER and not note:
                self.add_error("note", _("Write a note for the citizen."))
        elif outcome == Outcome.RETURN and not note:
            self.add_error("note", _("Write a note for the citizen."))
        elif outcome == Outcome.APPROVE and self.final_tier:
            if "confirmed" in self.fields and set(data.get("confirmed") or ()) != self.conflicts:
                self.add_error(
                    "confirmed",
                    _("Confirm every element that changed in the registry before approving."),
                )
            for name in ("nik", "kk_number", "registration_reference"):
                if name in self.fields and not data.get(name) and name not in self.errors:
                    self.add_error(name, _("This is needed to write the change to the registry."))
        return data

    def decision(self) -> dict[str, Any]:
        """The keyword arguments of services.submission_decide."""
        data = self.cleaned_data
        outcome = Outcome(data["outcome"])
        return {
            "outcome": outcome,
            "note": str(data.get("note") or "").strip(),
            "reason_code": data.get("reason_code") or "" if outcome == Outcome.REJECT else "",
            "fields": list(data.get("return_fields") or ()) if outcome == Outcome.RETURN else [],
            "confirmed_fields": list(data.get("confirmed") or ()),
            "merge_input": merge.MergeInput(
                nik=data.get("nik") or "",
                kk_number=data.get("kk_number") or "",
                family_relation=data.get("family_relation"),
                registration_reference=str(data.get("registration_reference") or "").strip(),
            ),
        }


class AuditSearchForm(forms.Form):
    """Officer and dates may come by GET; the NIK only by POST (the view drops it otherwise)."""

    officer = forms.EmailField(label=_("Officer's e-mail address"), required=False)
    nik = forms.CharField(label=_("NIK"), required=False, max_length=32)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_nik(self) -> str:
        value = str(self.cleaned_data.get("nik") or "").strip()
        return validate_nik(value) if value else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def search(self) -> dict[str, Any]:
        """The keyword arguments of selectors.audit_entries_for."""
        data = self.cleaned_data
        return {
            "officer_email": data.get("officer") or "",
            "nik_index": crypto.nik_index(data["nik"]) if data.get("nik") else "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }
