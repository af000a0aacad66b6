"""Read-mostly admin: submissions are changed through services (status, evidence), never here."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from citizens.reads import LoggedReadsAdmin, shows_personal_data
from submissions import selectors
from submissions.models import Evidence, Submission, SubmissionEvent, SubmissionItem


class _ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def records_shown(self, objects: Sequence[Model]) -> Iterable[tuple[str, int]]:
        return selectors.submission_records(objects)  # type: ignore[arg-type]


class ItemInline(_ReadOnlyInline):
    model = SubmissionItem
    fields = readonly_fields = ("field", "value_before", "value_after", "basis")


class EvidenceInline(_ReadOnlyInline):
    model = Evidence
    # Not the file itself: the admin would link to MEDIA_URL, which is never served.
    fields = readonly_fields = ("content_type", "size", "sha256", "uploaded_by", "uploaded_at")


class EventInline(_ReadOnlyInline):
    model = SubmissionEvent
    fields = readonly_fields = ("created_at", "from_status", "to_status", "tier", "actor", "note")
    ordering = ["created_at", "pk"]


@shows_personal_data("an officer-view row for the person (or family) of a submission opened")
@admin.register(Submission)
class SubmissionAdmin(LoggedReadsAdmin):
    # The list shows ids, fields and statuses; the values are on the object's own page.
    list_shows_personal_data = False
    list_display = [
        "tracking_code",
        "kind",
        "status",
        "current_tier",
        "desa",
        "channel",
        "created_at",
    ]
    list_filter = ["status", "kind", "current_tier", "channel"]
    search_fields = ["tracking_code"]
    list_select_related = ["desa"]
    date_hierarchy = "created_at"
    inlines = [ItemInline, EvidenceInline, EventInline]
    fields = readonly_fields = (
        "tracking_code",
        "kind",
        "status",
        "current_tier",
        "channel",
        "filed_by",
        "citizen",
        "consent_given",
        "subject_registry",
        "subject_id",
        "family",
        "desa",
        "whole_family",
        "description",
        "officer_note",
        "decision_reason",
        "version",
        "created_at",
        "submitted_at",
        "decided_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def records_shown(self, objects: Sequence[Model]) -> Iterable[tuple[str, int]]:
        return selectors.submission_records(objects)  # type: ignore[arg-type]
