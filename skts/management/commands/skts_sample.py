"""Render a sample SKTS letter with synthetic data (nothing is written to the database):
`manage.py skts_sample --pdf var/skts-sample.pdf --png docs/skts-sample.png`."""

import datetime
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from citizens.choices import LifeStatus, Sex, StayPurpose
from citizens.models import Desa, NonPermanentResident
from skts.models import Letter, LetterRequest
from skts.rendering import letter_pdf


def sample_letter() -> Letter:
    desa = Desa.objects.filter(kecamatan__code="330606").order_by("code").first()
    if desa is None:
        raise CommandError("Load the areas first: manage.py load_areas")
    resident = NonPermanentResident(
        nik="3404014504030007",
        full_name="BUNGA SARASWATI",
        birth_place="SLEMAN",
        birth_date=datetime.date(2003, 4, 5),
        sex=Sex.FEMALE,
        kk_number="3404012001200007",
        origin_address="Jalan Kaliurang Km 7, Dusun Contoh",
        origin_region_code="3404012001",
        domicile_desa=desa,
        domicile_address="Asrama Putri Blok B No. 12",
        domicile_rt="002",
        domicile_rw="004",
        purpose=StayPurpose.STUDY,
        host_institution="Universitas Contoh Purworejo",
        registration_reference="F115/3306/2026/000123",
        start_date=datetime.date(2026, 8, 17),
        expected_end_date=datetime.date(2027, 6, 30),
        life_status=LifeStatus.ALIVE,
    )
    request = LetterRequest(host_name="SITI PENJAMIN", host_nik="3306064107800003")
    return Letter(
        resident=resident,
        request=request,
        number="474.4/00042/SKTS/2026",
        year=2026,
        sequence=42,
        token="contoh-token-verifikasi-bukan-asli-0000000000",  # noqa: S106 (a sample)
        valid_from=datetime.date(2026, 11, 28),
        valid_until=datetime.date(2027, 6, 30),
        issued_at=timezone.make_aware(datetime.datetime(2026, 11, 28, 9, 30)),
    )


class Command(BaseCommand):
    help = "Render a sample SKTS letter (synthetic data) to PDF and PNG."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--pdf", default="var/skts-sample.pdf")
        parser.add_argument("--png", default="docs/skts-sample.png")

    def handle(self, *args: Any, **options: Any) -> None:
        pdf = letter_pdf(sample_letter())
        pdf_path = Path(options["pdf"])
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        pdf_path.write_bytes(pdf)
        pdftoppm = shutil.which("pdftoppm")
        if pdftoppm is None:
            raise CommandError("pdftoppm (poppler-utils) is needed for the PNG.")
        with tempfile.TemporaryDirectory() as tmp:
            stem = Path(tmp) / "page"
            subprocess.run(  # noqa: S603 (fixed arguments, our own files)
                [pdftoppm, "-png", "-r", "80", "-singlefile", str(pdf_path), str(stem)], check=True
            )
            shutil.copyfile(f"{stem}.png", options["png"])
        self.stdout.write(f"{pdf_path} and {options['png']} written")
