from django import forms
from django.utils.translation import gettext_lazy as _

from citizens import crypto
from citizens.nik import validate_nik


class NikSearchForm(forms.Form):
    """Exact search by NIK for officers; the NIK is turned into its blind index at once."""

    nik = forms.CharField(label=_("NIK"), max_length=32, required=False)

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        nik = cleaned.get("nik")
        if nik:
            cleaned["nik_index"] = crypto.nik_index(validate_nik(nik))
        return cleaned

    def clean_nik(self) -> str:
        value = self.cleaned_data["nik"].strip()
        if value:
            validate_nik(value)
        return value
