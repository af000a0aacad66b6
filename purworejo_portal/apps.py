from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """Django's admin with the portal's site (purworejo_portal/admin_site.py)."""

    default_site = "purworejo_portal.admin_site.PortalAdminSite"
