import resource
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from citizens.demo import DEMO_PASSWORD, demo_accounts_ensure, demo_population_seed


class Command(BaseCommand):
    help = "Generate a synthetic, reproducible population and one demo account per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--residents", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-accounts", action="store_true")
        parser.add_argument(
            "--allow-production", action="store_true", help="Seed even when DEBUG is off."
        )

    def handle(self, *args: object, residents: int, seed: int, **options: object) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError("seed_demo creates fake people and known passwords; DEBUG is off.")
        if residents < 1:
            raise CommandError("--residents must be at least 1.")
        started = time.perf_counter()
        result = demo_population_seed(residents=residents, seed=seed)
        elapsed = time.perf_counter() - started
        # Largest single process: this one or one of its seeding workers.
        peak_mb = (
            max(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
            )
            / 1024
        )
        if result.skipped:
            self.stdout.write("Registry already has residents: population left as it is.")
        else:
            self.stdout.write(
                f"Seeded {result.residents} residents in {result.families} families and "
                f"{result.non_permanent} non-permanent residents in {elapsed:.1f} s "
                f"(peak memory {peak_mb:.0f} MB)."
            )
            self.stdout.write(f"BENCH seed_demo_seconds {elapsed:.1f} s")
            self.stdout.write(f"BENCH seed_demo_peak_rss_mb {peak_mb:.0f} MB")
        if options["no_accounts"]:
            return
        accounts = demo_accounts_ensure()
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD})"))
        for account in accounts:
            extra = f" [{account.jurisdiction}]" if account.jurisdiction else ""
            totp = "  TOTP: python manage.py demo_totp " + account.email if account.totp else ""
            self.stdout.write(f"  {account.role:<24} {account.email}{extra}{totp}")
