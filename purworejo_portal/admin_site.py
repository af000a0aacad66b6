"""The portal's admin site: who may open it is citizens.policy.can_use_admin's answer alone."""

from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from citizens import policy
from citizens import views as citizen_views


class PortalAdminSite(AdminSite):
    site_header = _("Purworejo Population Portal")
    site_title = _("Purworejo Population Portal")

    def has_permission(self, request: HttpRequest) -> bool:
        # Django's check is is_active and is_staff; a staff flag set on a head's or an
        # institution admin's account must not open the admin.
        return policy.can_use_admin(request.user)

    def login(self, request: HttpRequest, extra_context: object = None) -> HttpResponse:
        # The admin login goes through allauth, so MFA and rate limits apply to it too.
        return citizen_views.admin_login_redirect(request, extra_context)
