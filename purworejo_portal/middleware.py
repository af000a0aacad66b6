from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_cache_control


class PortalLanguageMiddleware:
    """Indonesian unless the visitor picked another language with the switcher.

    Django's LocaleMiddleware follows the browser's Accept-Language, which would show English
    to the many residents whose phones are set to English; the portal's language is Indonesian.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class NoStoreMiddleware:
    """No browser or proxy keeps a response unless its view says it is public.

    Pages, downloads (CSV, PDF, XLSX) and API answers carry personal data more often than
    not, and a view that forgets `never_cache` must not leave a resident's record in a shared
    computer's browser cache. A view whose answer may be kept says so with
    `cache_control(public=True, max_age=...)`; a view that set its own no-store headers (the
    cek data page's constants) keeps them as they are.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        current = response.headers.get("Cache-Control")
        if current is None:
            response.headers["Cache-Control"] = "no-store, private"
        elif "no-store" not in current and "public" not in current:
            patch_cache_control(response, no_store=True, private=True)
        return response
