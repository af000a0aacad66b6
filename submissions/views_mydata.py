"""The "check my data" page: the linked resident's own record, family, requests and access log."""

import datetime
import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache, caches
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from citizens import crypto, sessions
from citizens import selectors as citizen_selectors
from citizens.choices import Registry
from citizens.db import execute_prepared
from citizens.models import (
    AccessLog,
    Desa,
    Family,
    Kecamatan,
    NonPermanentResident,
    PermanentResident,
    RecordChange,
    ResidentLink,
    User,
)
from submissions import selectors
from submissions.choices import OPEN_STATUSES
from submissions.models import Submission

PENDING_LIMIT = 50
TEMPLATE = "submissions/my_data.html"
# Bounds what neither the generation nor the fingerprint sees: an officer's role or office
# shown in the activity list (and area names, where no trigger renews the generation), and
# the page's own template after a deploy.
RECORD_CACHE_SECONDS = 600
# A page kept in the worker's memory as well, for this long after it was read or rendered:
# repeat views then skip the cache round trip and the decryption (docs/benchmarks.md).
LOCAL_PAGE_SECONDS = 60


@dataclass(frozen=True)
class PendingSubmission:
    kind: str
    status: str
    created_at: datetime.datetime
    # Only for the account's own submissions: someone else's tracking code is theirs to share.
    tracking_code: str


def _pending(user: User, overview: citizen_selectors.RecordOverview) -> list[PendingSubmission]:
    # The three selectors OR'ed into one query: a third of the time of three.
    about = selectors.open_submissions_about(
        registry=overview.registry, record_ids=overview.member_ids
    )
    if overview.family_id:
        about |= selectors.open_submissions_about(
            registry=Registry.FAMILY, record_ids=[overview.family_id]
        )
    own = selectors.submissions_for_account(user).filter(status__in=OPEN_STATUSES)
    found = (
        (about | own)
        .select_related(None)
        .only("kind", "status", "created_at", "tracking_code", "filed_by_id", "citizen_id")
        .order_by("-created_at", "-pk")[:PENDING_LIMIT]
    )
    return [
        PendingSubmission(
            kind=submission.get_kind_display(),
            status=submission.get_status_display(),
            created_at=submission.created_at,
            tracking_code=submission.tracking_code
            if user.pk in (submission.filed_by_id, submission.citizen_id)
            else "",
        )
        for submission in found
    ]


# Table names and the registry keys (constants) are filled in from the models; the account
# is the one parameter. Each aggregate starts with its row count, which tells the view which
# lists are empty.
_FINGERPRINT_SQL = """
SELECT l.permanent_resident_id, l.non_permanent_resident_id,
  p.version, p.updated_at, n.version, n.updated_at, f.id, f.version, f.updated_at,
  d.name, k.name,
  (SELECT COUNT(*) || ':' || COALESCE(SUM(m.id), 0) || ':' || COALESCE(SUM(m.version), 0)
     || ':' || COALESCE(CAST(MAX(m.updated_at) AS TEXT), '')
   FROM {permanent_table} m WHERE m.family_id = p.family_id),
  (SELECT COUNT(*) || ':' || COALESCE(MAX(x.id), 0) FROM {access_table} x WHERE {of_record}),
  (SELECT COUNT(*) || ':' || COALESCE(MAX(x.id), 0) FROM {change_table} x WHERE {of_record}),
  (SELECT COUNT(*) || ':' || COALESCE(SUM(s.version), 0)
     || ':' || COALESCE(CAST(MAX(s.updated_at) AS TEXT), '')
   FROM {submission_table} s
   WHERE s.filed_by_id = l.user_id OR s.citizen_id = l.user_id
     OR (s.subject_registry = {permanent} AND s.subject_id IN (
       SELECT m.id FROM {permanent_table} m WHERE m.family_id = p.family_id))
     OR (s.subject_registry = {non_permanent} AND s.subject_id = l.non_permanent_resident_id)
     OR (s.subject_registry = {family} AND s.subject_id = p.family_id))
FROM {link_table} l
LEFT JOIN {permanent_table} p ON p.id = l.permanent_resident_id
LEFT JOIN {family_table} f ON f.id = p.family_id
LEFT JOIN {non_permanent_table} n ON n.id = l.non_permanent_resident_id
LEFT JOIN {desa_table} d ON d.id = COALESCE(f.desa_id, n.domicile_desa_id)
LEFT JOIN {kecamatan_table} k ON k.id = d.kecamatan_id
WHERE l.user_id = {user}
"""
_OF_RECORD = """((x.registry = {permanent} AND x.record_id = l.permanent_resident_id)
  OR (x.registry = {non_permanent} AND x.record_id = l.non_permanent_resident_id)
  OR (x.registry = {family} AND x.record_id = p.family_id))"""


@functools.cache
def _fingerprint_sql(user_placeholder: str) -> str:
    models: dict[str, type[Model]] = {
        "link_table": ResidentLink,
        "permanent_table": PermanentResident,
        "non_permanent_table": NonPermanentResident,
        "family_table": Family,
        "desa_table": Desa,
        "kecamatan_table": Kecamatan,
        "access_table": AccessLog,
        "change_table": RecordChange,
        "submission_table": Submission,
    }
    names = {
        name: connection.ops.quote_name(model._meta.db_table) for name, model in models.items()
    }
    # SQL literals of the choices' values (plain words, never input).
    assert all(registry.value.isidentifier() for registry in Registry)
    registries = {registry.name.lower(): f"'{registry.value}'" for registry in Registry}
    of_record = _OF_RECORD.format(**registries)
    return _FINGERPRINT_SQL.format(
        of_record=of_record, user=user_placeholder, **names, **registries
    )


