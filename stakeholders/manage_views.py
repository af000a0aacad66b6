"""Management pages. The head of Dukcapil registers institutions, their agreements, field
authority and admins; Dukcapil (verifiers and the head) oversee every institution's
exchanges; an institution admin manages their own institution's API keys and webhooks.
Everyone else gets 403, and an id of another institution's key or webhook gets 404."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citizens import policy
from citizens.models import User
from stakeholders import catalogue, manage_selectors, services
from stakeholders.choices import AgreementKind, AgreementStatus, InstitutionKind, ReadScope
from stakeholders.exceptions import StakeholderError
from stakeholders.forms import (
    AgreementForm,
    AgreementScopeForm,
    AgreementStatusForm,
    ApiKeyForm,
    ApiKeyHandoverForm,
    AuthorityForm,
    InstitutionForm,
    InviteForm,
    MemberDeactivateForm,
    WebhookForm,
)
from stakeholders.models import Agreement, Institution
from stakeholders.policy import Scope

DETAIL = "stakeholders:manage_institution"
API_KEYS = "stakeholders:manage_api_keys"
WEBHOOKS = "stakeholders:manage_webhooks"


def _head(request: HttpRequest) -> User:
    if not policy.can_manage_institutions(request.user):
        raise PermissionDenied
    assert isinstance(request.user, User)
    return request.user


def _admin(request: HttpRequest) -> tuple[User, Institution]:
    institution = manage_selectors.admin_institution(request.user)  # type: ignore[arg-type]
    if institution is None:
        raise PermissionDenied
    assert isinstance(request.user, User)
    return request.user, institution


def _detail(institution_id: int) -> manage_selectors.InstitutionDetail:
    detail = manage_selectors.institution_detail(institution_id)
    if detail is None:
        raise Http404
    return detail


def _detail_page(
    request: HttpRequest,
    detail: manage_selectors.InstitutionDetail,
    *,
    status: int = 200,
    **forms: Any,
) -> HttpResponse:
    context = {
        "detail": detail,
        # Each agreement with the statuses it may move to (services.AGREEMENT_TRANSITIONS).
        "agreement_rows": [
            (
                agreement,
                [
                    (status.value, status.label)
                    for status in AgreementStatus
                    if status in services.AGREEMENT_TRANSITIONS[AgreementStatus(agreement.status)]
                ],
            )
            for agreement in detail.agreements
        ],
        "agreement_form": AgreementForm(),
        "scope_forms": _scope_forms(detail, forms.pop("scope_form", None)),
        "reads_roster": detail.institution.kind in catalogue.ROSTER_KINDS,
        "reads_nobody": not catalogue.AGREEMENT_SCOPES[InstitutionKind(detail.institution.kind)],
        "invite_form": InviteForm(),
        "authority_form": AuthorityForm(rows=detail.authority),
        "deactivate_form": MemberDeactivateForm(),
        "handover_form": ApiKeyHandoverForm(institution=detail.institution),
        "api_keys": manage_selectors.api_keys_of(detail.institution).select_related("owner"),
        "now": timezone.now(),
        **forms,
    }
    return render(request, "stakeholders/manage/institution_detail.html", context, status=status)


def _scope_forms(
    detail: manage_selectors.InstitutionDetail, bound: AgreementScopeForm | None
) -> list[tuple[Agreement, AgreementScopeForm]]:
    """A population form per PKS, filled with what it names (the refused one as sent)."""
    kind = InstitutionKind(detail.institution.kind)
    rows: list[tuple[Agreement, AgreementScopeForm]] = []
    if not catalogue.AGREEMENT_SCOPES[kind]:
        return rows
    for agreement in detail.agreements:
        if agreement.kind != AgreementKind.PKS:
            continue
        if bound is not None and bound.agreement_id == agreement.pk:
            rows.append((agreement, bound))
            continue
        initial = {
            "scope": agreement.read_scope,
            "min_age": agreement.scope_min_age,
            "max_age": agreement.scope_max_age,
            "desa_code": agreement.scope_desa.code if agreement.scope_desa else "",
            "clause": agreement.scope_clause,
        }
        rows.append(
            (agreement, AgreementScopeForm(kind=kind, agreement_id=agreement.pk, initial=initial))
        )
    return rows


@login_required
@never_cache
@require_GET
def institution_list(request: HttpRequest) -> HttpResponse:
    _head(request)
    rows = manage_selectors.institution_list()
    return render(request, "stakeholders/manage/institution_list.html", {"rows": rows})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def institution_create(request: HttpRequest) -> HttpResponse:
    head = _head(request)
    form = InstitutionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            institution = services.institution_create(
                name=form.cleaned_data["name"],
                kind=InstitutionKind(form.cleaned_data["kind"]),
                code=form.cleaned_data["code"],
                contact_email=form.cleaned_data["contact_email"],
                actor=head,
            )
        except StakeholderError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(
                request, _("Institution registered with the default authority of its kind.")
            )
            return redirect(DETAIL, institution.pk)
    return render(request, "stakeholders/manage/institution_form.html", {"form": form})


@login_required
@never_cache
@require_GET
def institution_detail(request: HttpRequest, institution_id: int) -> HttpResponse:
    _head(request)
    return _detail_page(request, _detail(institution_id))


@login_required
@require_POST
def agreement_add(request: HttpRequest, institution_id: int) -> HttpResponse:
    head = _head(request)
    detail = _detail(institution_id)
    form = AgreementForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, detail, status=400, agreement_form=form)
    try:
        services.agreement_record(
            institution=detail.institution,
            kind=AgreementKind(form.cleaned_data["kind"]),
            number=form.cleaned_data["number"],
            purpose=form.cleaned_data["purpose"],
            signed_on=form.cleaned_data["signed_on"],
            valid_from=form.cleaned_data["valid_from"],
            valid_until=form.cleaned_data["valid_until"],
            status=AgreementStatus(form.cleaned_data["status"]),
            actor=head,
        )
    except StakeholderError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Agreement recorded."))
    return redirect(DETAIL, institution_id)


@login_required
@require_POST
def agreement_status(request: HttpRequest, institution_id: int, agreement_id: int) -> HttpResponse:
    head = _head(request)
    detail = _detail(institution_id)
    agreement = manage_selectors.agreement_get(detail.institution, agreement_id)
    if agreement is None:
        raise Http404
    form = AgreementStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
        return redirect(DETAIL, institution_id)
    try:
        services.agreement_set_status(
            agreement=agreement, status=AgreementStatus(form.cleaned_data["status"]), actor=head
        )
    except StakeholderError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Agreement status changed."))
    return redirect(DETAIL, institution_id)


@login_required
@require_POST
def agreement_scope(request: HttpRequest, institution_id: int, agreement_id: int) -> HttpResponse:
    """The head sets the population a PKS names (audited by the service)."""
    head = _head(request)
    detail = _detail(institution_id)
    agreement = manage_selectors.agreement_get(detail.institution, agreement_id)
    if agreement is None:
        raise Http404
    form = AgreementScopeForm(
        request.POST, kind=InstitutionKind(detail.institution.kind), agreement_id=agreement.pk
    )
    desa = None
    if form.is_valid() and form.cleaned_data["desa_code"]:
        desa = manage_selectors.desa_by_code(form.cleaned_data["desa_code"])
        if desa is None:
            form.add_error("desa_code", _("No village has this code."))
    if not form.is_valid():
        return _detail_page(request, detail, status=400, scope_form=form)
    try:
        services.agreement_scope_set(
            agreement=agreement,
            scope=Scope(
                ReadScope(form.cleaned_data["scope"]),
                min_age=form.cleaned_data["min_age"],
                max_age=form.cleaned_data["max_age"],
                desa_id=desa.pk if desa is not None else None,
                clause=form.cleaned_data["clause"],
            ),
            actor=head,
        )
    except StakeholderError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The population the agreement covers was saved."))
    return redirect(DETAIL, institution_id)


@login_required
@require_POST
def authority_edit(request: HttpRequest, institution_id: int) -> HttpResponse:
    head = _head(request)
    detail = _detail(institution_id)
    form = AuthorityForm(request.POST, rows=detail.authority)
    if not form.is_valid():
        return _detail_page(request, detail, status=400, authority_form=form)
    try:
        services.authority_table_set(institution=detail.institution, rules=form.rules(), actor=head)
    except StakeholderError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Field authority saved."))
    return redirect(DETAIL, institution_id)


@login_required
@require_POST
def member_invite(request: HttpRequest, institution_id: int) -> HttpResponse:
    head = _head(request)
    detail = _detail(institution_id)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, detail, status=400, invite_form=form)
    try:
        services.institution_admin_invite(
            head=head,
            institution=detail.institution,
            email=form.cleaned_data["email"],
            full_name=form.cleaned_data["full_name"],
            request=request,
        )
    except StakeholderError as error:
        form.add_error("email", str(error.message))
        return _detail_page(request, detail, status=400, invite_form=form)
    messages.success(request, _("Invitation sent: the new admin sets a password from the e-mail."))
    return redirect(DETAIL, institution_id)


@login_required
@require_POST
def member_deactivate(request: HttpRequest, institution_id: int, member_id: int) -> HttpResponse:
    """The head stops an admin acting for the institution; their API keys are suspended."""
    head = _head(request)
    detail = _detail(institution_id)
    member = next((m for m in detail.members if m.pk == member_id), None)
    if member is None:
        raise Http404
    form = MemberDeactivateForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, detail, status=400, deactivate_form=form)
    suspended = services.institution_member_deactivate(
        member=member, actor=head, reason=form.cleaned_data["reason"]
    )
    messages.success(
        request,
        _("The admin no longer acts for the institution; %(count)s API key(s) suspended.")
        % {"count": suspended},
    )
    return redirect(DETAIL, institution_id)


@login_required
@require_POST
def api_key_handover(request: HttpRequest, institution_id: int, key_id: int) -> HttpResponse:
    """The head hands one of the institution's keys to another of its active admins."""
    head = _head(request)
    detail = _detail(institution_id)
    api_key = manage_selectors.api_key_get(detail.institution, key_id)
    if api_key is None:
        raise Http404
    form = ApiKeyHandoverForm(request.POST, institution=detail.institution)
    if not form.is_valid():
        return _detail_page(request, detail, status=400, handover_form=form)
    try:
        services.api_key_handover(
            api_key=api_key,
            to_user=form.cleaned_data["to_member"].user,
            actor=head,
            reason=form.cleaned_data["reason"],
        )
    except StakeholderError as error:
        form.add_error(None, str(error.message))
        return _detail_page(request, detail, status=400, handover_form=form)
    messages.success(request, _("The key was handed over: it acts for its new holder."))
    return redirect(DETAIL, institution_id)


