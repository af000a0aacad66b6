"""Thin views over skts.services and skts.selectors. Who may see what is decided in the
selectors (skts.policy); a URL with somebody else's id gives 404."""

import io
import time
import zipfile

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citizens.choices import AccessPurpose
from citizens.reads import shows_personal_data
from citizens.spreadsheet import csv_writer
from skts import policy, selectors, services
from skts.forms import HostForm, InstitutionRequestForm, RegisterFilterForm, RevokeForm
from skts.models import Letter
from submissions.exceptions import SubmissionError

PAGE_SIZE = 25


def _rows(letters: list[Letter]) -> list[tuple[Letter, str, str]]:
    return [
        (letter, state, state.label)
        for letter in letters
        for state in [selectors.letter_state(letter)]
    ]


@login_required
@require_http_methods(["GET", "POST"])
def my_letters(request: HttpRequest) -> HttpResponse:
    """The holder's letters and the request (or renewal) form."""
    resident = selectors.linked_non_permanent(request.user)  # type: ignore[arg-type]
    form = HostForm(request.POST or None)
    if request.method == "POST":
        if resident is None:
            raise Http404
        if form.is_valid():
            try:
                letter_request = services.letter_request_create(
                    actor=request.user,  # type: ignore[arg-type]
                    resident=resident,
                    host_name=form.cleaned_data["host_name"],
                    host_nik=form.cleaned_data["host_nik"],
                )
            except SubmissionError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(
                    request,
                    _("Your request was sent for verification (tracking code %(code)s).")
                    % {"code": letter_request.submission.tracking_code},
                )
                return redirect("skts:mine")
    today = timezone.localdate()
    context = {
        "resident": resident,
        "form": form,
        "rows": _rows(selectors.letters_for_holder(request.user)),  # type: ignore[arg-type]
        "active": selectors.active_letter(resident) if resident else None,
        "move_due": bool(resident and services.stay_passes_a_year(resident, today=today)),
    }
    return render(request, "skts/mine.html", context)


def _institution_or_404(request: HttpRequest):  # type: ignore[no-untyped-def]
    institution = selectors.institution_of(request.user)  # type: ignore[arg-type]
    if institution is None:
        raise Http404
    return institution


@shows_personal_data(
    "an institution-read row for each resident it lists or has letters on the page"
)
@login_required
@require_http_methods(["GET", "POST"])
def institution_letters(request: HttpRequest) -> HttpResponse:
    """An institution admin requests letters for many of its residents, and downloads them."""
    institution = _institution_or_404(request)
    residents = list(selectors.institution_residents(institution))
    choices = [(r.pk, f"{r.full_name} · {r.domicile_desa.name}") for r in residents]
    form = InstitutionRequestForm(request.POST or None, choices=choices)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.letter_requests_create_many(
                actor=request.user,  # type: ignore[arg-type]
                institution=institution,
                resident_ids=form.cleaned_data["residents"],
                host_name=form.cleaned_data["host_name"],
                host_nik=form.cleaned_data["host_nik"],
            )
        except SubmissionError as exc:
            form.add_error(None, str(exc.message))
        else:
            count = len(result.created)
            messages.success(
                request,
                ngettext(
                    "%(count)d request sent for verification.",
                    "%(count)d requests sent for verification.",
                    count,
                )
                % {"count": count},
            )
            for resident, reason in result.refused:
                messages.warning(request, f"{resident.full_name}: {reason}")
            return redirect("skts:institution")
    page = Paginator(selectors.letters_for_institution(institution), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    letters = list(page.object_list)
    services.letters_read_record(
        user=request.user,  # type: ignore[arg-type]
        resident_ids=[r.pk for r in residents] + [letter.resident_id for letter in letters],
        purpose=AccessPurpose.INSTITUTION_READ,
    )
    context = {
        "institution": institution,
        "form": form,
        "page": page,
        "rows": _rows(letters),
    }
    return render(request, "skts/institution.html", context)


@shows_personal_data("an institution-read row per letter holder (letters_download_record)")
@login_required
@require_POST
def institution_download(request: HttpRequest) -> HttpResponse:
    """Many letters of the admin's institution as one ZIP; ids of other letters are ignored."""
    _institution_or_404(request)
    ids = [int(v) for v in request.POST.getlist("letters") if v.isascii() and v.isdigit()]
    letters = selectors.letters_get_for_download(user=request.user, letter_ids=ids)  # type: ignore[arg-type]
    if not letters:
        raise Http404
    services.letters_download_record(user=request.user, letters=letters)  # type: ignore[arg-type]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for letter in letters:
            with letter.file.open("rb") as stored:
                archive.writestr(f"skts-{letter.year}-{letter.sequence:05d}.pdf", stored.read())
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename="skts.zip")


