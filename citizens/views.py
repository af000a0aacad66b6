from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from citizens import policy, selectors, services
from citizens.choices import AccessPurpose, Registry
from citizens.forms import NikSearchForm
from citizens.reads import shows_personal_data


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"is_officer": policy.is_officer(request.user)})


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def hello(request: HttpRequest) -> HttpResponse:
    """Baseline for page benchmarks: the cheapest possible Django response."""
    return HttpResponse("hello", content_type="text/plain")


def admin_login_redirect(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """The admin has no login form of its own: allauth's (with MFA and rate limits) is used."""
    if request.user.is_authenticated and not policy.can_use_admin(request.user):
        raise PermissionDenied
    target = request.GET.get("next", reverse("admin:index"))
    return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': target})}")


def _officer_required(request: HttpRequest) -> None:
    if not policy.is_officer(request.user):
        raise PermissionDenied


@login_required
@require_GET
def officer_home(request: HttpRequest) -> HttpResponse:
    _officer_required(request)
    return render(request, "citizens/officer_home.html", {"officer": request.user})


@shows_personal_data("a list row for each resident on the page or in the NIK search result")
@login_required
@require_http_methods(["GET", "POST"])
def resident_list(request: HttpRequest) -> HttpResponse:
    """Residents in the officer's jurisdiction; NIK search is a POST so no NIK lands in a URL."""
    _officer_required(request)
    residents = selectors.permanent_residents_for_officer(request.user)
    form = NikSearchForm(request.POST or None)
    if form.is_valid() and form.cleaned_data.get("nik_index"):
        residents = residents.filter(nik_index=form.cleaned_data["nik_index"])
    page = Paginator(residents, 25).get_page(request.GET.get("page"))
    services.access_log_reads(
        records=[(Registry.PERMANENT, resident.pk) for resident in page],
        purpose=AccessPurpose.OFFICER_LIST,
        actor=request.user,  # type: ignore[arg-type]
    )
    return render(request, "citizens/resident_list.html", {"page": page, "form": form})


@shows_personal_data("an officer-view row on the resident's record (and the audit trail)")
@login_required
@require_GET
def resident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _officer_required(request)
    try:
        resident = selectors.permanent_residents_for_officer(request.user).get(pk=pk)
    except (selectors.PermanentResident.DoesNotExist, ValidationError):
        raise Http404 from None
    services.access_log_record(
        actor=request.user,
        registry=Registry.PERMANENT,
        record_id=resident.pk,
        purpose=AccessPurpose.OFFICER_VIEW,
        nik_index=resident.nik_index,
    )
    history = selectors.record_history(registry=Registry.PERMANENT, record_id=resident.pk)
    return render(
        request,
        "citizens/resident_detail.html",
        {
            "resident": resident,
            "history": history,
            "warnings": selectors.nik_warnings_for(resident),
        },
    )
