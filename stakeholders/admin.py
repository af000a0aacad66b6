"""The admin edits institutions, their agreements and field authority (validated by
Agreement's constraint and FieldAuthority.clean); batches, rows, API keys and webhook
subscriptions are shown, never changed here. Personal data (row values, file names) and
secrets (key hashes, webhook secrets) are not shown at all."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from citizens.admin import ReadOnlyAdmin
from stakeholders.models import (
    Agreement,
    ApiKey,
    ExchangeBatch,
    ExchangeRow,
    FieldAuthority,
    Institution,
    InstitutionMember,
    WebhookSubscription,
)


class AgreementInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Agreement
    extra = 0
    fields = ["kind", "number", "purpose", "signed_on", "valid_from", "valid_until", "status"]
    # The population read is set through services.agreement_scope_set (audited).
    readonly_fields = ["read_scope", "scope_min_age", "scope_max_age", "scope_desa", "scope_clause"]
    fields += readonly_fields


class FieldAuthorityInline(admin.TabularInline):  # type: ignore[type-arg]
    model = FieldAuthority
    extra = 0
    fields = ["field", "write", "read"]
    ordering = ["field"]


class MemberInline(admin.TabularInline):  # type: ignore[type-arg]
    model = InstitutionMember
    fk_name = "institution"
    extra = 0
    fields = readonly_fields = ["user", "invited_by", "invited_at", "is_active", "deactivated_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # invitations go through the head's page (account, e-mail, TOTP)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivated on the head's page, which suspends the member's API keys


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "kind", "code", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]
    inlines = [AgreementInline, FieldAuthorityInline, MemberInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Registration applies the kind's default authority: the head's page does that.
        return False


@admin.register(ExchangeBatch)
class ExchangeBatchAdmin(ReadOnlyAdmin):
    list_display = ["pk", "institution", "format", "via_api", "status", "rows_total", "created_at"]
    list_filter = ["status", "format", "via_api", "institution"]
    list_select_related = ["institution"]
    date_hierarchy = "created_at"
    fields = readonly_fields = [
        "institution",
        "format",
        "via_api",
        "status",
        "submitted_by",
        "extension",
        "size",
        "sha256",
        "idempotency_key",
        "refusal",
        "rows_total",
        "rows_done",
        "counts",
        "created_at",
        "previewed_at",
        "confirmed_by",
        "confirmed_at",
        "applied_at",
    ]


@admin.register(ExchangeRow)
class ExchangeRowAdmin(ReadOnlyAdmin):
    list_display = ["batch", "line", "outcome", "applied"]
    list_filter = ["outcome", "applied"]
    fields = readonly_fields = ["batch", "line", "outcome", "errors", "applied"]


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = [
        "prefix",
        "name",
        "institution",
        "expires_at",
        "revoked_at",
        "suspended_at",
        "last_used_at",
    ]
    list_filter = ["institution"]
    list_select_related = ["institution"]
    fields = readonly_fields = [
        "institution",
        "name",
        "prefix",
        "created_by",
        "owner",
        "created_at",
        "expires_at",
        "revoked_at",
        "suspended_at",
        "last_used_at",
    ]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["url", "institution", "is_active", "created_at"]
    list_select_related = ["institution"]
    fields = readonly_fields = ["institution", "url", "is_active", "created_at"]
