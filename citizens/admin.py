from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from citizens import invitations, selectors
from citizens.exceptions import InvitationNotAllowed
from citizens.models import AccessLog, Desa, Kecamatan, RecordChange, User
from citizens.reads import LoggedReadsAdmin, shows_personal_data
from citizens.selectors import user_has_history
from citizens.signals import account_deactivated


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


@shows_personal_data("a row for the record each listed or opened account is linked to")
@admin.register(User)
class UserAdmin(LoggedReadsAdmin, BaseUserAdmin):
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
    actions = ["delete_selected"]
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

    # An account with history is deactivated, never deleted: its history must be kept.
    def delete_view(  # type: ignore[no-untyped-def]
        self, request: HttpRequest, object_id: str, extra_context=None
    ) -> HttpResponse:
        user = self.get_object(request, unquote(object_id))
        if user is not None and user_has_history(user=user):
            self.message_user(
                request,
                _(
                    "This account has a history (submissions, decisions, record changes, "
                    "reads or link attempts) that must be kept, so it cannot be deleted. "
                    "Deactivate it instead: untick 'Active' and save."
                ),
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:citizens_user_change", args=[user.pk]))
        return super().delete_view(request, object_id, extra_context)

    # Replaces the site's action of the same name (same description, same permission).
    @admin.action(
        permissions=["delete"], description=admin_actions.delete_selected.short_description
    )
    def delete_selected(self, request: HttpRequest, queryset):  # type: ignore[no-untyped-def]
        kept = sum(user_has_history(user=user) for user in queryset)
        if kept:
            self.message_user(
                request,
                ngettext(
                    "%(count)d selected account has a history that must be kept: nothing was "
                    "deleted. Deactivate it instead: open the account, untick "
                    "'Active' and save.",
                    "%(count)d selected accounts have a history that must be kept: nothing was "
                    "deleted. Deactivate them instead: open each account, untick "
                    "'Active' and save.",
                    kept,
                )
                % {"count": kept},
                messages.ERROR,
            )
            return None
        return admin_actions.delete_selected(self, request, queryset)

    def save_model(self, request: HttpRequest, obj: User, form: forms.Form, change: bool) -> None:
        if not change:
            obj.set_unusable_password()
            super().save_model(request, obj, form, change)
            invitations.invitation_issue(actor=request.user, user=obj, base_url=_base_url(request))  # type: ignore[arg-type]
            self.message_user(
                request, _("An invitation was e-mailed to %(email)s.") % {"email": obj.email}
            )
            return
        deactivated = "is_active" in form.changed_data and not obj.is_active
        super().save_model(request, obj, form, change)
        if deactivated:
            actor = request.user if isinstance(request.user, User) else None
            account_deactivated.send(sender=User, user=obj, actor=actor)

    def records_shown(self, objects: Sequence[Model]) -> Iterable[tuple[str, int]]:
        return selectors.records_of_accounts(obj.pk for obj in objects)

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


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Audit and history tables: visible to the system admin, never editable."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
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
