from django.http import HttpRequest

from citizens import policy


def navigation(request: HttpRequest) -> dict[str, bool]:
    return {"nav_is_officer": policy.is_officer(request.user)}
