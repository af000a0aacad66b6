"""Stored files written before files were encrypted at rest are encrypted in place (the same
as `manage.py encrypt_stored_files`, which can be run again at any time). Reversible: going
back writes them as plaintext again, so that the previous version can serve them."""

from django.db import migrations


def encrypt(apps, schema_editor):
    from citizens import filecrypt

    filecrypt.files_encrypt_plaintext()


def decrypt(apps, schema_editor):
    from citizens import filecrypt

    filecrypt.files_decrypt()


class Migration(migrations.Migration):
    dependencies = [("citizens", "0018_auditentry_files_purge")]

    operations = [migrations.RunPython(encrypt, decrypt, elidable=True)]
