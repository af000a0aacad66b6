"""The rendered letter: its text carries the holder's identity, number and validity, and its
QR code, read back from the page image, is the verification URL."""

import subprocess

import pytest
from django.utils import formats
from django.utils.translation import override

from skts import rendering, services
from tests.conftest import require_tool
from tests.skts.conftest import HOST_NIK, pdf_text, stored_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter(holder_account, approve):
    user, resident = holder_account
    request = services.letter_request_create(
        actor=user, resident=resident, host_name="SITI PENJAMIN", host_nik=HOST_NIK
    )
    return approve(request.submission)


def test_pdf_text_holds_name_nik_number_and_validity_when_rendered(letter, tmp_path) -> None:
    text = " ".join(pdf_text(stored_pdf(letter), tmp_path).split())
    resident = letter.resident
    with override("id"):
        valid_from = formats.date_format(letter.valid_from, "j F Y")
        valid_until = formats.date_format(letter.valid_until, "j F Y")
    assert "SURAT KETERANGAN TINGGAL SEMENTARA" in text
    assert resident.full_name in text
    assert resident.nik in text
    assert f"Nomor: {letter.number}" in text
    assert f"sejak {valid_from} sampai dengan {valid_until}" in text
    assert "SITI PENJAMIN (NIK 3306064107800003)" in text
    assert "F115/3306/2026/000777" in text
    assert "ditandatangani secara elektronik" in text


def test_pdf_is_one_a4_page_when_rendered(letter, tmp_path) -> None:
    tool = require_tool("pdfinfo")
    path = tmp_path / "letter.pdf"
    path.write_bytes(stored_pdf(letter))
    info = subprocess.run([tool, str(path)], check=True, capture_output=True, text=True).stdout
    assert "Pages:           1" in info
    assert "595.276 x 841.89 pts (A4)" in info


def test_qr_decodes_to_the_verification_url_when_read_from_the_page_image(letter, tmp_path) -> None:
    pdftoppm, zbarimg = require_tool("pdftoppm"), require_tool("zbarimg")
    path = tmp_path / "letter.pdf"
    path.write_bytes(stored_pdf(letter))
    subprocess.run(
        [pdftoppm, "-png", "-r", "150", "-singlefile", str(path), str(tmp_path / "page")],
        check=True,
    )
    decoded = subprocess.run(
        [zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "page.png")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert decoded == f"https://portal.example.test/skts/verify/{letter.token}/"


def test_qr_generator_is_given_the_verification_url_when_a_letter_renders(
    letter, monkeypatch
) -> None:
    given: list[str] = []
    real = rendering.qr_data_uri
    monkeypatch.setattr(rendering, "qr_data_uri", lambda url: given.append(url) or real(url))
    rendering.letter_pdf(letter)
    assert given == [services.verification_url(letter)]
    assert given[0].endswith(f"/skts/verify/{letter.token}/")


def test_render_keeps_the_first_pdf_when_the_task_runs_twice(letter) -> None:
    first = letter.sha256
    again = rendering.letter_render(letter_id=letter.pk)
    assert again.sha256 == first
    assert services.letter_store_pdf(letter=again, pdf=b"%PDF-other") is False
    letter.refresh_from_db()
    assert letter.sha256 == first