def _fingerprint_row(user: User) -> tuple[object, ...] | None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # PostgreSQL takes five times longer to plan this query than to run it.
            execute_prepared(cursor, "mydata_fingerprint", _fingerprint_sql("$1"), [user.pk])
        else:
            cursor.execute(_fingerprint_sql("%s"), [user.pk])
        return cast(tuple[object, ...] | None, cursor.fetchone())


@dataclass(frozen=True)
class _PageState:
    digest: str
    # Whether the fingerprint counted any rows there; where it found none, the page does
    # not query for them.
    any_access: bool
    any_change: bool
    any_submission: bool


def _page_state(user: User) -> _PageState | None:
    """The fingerprint of everything the record page shows; None without a linked record.

    One query over what can change the page: the link, the versions of the record, the
    family and its members (every registry write bumps them), area names, the number and
    newest id of the (append-only) access log and change history rows, and the submissions
    about the person or the family or by the account (number, versions, newest update).
    """
    row = _fingerprint_row(user)
    if row is None:
        return None
    *_rest, accesses, changes, submissions = (str(value) for value in row)
    return _PageState(
        digest=hashlib.sha256(repr(row).encode()).hexdigest(),
        any_access=not accesses.startswith("0:"),
        any_change=not changes.startswith("0:"),
        any_submission=not submissions.startswith("0:"),
    )


def _record_context(user: User, state: _PageState, *, reveal: bool) -> dict[str, object] | None:
    link = citizen_selectors.resident_link_for_user(user)
    if link is None:
        return None
    overview = citizen_selectors.my_record_overview(
        link.resident, reveal=reveal, accesses=state.any_access, history=state.any_change
    )
    pending = _pending(user, overview) if state.any_submission else []
    return {"overview": overview, "pending": pending}


def _page_key(user: User, version: str) -> str:
    # The role too: the menu in the stored page is the role's.
    return f"mydata:{user.pk}:{user.role}:{get_language()}:{version}"


# Pages are kept as the response's bytes: decoding and encoding 7 KB of text on every view
# cost a tenth of a repeat view (docs/benchmarks.md).
def _stored_page(key: str) -> bytes | None:
    local = caches["pages"]
    if (page := local.get(key)) is not None:
        return cast(bytes, page)
    stored = cache.get(key)
    if stored is None:
        return None
    try:
        page = crypto.decrypt_bytes(stored)
    except crypto.DecryptionError:
        return None  # encrypted under a key since retired: render it again
    local.set(key, page, LOCAL_PAGE_SECONDS)
    return page


def _store_page(key: str, page: bytes) -> None:
    cache.set(key, crypto.encrypt_bytes(page), RECORD_CACHE_SECONDS)
    caches["pages"].set(key, page, LOCAL_PAGE_SECONDS)


# What Django's never_cache sets, as constants: add_never_cache_headers parses and rebuilds
# Cache-Control twice and formats the date, 6 % of a repeat view (docs/benchmarks.md). A date
# in the past tells an HTTP/1.0 cache what Django's "now" does: already expired.
NEVER_CACHE_HEADERS = {
    "Cache-Control": "max-age=0, no-cache, no-store, must-revalidate, private",
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
}


def _never_cached(
    view: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest) -> HttpResponse:
        response = view(request)
        for name, value in NEVER_CACHE_HEADERS.items():
            response.headers[name] = value
        return response

    return wrapped


@login_required
@_never_cached
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    """Only ever the linked person: there is no id in the URL to change. `?tampilkan=1` shows
    the full NIK and KK number; otherwise they are masked before they reach the template.

    The masked page is rendered once per state of the record and kept, encrypted like the
    registry's columns, in the cache under the account, its role, the language and the
    record's page generation (PostgreSQL) or fingerprint, so a change anywhere shows at once
    without telling the cache; the worker keeps a page it read or rendered in its memory for a
    minute too. The page holds no form with a CSRF token, which would be the first session's
    (a test keeps it so); a page with messages to show, or with anything in its query string,
    is rendered as it is.
    """
    user = request.user
    if not isinstance(user, User):  # login_required has run; this narrows the type
        raise PermissionDenied
    # The query string read as such first: most views have none, and parsing it is not free.
    query = request.META.get("QUERY_STRING")
    reveal = bool(query) and request.GET.get("tampilkan") == "1"
    # len() reads the pending messages without marking them shown.
    storable = not query and not len(messages.get_messages(request))
    # On PostgreSQL the session statement read the page's generation, which triggers renew
    # on every change the page shows: a stored page under it is current, with no query.
    generation = sessions.page_generation(user.pk)
    key = None if generation is None else _page_key(user, f"g{generation}")
    if storable and key is not None and (page := _stored_page(key)) is not None:
        return HttpResponse(page)
    # Read before the record: a change in between is then stored under the old fingerprint
    # (or generation), which the next request no longer matches.
    state = _page_state(user)
    if state is None:
        return _to_linking(request)
    if key is None:
        key = _page_key(user, state.digest)
        if storable and (page := _stored_page(key)) is not None:
            return HttpResponse(page)
    context = _record_context(user, state, reveal=reveal)
    if context is None:
        return _to_linking(request)
    if not storable:
        return render(request, TEMPLATE, context)
    page = render_to_string(TEMPLATE, context, request).encode()
    _store_page(key, page)
    return HttpResponse(page)


def _to_linking(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("Link your account to your population record first."))
    return redirect("linking:link")
