"""The database itself keeps the rule that only the workflow service moves a case.

A trigger on PostgreSQL refuses to create a case in any state but draft, and refuses an UPDATE that
changes a case's state unless the transaction-local setting `portal.case_state_writer` names that case:
`applications.models.cases.writing_state`, which services.advance alone opens around its save. Raw SQL,
a queryset update and the admin are refused alike. SQLite (the embedded development mode) has no such
setting; there the model's own check is the guard.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION applications_case_state_writer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.state <> 'draft' THEN
            RAISE EXCEPTION 'case %: a case is created as a draft', NEW.reference
                USING ERRCODE = 'check_violation';
        END IF;
    ELSIF NEW.state IS DISTINCT FROM OLD.state
          AND coalesce(current_setting('portal.case_state_writer', true), '') <> NEW.id::text THEN
        RAISE EXCEPTION 'case %: the state changes only through the workflow service', NEW.reference
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER case_state_writer
    BEFORE INSERT OR UPDATE OF state ON applications_transferapplication
    FOR EACH ROW EXECUTE FUNCTION applications_case_state_writer();
"""

DROP = """
DROP TRIGGER IF EXISTS case_state_writer ON applications_transferapplication;
DROP FUNCTION IF EXISTS applications_case_state_writer();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # None: the % in RAISE is not a parameter

    return run


class Migration(migrations.Migration):
    dependencies = [("applications", "0011_event_data")]

    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP))]
