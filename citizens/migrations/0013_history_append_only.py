"""The history tables (record changes, access log, link attempts) become append-only in the
database, as the audit tables are since 0003: on PostgreSQL a trigger refuses UPDATE and DELETE
whatever the client. submissions.0008 guards the submission timeline the same way.

One UPDATE stays possible: key rotation (citizens.services.encryption_keys_rotate) declares
itself with the transaction-local setting `portal.reencrypting` and may then rewrite the
encrypted columns named as the trigger's arguments, and nothing else of the row."""

from django.db import migrations

# The function of 0003, extended with the re-encryption exception (the audit tables' triggers
# pass no columns, so nothing changes for them).
GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_NARGS > 0
       AND current_setting('portal.reencrypting', true) = 'on'
       AND (to_jsonb(NEW) - TG_ARGV) = (to_jsonb(OLD) - TG_ARGV) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""
ORIGINAL_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""

# Each guarded table with its encrypted columns (EncryptedTextField), which key rotation rewrites.
GUARDED = {
    "citizens_recordchange": ("old_value", "new_value"),
    "citizens_accesslog": (),
    "citizens_linkattempt": (),
}


def guard_tables(schema_editor, tables: dict[str, tuple[str, ...]]) -> None:
    """Install the function and one append-only trigger per table (PostgreSQL only)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    # params=None: the % in RAISE is PL/pgSQL's, not a query placeholder.
    schema_editor.execute(GUARD_FUNCTION, params=None)
    for table, columns in tables.items():
        arguments = ", ".join(f"'{column}'" for column in columns)
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION portal_append_only({arguments});"
        )


def unguard_tables(schema_editor, tables: dict[str, tuple[str, ...]]) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in tables:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")


def create(apps, schema_editor) -> None:
    guard_tables(schema_editor, GUARDED)


def drop(apps, schema_editor) -> None:
    unguard_tables(schema_editor, GUARDED)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ORIGINAL_FUNCTION, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("citizens", "0012_linkattempt_user_protect"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
