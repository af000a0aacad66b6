from django.http import HttpRequest

from citizens import policy


def navigation(request: HttpRequest) -> dict[str, bool]:
    return {
        "nav_is_officer": policy.is_officer(request.user),
        "nav_is_institution_admin": policy.is_institution_admin(request.user),
        "nav_statistics": policy.can_view_statistics(request.user),
    }
