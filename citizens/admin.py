from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from citizens import invitations
from citizens.exceptions import InvitationNotAllowed
from citizens.models import AccessLog, Desa, Kecamatan, RecordChange, User


@admin.register(Kecamatan)
class KecamatanAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Desa)
class DesaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "kecamatan", "postal_code", "code_is_official"]
    list_filter = ["kecamatan", "kind", "code_is_official"]
    search_fields = ["code", "name"]


class AccountCreationForm(forms.ModelForm):
    """A new account has no password chosen here: its owner sets one (and enrols TOTP)
    through the invitation e-mailed when it is saved."""

    class Meta:
        model = User
        fields = ["email", "full_name", "role", "jurisdiction_desa", "jurisdiction_kecamatan"]


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = AccountCreationForm
    actions = ["send_invitation"]
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
                    "full_name",
                    "role",
                    "jurisdiction_desa",
                    "jurisdiction_kecamatan",
                ]
            },
        ),
    ]

    def save_model(self, request: HttpRequest, obj: User, form: forms.Form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        obj.set_unusable_password()
        super().save_model(request, obj, form, change)
        invitations.invitation_issue(actor=request.user, user=obj, base_url=_base_url(request))  # type: ignore[arg-type]
        self.message_user(
            request, _("An invitation was e-mailed to %(email)s.") % {"email": obj.email}
        )

    @admin.action(description=_("E-mail a new invitation (own password and TOTP)"))
    def send_invitation(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        sent = 0
        for user in queryset:
            try:
                invitations.invitation_issue(
                    actor=request.user,  # type: ignore[arg-type]
                    user=user,
                    base_url=_base_url(request),
                )
            except InvitationNotAllowed:
                continue
            sent += 1
        self.message_user(
            request, _("Invitations e-mailed: %(count)d.") % {"count": sent}, messages.INFO
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit tables: visible to the system admin, never editable."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(RecordChange)
class RecordChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "registry", "record_id", "field", "source", "source_ref", "actor"]
    list_filter = ["registry", "source"]


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["accessed_at", "registry", "record_id", "purpose", "actor", "actor_label"]
    list_filter = ["registry", "purpose"]
