from collections.abc import Iterable, Sequence

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from citizens import selectors
from citizens.models import AccessLog, Desa, Kecamatan, RecordChange, User
from citizens.reads import LoggedReadsAdmin, shows_personal_data


@admin.register(Kecamatan)
class KecamatanAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Desa)
class DesaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "kecamatan", "postal_code", "code_is_official"]
    list_filter = ["kecamatan", "kind", "code_is_official"]
    search_fields = ["code", "name"]


@shows_personal_data("a row for the record each listed or opened account is linked to")
@admin.register(User)
class UserAdmin(LoggedReadsAdmin, BaseUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "full_name",
        "role",
        "jurisdiction_desa",
        "jurisdiction_kecamatan",
        "is_active",
    ]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "full_name"]
    autocomplete_fields = ["jurisdiction_desa", "jurisdiction_kecamatan"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (
            _("Profile"),
            {"fields": ["full_name", "role", "jurisdiction_desa", "jurisdiction_kecamatan"]},
        ),
        (_("Access"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "fields": [
                    "email",
                    "password1",
                    "password2",
                    "role",
                    "jurisdiction_desa",
                    "jurisdiction_kecamatan",
                ]
            },
        ),
    ]

    def records_shown(self, objects: Sequence[Model]) -> Iterable[tuple[str, int]]:
        return selectors.records_of_accounts(obj.pk for obj in objects)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit tables: visible to the system admin, never editable."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@shows_personal_data("an officer-view row for the record of a change opened (old and new value)")
@admin.register(RecordChange)
class RecordChangeAdmin(LoggedReadsAdmin, ReadOnlyAdmin):
    # The list shows ids, fields and statuses; the values are on the object's own page.
    list_shows_personal_data = False
    list_display = ["changed_at", "registry", "record_id", "field", "source", "source_ref", "actor"]
    list_filter = ["registry", "source"]

    def records_shown(self, objects: Sequence[Model]) -> Iterable[tuple[str, int]]:
        return [(change.registry, change.record_id) for change in objects]  # type: ignore[attr-defined]


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["accessed_at", "registry", "record_id", "purpose", "actor", "actor_label"]
    list_filter = ["registry", "purpose"]
