from django.core.management.base import BaseCommand

from citizens.quality import quality_refresh


class Command(BaseCommand):
    help = "Run the data-quality rules and replace the findings (also run nightly by beat)."

    def handle(self, *args: object, **options: object) -> None:
        counts = quality_refresh()
        self.stdout.write(", ".join(f"{rule}: {count}" for rule, count in counts.items()))
