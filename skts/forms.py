from django import forms
from django.utils.translation import gettext_lazy as _

from skts.choices import LetterState
from stakeholders.models import Institution


class HostForm(forms.Form):
    host_name = forms.CharField(
        label=_("Host or guarantor (name)"),
        max_length=150,
        help_text=_("The person responsible for you in Purworejo: landlord, dormitory head."),
    )
    host_nik = forms.CharField(
        label=_("NIK of the host or guarantor"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class InstitutionRequestForm(HostForm):
    residents = forms.TypedMultipleChoiceField(
        label=_("Residents"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: object, choices: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["residents"].choices = choices


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for revocation"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RegisterFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *LetterState.choices]
    )
    institution = forms.ModelChoiceField(
        label=_("Institution"), required=False, queryset=Institution.objects.order_by("name")
    )
    issued_from = forms.DateField(
        label=_("Issued from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    issued_until = forms.DateField(
        label=_("Issued until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
