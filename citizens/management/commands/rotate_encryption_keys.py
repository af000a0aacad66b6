from django.core.management.base import BaseCommand

from citizens.services import encryption_keys_rotate


class Command(BaseCommand):
    help = "Re-encrypt every encrypted value under the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: object, **options: object) -> None:
        counts = encryption_keys_rotate(
            progress=lambda label, n: self.stdout.write(f"{label}: {n}")
        )
        total = sum(counts.values())
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} rows."))
