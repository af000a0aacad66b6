"""Forms of the management pages: institutions, agreements, the field authority table,
admin invitations, API keys and webhook subscriptions."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from stakeholders import catalogue
from stakeholders.choices import (
    AgreementKind,
    AgreementStatus,
    InstitutionKind,
    ReadScope,
    WriteMode,
)
from stakeholders.manage_selectors import AuthorityRow
from stakeholders.models import Institution, InstitutionMember
from stakeholders.services import API_KEY_MAX_DAYS

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class InstitutionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=InstitutionKind.choices,
        help_text=_("The kind sets the default field authority; it can be edited afterwards."),
    )
    code = forms.SlugField(
        label=_("Short code"),
        max_length=40,
        help_text=_("Lower-case letters, digits and hyphens, e.g. disdik-purworejo."),
    )
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].lower()
        if Institution.objects.filter(code=code).exists():
            raise ValidationError(_("Another institution already has this code."))
        return code


class AgreementForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AgreementKind.choices)
    number = forms.CharField(label=_("Number"), max_length=80)
    purpose = forms.CharField(
        label=_("Purpose and fields"), widget=forms.Textarea(attrs={"rows": 3})
    )
    signed_on = forms.DateField(label=_("Signed on"), widget=_DATE)
    valid_from = forms.DateField(label=_("Valid from"), widget=_DATE)
    valid_until = forms.DateField(label=_("Valid until"), widget=_DATE)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (AgreementStatus.ACTIVE, AgreementStatus.ACTIVE.label),
            (AgreementStatus.DRAFT, AgreementStatus.DRAFT.label),
        ],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The end of validity is before its start."))
        return data


class AgreementStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=AgreementStatus.choices)


class AgreementScopeForm(forms.Form):
    """The population a PKS names (stakeholders.policy); the service checks the combination."""

    scope = forms.ChoiceField(label=_("Population read"))
    min_age = forms.IntegerField(label=_("From age"), required=False, min_value=0, max_value=150)
    max_age = forms.IntegerField(label=_("Up to age"), required=False, min_value=0, max_value=150)
    desa_code = forms.RegexField(
        label=_("Village code"),
        regex=r"^\d{10}$",
        required=False,
        help_text=_("The 10-digit Kemendagri code, for a village's residents."),
    )
    clause = forms.CharField(
        label=_("Clause naming the population"),
        max_length=200,
        required=False,
        help_text=_("The article and paragraph of the agreement, e.g. Pasal 3 ayat (2)."),
    )

    def __init__(self, *args: Any, kind: InstitutionKind, agreement_id: int, **kwargs: Any) -> None:
        # One form per PKS on the page: ids must not collide.
        super().__init__(*args, auto_id=f"scope-{agreement_id}-%s", **kwargs)
        self.agreement_id = agreement_id
        allowed = catalogue.AGREEMENT_SCOPES[kind]
        field = self.fields["scope"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (scope.value, scope.label)
            for scope in ReadScope
            if scope == ReadScope.NONE or scope in allowed
        ]


class AuthorityForm(forms.Form):
    """The whole authority table in one form: a write mode and a read box per element.
    Core identity has no write choice at all, so it cannot be posted writable by mistake;
    the service refuses it anyway if someone posts it by hand."""

    def __init__(self, *args: Any, rows: list[AuthorityRow], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            field = row.element.field
            if not row.locked:
                self.fields[f"write_{field}"] = forms.ChoiceField(
                    label=_("Write: %(element)s") % {"element": row.element.label},
                    choices=WriteMode.choices,
                    initial=row.write,
                    required=False,
                )
            if field != catalogue.ROSTER:
                self.fields[f"read_{field}"] = forms.BooleanField(
                    label=_("Read: %(element)s") % {"element": row.element.label},
                    required=False,
                    initial=row.read,
                )

    def rules(self) -> dict[str, catalogue.Authority]:
        """The posted table as {field: Authority}; a write mode left out keeps its current
        value, and a locked element has none to post."""
        return {
            row.element.field: catalogue.Authority(
                WriteMode(self.cleaned_data.get(f"write_{row.element.field}") or row.write),
                bool(self.cleaned_data.get(f"read_{row.element.field}")),
            )
            for row in self.rows
        }

    def table(self) -> list[tuple[AuthorityRow, forms.BoundField | None, forms.BoundField | None]]:
        """Each row with its bound write and read fields (None where the row has none)."""
        return [
            (
                row,
                self[f"write_{row.element.field}"]
                if f"write_{row.element.field}" in self.fields
                else None,
                self[f"read_{row.element.field}"]
                if f"read_{row.element.field}" in self.fields
                else None,
            )
            for row in self.rows
        ]


class InviteForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail address"))


class MemberDeactivateForm(forms.Form):
    reason = forms.CharField(label=_("Reason for deactivating"), max_length=200)


class ApiKeyHandoverForm(forms.Form):
    """Hand a key to another active admin of the key's institution."""

    to_member = forms.ModelChoiceField(label=_("New holder"), queryset=None)  # type: ignore[arg-type]
    reason = forms.CharField(label=_("Reason for the handover"), max_length=200)

    def __init__(self, *args: Any, institution: Institution, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_member"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            InstitutionMember.objects.filter(
                institution=institution, is_active=True, user__is_active=True
            )
            .select_related("user")
            .order_by("invited_at")
        )
        field.label_from_instance = lambda member: member.user.email


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("What the key is for, e.g. the school information system."),
    )
    valid_days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=API_KEY_MAX_DAYS, initial=365
    )


class WebhookForm(forms.Form):
    url = forms.URLField(
        label=_("Receiver URL"),
        max_length=300,
        assume_scheme="https",
        help_text=_("Each approved change is POSTed here, signed with HMAC-SHA256."),
    )
