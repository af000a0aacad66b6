from django.contrib import admin

from skts.models import Letter


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: letters change only through skts.services (issue, revoke, end)."""

    list_display = ("number", "status", "valid_from", "valid_until", "issued_at", "institution")
    list_filter = ("status", "year")
    search_fields = ("number",)
    fields = (*list_display, "sha256", "revoke_reason", "revoked_at", "ended_at")
    readonly_fields = fields

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
