"""On an UPDATE, each page-generation trigger of 0010 renews the accounts of the old and the
new rows in one call of citizens_page_bump, not one call for each: for a row whose family
did not change, the two calls looked up the same family's accounts twice, which was most of
the triggers' cost in an import."""

import importlib

from django.db import migrations

initial = importlib.import_module("citizens.migrations.0010_page_generation")

# Both transition tables as one, for the bumps' FROM {rows}.
BOTH_ROWS = "(SELECT * FROM new_rows UNION ALL SELECT * FROM old_rows) AS both_rows"

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION {table}_page_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM citizens_page_bump({new});
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM citizens_page_bump({old});
  ELSE
    PERFORM citizens_page_bump({both});
  END IF;
  RETURN NULL;
END $$;
"""


def trigger_function(table: str, bump: str) -> str:
    """`table`'s trigger function, bumping with `bump` (arguments of citizens_page_bump over
    the transition table {rows}): one call per statement whatever its kind."""
    return TRIGGER_FUNCTION.format(
        table=table,
        new=bump.format(rows="new_rows"),
        old=bump.format(rows="old_rows"),
        both=bump.format(rows=BOTH_ROWS),
    )


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, bump in initial.BUMPS.items():
        schema_editor.execute(trigger_function(table, bump))


def restore(apps, schema_editor) -> None:
    """Back to 0010's functions (the triggers themselves are unchanged)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, bump in initial.BUMPS.items():
        function = initial.TRIGGER_FUNCTION.format(
            table=table, new=bump.format(rows="new_rows"), old=bump.format(rows="old_rows")
        )
        schema_editor.execute(function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))


class Migration(migrations.Migration):
    dependencies = [
        ("citizens", "0010_page_generation"),
    ]

    operations = [migrations.RunPython(create, restore, elidable=False)]
