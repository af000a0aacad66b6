from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stakeholders.demo import demo_institutions_seed


class Command(BaseCommand):
    help = "Register demo partner institutions with agreements; link the demo institution admin."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo_institutions creates fake institutions; DEBUG is off.")
        names = demo_institutions_seed()
        if names:
            self.stdout.write(f"Demo institutions: {', '.join(names)}")
        else:
            self.stdout.write("Demo institutions already present: nothing to do.")
