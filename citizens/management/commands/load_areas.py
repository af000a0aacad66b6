from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from citizens.areas import BUNDLED_CSV, InvalidAreaData, areas_load, areas_read_csv


class Command(BaseCommand):
    help = (
        "Load the 16 kecamatan and the villages of Purworejo from the bundled list, or from "
        "--villages FILE.csv in the same columns. Safe to run again; nothing is deleted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--villages",
            type=Path,
            metavar="FILE.csv",
            help="UTF-8 CSV with the columns of citizens/data/purworejo_areas.csv.",
        )

    def handle(
        self, *args: object, villages: Path | None, verbosity: int, **options: object
    ) -> None:
        path = villages or BUNDLED_CSV
        try:
            result = areas_load(rows=areas_read_csv(path))
        except InvalidAreaData as exc:
            unchanged = _("Nothing was changed.")
            raise CommandError(f"{path}: {exc.message} {unchanged}") from exc
        if verbosity >= 1:
            self.stdout.write(
                f"Kecamatan: {result.kecamatan_created} created, {result.kecamatan_updated} "
                f"updated, {result.kecamatan_unchanged} unchanged."
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"Villages: {result.villages_created} created, {result.villages_updated} "
                    f"updated, {result.villages_unchanged} unchanged."
                )
            )
