from django.core.management.base import BaseCommand

from citizens import filecrypt


class Command(BaseCommand):
    help = (
        "Encrypt, in place, every file under MEDIA_ROOT still stored as plaintext (written "
        "before files were encrypted at rest). Safe to run again: encrypted files are skipped."
    )

    def handle(self, *args: object, **options: object) -> None:
        encrypted = filecrypt.files_encrypt_plaintext()
        removed = filecrypt.partials_remove_stale()
        self.stdout.write(
            self.style.SUCCESS(
                f"Encrypted {encrypted} files; removed {removed} unfinished temporary files."
            )
        )
