from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from verification.demo import demo_reviews_seed


class Command(BaseCommand):
    help = "File demo requests as the demo citizen so every demo officer has work (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo_reviews creates fake requests; DEBUG is off.")
        codes = demo_reviews_seed()
        if codes:
            self.stdout.write(f"Demo requests in the review queues: {', '.join(codes)}")
        else:
            self.stdout.write("Demo requests already present (or no demo accounts): nothing to do.")
