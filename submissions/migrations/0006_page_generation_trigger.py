"""A written submission gives a new page generation to the accounts whose cek data page lists
it (citizens.PageGeneration, citizens 0010): the filer, the citizen it is for, and the
accounts linked to its subject, to a member of the subject's family, or to the family."""

from django.db import migrations

FUNCTION = """
CREATE FUNCTION submissions_submission_page_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    PERFORM citizens_page_bump({new});
  END IF;
  IF TG_OP <> 'INSERT' THEN
    PERFORM citizens_page_bump({old});
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER submissions_submission_page_insert AFTER INSERT ON submissions_submission
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION submissions_submission_page_bump();
CREATE TRIGGER submissions_submission_page_update AFTER UPDATE ON submissions_submission
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION submissions_submission_page_bump();
CREATE TRIGGER submissions_submission_page_delete AFTER DELETE ON submissions_submission
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
  EXECUTE FUNCTION submissions_submission_page_bump();
"""

# The arguments of citizens_page_bump for the submissions in the transition table {rows}.
BUMP = """
  ARRAY(SELECT filed_by_id FROM {rows} UNION SELECT citizen_id FROM {rows}),
  ARRAY(SELECT subject_id FROM {rows} WHERE subject_registry = 'permanent'),
  ARRAY(SELECT subject_id FROM {rows} WHERE subject_registry = 'family'
        UNION SELECT m.family_id FROM citizens_permanentresident m
        JOIN {rows} s ON s.subject_registry = 'permanent' AND m.id = s.subject_id),
  ARRAY(SELECT subject_id FROM {rows} WHERE subject_registry = 'non_permanent')
"""


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        FUNCTION.format(new=BUMP.format(rows="new_rows"), old=BUMP.format(rows="old_rows"))
    )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP FUNCTION IF EXISTS submissions_submission_page_bump() CASCADE;")


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0005_skts_kind_and_institution_portal_channel"),
        ("citizens", "0010_page_generation"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
