"""The only resources WeasyPrint may load while it renders a portal PDF: the bundled static
files (STATICFILES_DIRS) and inline data: URIs (the SKTS QR code).

A rendered document mixes templates with registry text; whatever slips into its HTML must not
make the renderer read a file of the server (file:///etc/..., the media root with other
people's letters) or call an address (http://169.254.169.254/, an internal service).
"""

import functools
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings


def _static_roots() -> tuple[Path, ...]:
    return tuple(Path(directory).resolve() for directory in settings.STATICFILES_DIRS)


def static_file_for(url: str) -> Path | None:
    """The bundled static file a file:// URL names, or None for anything else."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(unquote(parts.path)).resolve()
    if not any(path.is_relative_to(root) for root in _static_roots()) or not path.is_file():
        return None
    return path


@functools.cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse  # heavy import, renderers only

    class StaticOnlyURLFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
            if url.lower().startswith("data:"):
                return super().fetch(url, headers)
            path = static_file_for(url)
            if path is None:
                # WeasyPrint catches this, leaves the resource out and logs the reason.
                raise ValueError("Only the portal's bundled static files may be loaded")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                path.as_uri(), path.read_bytes(), headers={"Content-Type": content_type}
            )

    return StaticOnlyURLFetcher


def static_url_fetcher() -> Any:
    """A WeasyPrint url_fetcher serving only bundled static files and data: URIs."""
    return _fetcher_class()(allowed_protocols={"data", "file"}, allow_redirects=False)
