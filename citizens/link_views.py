"""The account link pages: a citizen proves their identity, or a village operator confirms it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from citizens import linking, policy, selectors
from citizens.choices import Role
from citizens.exceptions import RegistryError
from citizens.link_forms import IdentityLinkForm, LinkConfirmForm
from citizens.models import User

MY_DATA_URL = "mydata:overview"


def _account(request: HttpRequest) -> User:
    # login_required has run; this only narrows the type.
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def identity_link(request: HttpRequest) -> HttpResponse:
    """The details are POSTed, so no NIK ever lands in a URL or an access log."""
    user = _account(request)
    if selectors.resident_link_for_user(user) is not None:
        messages.info(request, _("Your account is already linked to your population record."))
        return redirect(MY_DATA_URL)
    form = IdentityLinkForm(request.POST or None)
    if form.is_valid():
        try:
            linking.identity_link(user=user, **form.cleaned_data)
        except RegistryError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Your account is now linked to your population record."))
            return redirect(MY_DATA_URL)
    return render(request, "citizens/link.html", {"form": form})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def identity_link_confirm(request: HttpRequest) -> HttpResponse:
    """Village operators only (they have passed TOTP: the middleware sees to that)."""
    operator = _account(request)
    if not (policy.is_officer(operator) and operator.role == Role.OPERATOR_DESA):
        raise PermissionDenied
    form = LinkConfirmForm(request.POST or None)
    if form.is_valid():
        account = selectors.citizen_account_by_email(form.cleaned_data["email"])
        resident = selectors.resident_get_by_nik_for_officer(operator, form.cleaned_data["nik"])
        if account is None:
            form.add_error("email", _("There is no citizen account with this e-mail address."))
        if resident is None:
            # Same answer for an unknown NIK and one outside the village: nothing leaks.
            form.add_error("nik", _("No resident with this NIK is registered in your village."))
        if account is not None and resident is not None:
            try:
                linking.identity_link_confirm_in_person(
                    operator=operator, user=account, resident=resident
                )
            except RegistryError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(
                    request,
                    _("The account %(email)s is now linked to %(name)s.")
                    % {"email": account.email, "name": resident.full_name},
                )
                return redirect("linking:link_confirm")
    return render(request, "citizens/link_confirm.html", {"form": form})
