"""On an UPDATE, the submissions' page-generation trigger (0006) renews the accounts of the
old and the new rows in one call of citizens_page_bump, not one for each (citizens 0011)."""

import importlib

from django.db import migrations

initial = importlib.import_module("submissions.migrations.0006_page_generation_trigger")
citizens = importlib.import_module("citizens.migrations.0011_page_bump_once_per_update")

# 0006's arguments, with the family of a permanent subject found by IN rather than a join, so
# that {rows} may be a subquery.
BUMP = """
  ARRAY(SELECT filed_by_id FROM {rows} UNION SELECT citizen_id FROM {rows}),
  ARRAY(SELECT subject_id FROM {rows} WHERE subject_registry = 'permanent'),
  ARRAY(SELECT subject_id FROM {rows} WHERE subject_registry = 'family'
        UNION SELECT m.family_id FROM citizens_permanentresident m
        WHERE m.id IN (SELECT subject_id FROM {rows} WHERE subject_registry = 'permanent')),
  ARRAY(SELECT subject_id FROM {rows} WHERE subject_registry = 'non_permanent')
"""


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(citizens.trigger_function("submissions_submission", BUMP))


def restore(apps, schema_editor) -> None:
    """Back to 0006's function (the triggers themselves are unchanged)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    function, _triggers = initial.FUNCTION.split("CREATE TRIGGER", 1)
    function = function.format(
        new=initial.BUMP.format(rows="new_rows"), old=initial.BUMP.format(rows="old_rows")
    )
    schema_editor.execute(function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0006_page_generation_trigger"),
        ("citizens", "0011_page_bump_once_per_update"),
    ]

    operations = [migrations.RunPython(create, restore, elidable=False)]
