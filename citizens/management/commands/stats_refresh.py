import time

from django.core.management.base import BaseCommand

from citizens.statistics import statistics_refresh


class Command(BaseCommand):
    help = "Recount the statistics pages' figures from the registry (also run hourly by beat)."

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        cells = statistics_refresh()
        self.stdout.write(
            f"Counted {cells} statistics cells in {time.perf_counter() - started:.1f} s."
        )
