"""The one registry of the pages that show personal data, and what each writes to AccessLog.

A view (or a ModelAdmin class, for all its pages) that shows a resident's name, NIK or
other personal data is marked with `@shows_personal_data("what it logs")`, and writes one
AccessLog row per resident shown through citizens.services (in one insert for a list), so
the citizen sees the read on their own page. tests/security/test_read_logging.py renders
every page as every kind of officer against synthetic residents and fails when a page
shows a resident's name or NIK without being registered here, or is registered and logs
nothing.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from citizens import services
from citizens.choices import AccessPurpose
from citizens.models import User

Target = TypeVar("Target")

# "module.qualname" of the view (or ModelAdmin class) -> what it writes to AccessLog.
REGISTRY: dict[str, str] = {}


def _key(target: Any) -> str:
    return f"{target.__module__}.{target.__qualname__}"


def shows_personal_data(logs: str) -> Callable[[Target], Target]:
    """Register a view or a ModelAdmin class as showing personal data; `logs` says what it
    writes (read by the lead, the docs and the sweep's failure message)."""

    def register(target: Target) -> Target:
        REGISTRY[_key(target)] = logs
        return target

    return register


def is_registered(view: Callable[..., Any]) -> bool:
    """Whether a resolved URL's view is in the registry (an admin page through its
    ModelAdmin, a class-based view through its class)."""
    model_admin = getattr(view, "model_admin", None)
    if model_admin is not None:
        return _key(type(model_admin)) in REGISTRY
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    if view_class is not None and _key(view_class) in REGISTRY:
        return True
    return _key(view) in REGISTRY


class LoggedReadsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """An admin whose list, object and history pages show personal data: each writes an
    access row for every resident shown (a list page in one insert). A subclass says which
    registry records its objects show, and registers itself with `shows_personal_data`. A
    list page whose columns hold no personal data (ids, codes, statuses) sets
    `list_shows_personal_data = False` and logs only the pages of single objects."""

    list_shows_personal_data = True

    def records_shown(self, objects: Sequence[Model]) -> Iterable[tuple[str, int]]:
        raise NotImplementedError

    def _log(self, request: HttpRequest, objects: Sequence[Model], purpose: AccessPurpose) -> None:
        user = request.user
        if not objects or not isinstance(user, User):
            return
        services.access_log_reads(records=self.records_shown(objects), purpose=purpose, actor=user)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", None) or {}
        if self.list_shows_personal_data and response.status_code == 200 and "cl" in changelist:
            self._log(request, list(changelist["cl"].result_list), AccessPurpose.OFFICER_LIST)
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        context = getattr(response, "context_data", None) or {}
        if response.status_code == 200 and context.get("original") is not None:
            self._log(request, [context["original"]], AccessPurpose.OFFICER_VIEW)
        return response

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        context = getattr(response, "context_data", None) or {}
        if response.status_code == 200 and context.get("object") is not None:
            self._log(request, [context["object"]], AccessPurpose.OFFICER_VIEW)
        return response