@shows_personal_data("an institution-read row for the holder, unless the holder downloads")
@login_required
@require_GET
def letter_download(request: HttpRequest, pk: int) -> HttpResponse:
    letter = selectors.letter_get_for_download(user=request.user, letter_id=pk)  # type: ignore[arg-type]
    if letter is None:
        raise Http404
    services.letters_download_record(user=request.user, letters=[letter])  # type: ignore[arg-type]
    return FileResponse(
        letter.file.open("rb"),
        as_attachment=True,
        filename=f"skts-{letter.year}-{letter.sequence:05d}.pdf",
        content_type="application/pdf",
    )


def _manager_or_404(request: HttpRequest) -> None:
    if not policy.can_manage_letters(request.user):
        raise Http404


@login_required
@require_POST
def letter_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _manager_or_404(request)
    letter = get_object_or_404(Letter, pk=pk)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for revoking the letter."))
        return redirect("skts:register")
    try:
        services.letter_revoke(
            letter=letter,
            actor=request.user,  # type: ignore[arg-type]
            reason=form.cleaned_data["reason"],
        )
    except SubmissionError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Letter %(number)s revoked.") % {"number": letter.number})
    return redirect("skts:register")


def _register_filters(request: HttpRequest) -> tuple[RegisterFilterForm, selectors.RegisterFilter]:
    form = RegisterFilterForm(request.GET or None)
    if form.is_valid():
        data = form.cleaned_data
        institution = data.get("institution")
        return form, selectors.RegisterFilter(
            status=data.get("status") or "",
            institution_id=institution.pk if institution else None,
            issued_from=data.get("issued_from"),
            issued_until=data.get("issued_until"),
        )
    return form, selectors.RegisterFilter()


@shows_personal_data("a list row for the holder of each letter on the page")
@login_required
@require_GET
def register(request: HttpRequest) -> HttpResponse:
    """Dukcapil's register of letters by status, institution and period."""
    _manager_or_404(request)
    form, filters = _register_filters(request)
    letters = selectors.register_letters(user=request.user, filters=filters)  # type: ignore[arg-type]
    page = Paginator(letters, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    services.letters_read_record(
        user=request.user,  # type: ignore[arg-type]
        resident_ids=[letter.resident_id for letter in shown],
        purpose=AccessPurpose.OFFICER_LIST,
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": _rows(shown),
        "query": query.urlencode(),
        "revoke_form": RevokeForm(),
    }
    return render(request, "skts/register.html", context)


CSV_HEADER = ("nomor", "status", "nama", "lembaga", "berlaku_dari", "berlaku_sampai", "terbit")


@shows_personal_data("an export row for the holder of each letter in the file")
@login_required
@require_GET
def register_csv(request: HttpRequest) -> HttpResponse:
    """The filtered register as CSV; every cell neutralised against formula injection."""
    _manager_or_404(request)
    _form, filters = _register_filters(request)
    letters = selectors.register_letters(user=request.user, filters=filters)  # type: ignore[arg-type]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="register-skts.csv"'
    writer = csv_writer(response)
    writer.writerow(CSV_HEADER)
    holders: list[int] = []
    for letter in letters.iterator(chunk_size=500):
        holders.append(letter.resident_id)
        state = selectors.letter_state(letter)
        writer.writerow(
            (
                letter.number,
                str(state.label),
                letter.resident.full_name,
                letter.institution.name if letter.institution else "",
                letter.valid_from.isoformat(),
                letter.valid_until.isoformat(),
                timezone.localtime(letter.issued_at).date().isoformat(),
            )
        )
    services.letters_read_record(
        user=request.user,  # type: ignore[arg-type]
        resident_ids=holders,
        purpose=AccessPurpose.EXPORT,
    )
    return response


def _rate_limited(request: HttpRequest) -> bool:
    """At most SKTS_VERIFY_RATE_PER_MINUTE views a minute from one address (cache counter).
    The address is the one allauth's login rate limits use (behind TRUSTED_PROXY_COUNT
    proxies, from X-Forwarded-For)."""
    try:
        address = get_adapter(request).get_client_ip(request)
    except PermissionDenied:
        address = ""
    key = f"skts-verify:{address}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:
        count = 1
    return count > settings.SKTS_VERIFY_RATE_PER_MINUTE


@require_GET
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """Public: is the letter behind this QR code valid? Masked name, no NIK, no address."""
    if _rate_limited(request):
        response = render(request, "skts/rate_limited.html", status=429)
        response["Retry-After"] = "60"
        return response
    letter = selectors.letter_get_by_token(token)
    if letter is None:
        return render(request, "skts/verify.html", {"letter": None}, status=404)
    state = selectors.letter_state(letter)
    context = {
        "letter": letter,
        "state": state,
        "masked_name": selectors.mask_name(letter.resident.full_name),
    }
    return render(request, "skts/verify.html", context)
