"""Routes are the one thing of the review an administrator edits (validated by Route.clean);
claims, decisions, merges, statements and the audit trail are shown, never changed here."""

from django.contrib import admin

from citizens.admin import ReadOnlyAdmin
from citizens.models import AuditEntry
from submissions.models import Route
from verification.models import ChangeStatement, Claim, Decision, Merge


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["kind", "tiers"]
    ordering = ["kind"]


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ["submission", "officer", "tier", "claimed_at", "expires_at"]
    list_select_related = ["submission", "officer"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["decided_at", "submission", "tier", "outcome", "reason_code", "officer"]
    list_filter = ["tier", "outcome", "reason_code"]
    list_select_related = ["submission", "officer"]
    search_fields = ["submission__tracking_code"]
    date_hierarchy = "decided_at"


@admin.register(Merge)
class MergeAdmin(ReadOnlyAdmin):
    list_display = ["merged_at", "submission", "kind", "registry", "record_id", "changes"]
    list_filter = ["kind", "registry"]
    list_select_related = ["submission"]
    search_fields = ["submission__tracking_code"]


@admin.register(ChangeStatement)
class ChangeStatementAdmin(ReadOnlyAdmin):
    list_display = ["generated_at", "merge", "sha256"]
    # Not the file itself: the admin would link to MEDIA_URL, which is never served.
    fields = readonly_fields = ("merge", "sha256", "generated_at")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "actor", "tier", "registry", "record_id", "reference"]
    list_filter = ["action", "tier", "registry"]
    list_select_related = ["actor"]
    search_fields = ["reference", "actor__email"]
    date_hierarchy = "created_at"
    # The NIK's blind index means nothing to a reader; the person is searched in the portal.
    exclude = ["nik_index"]