@login_required
@never_cache
@require_GET
def exchange_overview(request: HttpRequest) -> HttpResponse:
    if not policy.can_view_exchanges(request.user):
        raise PermissionDenied
    return render(
        request,
        "stakeholders/manage/exchanges.html",
        {
            "rows": manage_selectors.exchange_overview(),
            "days": manage_selectors.OVERVIEW_DAYS,
            "can_manage": policy.can_manage_institutions(request.user),
        },
    )


@login_required
@never_cache
@require_GET
def my_institution(request: HttpRequest) -> HttpResponse:
    """The institution admin's desk: agreement state, authority, and links to their pages."""
    _user, institution = _admin(request)
    detail = _detail(institution.pk)
    return render(request, "stakeholders/manage/my_institution.html", {"detail": detail})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    """List and issue keys. A new key is shown on the response to the POST only (never
    cached, never redirected to a page that could show it again)."""
    user, institution = _admin(request)
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            api_key, key = services.api_key_issue(
                institution=institution,
                user=user,
                name=form.cleaned_data["name"],
                valid_days=form.cleaned_data["valid_days"],
            )
        except StakeholderError as error:
            messages.error(request, str(error.message))
        else:
            return render(
                request,
                "stakeholders/manage/api_key_issued.html",
                {"institution": institution, "api_key": api_key, "key": key},
            )
    keys = manage_selectors.api_keys_of(institution)
    return render(
        request,
        "stakeholders/manage/api_keys.html",
        {"institution": institution, "keys": keys, "form": form, "now": timezone.now()},
    )


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    user, institution = _admin(request)
    api_key = manage_selectors.api_key_get(institution, key_id)
    if api_key is None:
        raise Http404
    services.api_key_revoke(api_key=api_key, user=user)
    messages.success(request, _("The key is revoked: it no longer opens the API."))
    return redirect(API_KEYS)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest) -> HttpResponse:
    user, institution = _admin(request)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription, secret = services.webhook_subscription_create(
                institution=institution, user=user, url=form.cleaned_data["url"]
            )
        except StakeholderError as error:
            form.add_error("url", str(error.message))
        else:
            return render(
                request,
                "stakeholders/manage/webhook_created.html",
                {"institution": institution, "subscription": subscription, "secret": secret},
            )
    return render(
        request,
        "stakeholders/manage/webhooks.html",
        {
            "institution": institution,
            "subscriptions": manage_selectors.webhooks_of(institution),
            "form": form,
        },
    )


@login_required
@require_POST
def webhook_delete(request: HttpRequest, webhook_id: int) -> HttpResponse:
    user, institution = _admin(request)
    subscription = manage_selectors.webhook_get(institution, webhook_id)
    if subscription is None:
        raise Http404
    services.webhook_subscription_delete(subscription=subscription, user=user)
    messages.success(request, _("Webhook subscription deleted."))
    return redirect(WEBHOOKS)
