"""Forms of the account link pages: they parse input, the rules live in citizens.linking."""

from django import forms
from django.utils.translation import gettext_lazy as _

from citizens.nik import validate_kk_number, validate_nik


def _number_input() -> forms.TextInput:
    return forms.TextInput(
        attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
    )


class IdentityLinkForm(forms.Form):
    """The four details a citizen proves, exactly as on their KTP and family card (KK)."""

    nik = forms.CharField(
        label=_("NIK"),
        max_length=32,
        widget=_number_input(),
        help_text=_("The 16-digit number on your KTP."),
    )
    kk_number = forms.CharField(
        label=_("KK number"),
        max_length=32,
        required=False,
        widget=_number_input(),
        help_text=_(
            "The 16-digit number of your family card. Non-permanent residents without a KK "
            "number on record may leave it empty."
        ),
    )
    birth_date = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
    )
    mother_name = forms.CharField(
        label=_("Mother's name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("Your biological mother's name as written on your family card."),
    )

    def clean_nik(self) -> str:
        return validate_nik(self.cleaned_data["nik"])

    def clean_kk_number(self) -> str:
        value: str = self.cleaned_data["kk_number"].strip()
        return validate_kk_number(value) if value else ""


class LinkConfirmForm(forms.Form):
    """A village operator links a citizen's account after checking their documents in person."""

    email = forms.EmailField(
        label=_("Citizen's account e-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    nik = forms.CharField(label=_("Resident's NIK"), max_length=32, widget=_number_input())
    checked_in_person = forms.BooleanField(
        label=_("I have checked the resident's KTP/KK in person"), required=True
    )

    def clean_nik(self) -> str:
        return validate_nik(self.cleaned_data["nik"])


class LinkMoveForm(forms.Form):
    """A village operator moves a record's link to another account, with the reason."""

    email = forms.EmailField(
        label=_("E-mail address of the account to link instead"),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    nik = forms.CharField(label=_("Resident's NIK"), max_length=32, widget=_number_input())
    reason = forms.CharField(
        label=_("Reason for moving the link"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    checked_in_person = forms.BooleanField(
        label=_("I have checked the resident's KTP/KK in person"), required=True
    )

    def clean_nik(self) -> str:
        return validate_nik(self.cleaned_data["nik"])
