"""The submission timeline becomes append-only in the database, with the function and the
trigger shape of citizens.0013 (PostgreSQL only)."""

import importlib

from django.db import migrations

history = importlib.import_module("citizens.migrations.0013_history_append_only")

GUARDED: dict[str, tuple[str, ...]] = {"submissions_submissionevent": ()}


def create(apps, schema_editor) -> None:
    history.guard_tables(schema_editor, GUARDED)


def drop(apps, schema_editor) -> None:
    history.unguard_tables(schema_editor, GUARDED)


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0007_page_bump_once_per_update"),
        ("citizens", "0013_history_append_only"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
