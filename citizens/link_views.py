"""The account link pages: a citizen proves their identity, or a village operator confirms it."""

from allauth.account.adapter import get_adapter
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from citizens import linking, policy, selectors
from citizens.choices import Role
from citizens.exceptions import LinkClosed, LinkFailed, RegistryError
from citizens.link_forms import IdentityLinkForm, LinkConfirmForm, LinkMoveForm
from citizens.models import NonPermanentResident, PermanentResident, User

MY_DATA_URL = "mydata:overview"


def _account(request: HttpRequest) -> User:
    # login_required has run; this only narrows the type.
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _client_ip(request: HttpRequest) -> str:
    """The address allauth's login rate limits use (behind TRUSTED_PROXY_COUNT proxies)."""
    try:
        return str(get_adapter(request).get_client_ip(request))
    except PermissionDenied:
        return ""


def _tries_left_text(count: int) -> str:
    if count <= 0:
        return _("No tries are left for now. Your village office can link your account in person.")
    return ngettext("You have %(count)d try left.", "You have %(count)d tries left.", count) % {
        "count": count
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def identity_link(request: HttpRequest) -> HttpResponse:
    """The details are POSTed, so no NIK ever lands in a URL or an access log. The page says
    how many tries are left: for the account and address before an attempt, and after a failed
    one also for the NIK tried (counted alike whether it is registered or not)."""
    user = _account(request)
    if selectors.resident_link_for_user(user) is not None:
        messages.info(request, _("Your account is already linked to your population record."))
        return redirect(MY_DATA_URL)
    ip_address = _client_ip(request)
    form = IdentityLinkForm(request.POST or None)
    tries_left: int | None = None
    if form.is_valid():
        try:
            linking.identity_link(user=user, ip_address=ip_address, **form.cleaned_data)
        except LinkFailed as exc:
            form.add_error(None, str(exc.message))
            tries_left = exc.tries_left
        except LinkClosed as exc:
            form.add_error(None, str(exc.message))
            tries_left = 0
        except RegistryError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Your account is now linked to your population record."))
            return redirect(MY_DATA_URL)
    if tries_left is None:
        tries_left = linking.link_tries_left(user=user, ip_address=ip_address)
    context = {"form": form, "tries_left": _tries_left_text(tries_left)}
    return render(request, "citizens/link.html", context)


def _village_operator(request: HttpRequest) -> User:
    """Village operators only (they have passed TOTP: the middleware sees to that)."""
    operator = _account(request)
    if not (policy.is_officer(operator) and operator.role == Role.OPERATOR_DESA):
        raise PermissionDenied
    return operator


def _account_and_resident(
    operator: User, form: forms.Form
) -> tuple[User | None, PermanentResident | NonPermanentResident | None]:
    """The citizen account and the operator's resident a form names; a missing one is a form
    error, with the same answer for an unknown NIK and one outside the village."""
    account = selectors.citizen_account_by_email(form.cleaned_data["email"])
    resident = selectors.resident_get_by_nik_for_officer(operator, form.cleaned_data["nik"])
    if account is None:
        form.add_error("email", _("There is no citizen account with this e-mail address."))
    if resident is None:
        form.add_error("nik", _("No resident with this NIK is registered in your village."))
    return account, resident


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def identity_link_confirm(request: HttpRequest) -> HttpResponse:
    """A village operator links a citizen's account after checking their KTP/KK in person."""
    operator = _village_operator(request)
    form = LinkConfirmForm(request.POST or None)
    if form.is_valid():
        account, resident = _account_and_resident(operator, form)
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


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def resident_link_move(request: HttpRequest) -> HttpResponse:
    """A village operator moves a record's link to another account, giving the reason."""
    operator = _village_operator(request)
    form = LinkMoveForm(request.POST or None)
    if form.is_valid():
        account, resident = _account_and_resident(operator, form)
        if account is not None and resident is not None:
            try:
                linking.resident_link_move(
                    operator=operator,
                    resident=resident,
                    to_user=account,
                    reason=form.cleaned_data["reason"],
                )
            except RegistryError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(
                    request,
                    _("The record of %(name)s is now linked to the account %(email)s.")
                    % {"email": account.email, "name": resident.full_name},
                )
                return redirect("linking:link_move")
    return render(request, "citizens/link_move.html", {"form": form})
