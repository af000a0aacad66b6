"""The SKTS letter as a one-page A4 PDF: a Django template rendered by WeasyPrint, with a QR
code (segno) pointing at the public verification page.

The stylesheet and the font configuration are built once per worker process and reused for
every letter: parsing CSS and loading fonts dominated the time of one-page letters.
"""

import functools
from typing import Any

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import override

from citizens.pdf_fetcher import static_url_fetcher
from skts.models import Letter
from skts.services import letter_store_pdf, verification_url

_STYLESHEET = settings.BASE_DIR / "skts" / "letter.css"


@functools.cache
def _weasy() -> tuple[Any, Any, Any]:
    from weasyprint import CSS, HTML  # heavy import, only in the process that renders
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    css = CSS(filename=str(_STYLESHEET), font_config=fonts, url_fetcher=static_url_fetcher())
    return HTML, css, fonts


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=4, dark="#000")


def letter_context(letter: Letter) -> dict[str, object]:
    resident = letter.resident
    url = verification_url(letter)
    return {
        "letter": letter,
        "resident": resident,
        "request": letter.request,
        "desa": resident.domicile_desa,
        "kecamatan": resident.domicile_desa.kecamatan,
        "official_name": settings.SKTS_OFFICIAL_NAME,
        "official_position": settings.SKTS_OFFICIAL_POSITION,
        "verify_url": url,
        "qr": qr_data_uri(url),
        "issued_on": timezone.localtime(letter.issued_at).date(),
    }


def letter_html(letter: Letter) -> str:
    # The letter is an Indonesian official document, whatever the reader's language.
    with override("id"):
        return render_to_string("skts/letter.html", letter_context(letter))


def letter_pdf(letter: Letter) -> bytes:
    html_class, css, fonts = _weasy()
    document = html_class(
        string=letter_html(letter),
        base_url=str(settings.BASE_DIR),
        url_fetcher=static_url_fetcher(),
    )
    pdf: bytes = document.write_pdf(stylesheets=[css], font_config=fonts)
    return pdf


def letter_render(*, letter_id: int) -> Letter:
    """Render and store the letter's PDF once; a second call keeps the stored one."""
    letter = Letter.objects.select_related(
        "resident__domicile_desa__kecamatan", "request", "institution"
    ).get(pk=letter_id)
    if letter.sha256:
        return letter
    letter_store_pdf(letter=letter, pdf=letter_pdf(letter))
    return Letter.objects.get(pk=letter_id)
