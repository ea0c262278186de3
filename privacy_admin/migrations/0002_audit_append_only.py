"""On PostgreSQL, refuse UPDATE and DELETE on the audit log (S-23).

A trigger stops mistakes, not a determined database superuser; the HMAC chain
checked by `manage.py verify_audit_log` is what proves the log whole. TRUNCATE
is not refused here because the test runner empties tables with it; the chain
head (AuditChainHead) makes a truncated log fail verification. In production
the application's database role should also lack the TRUNCATE privilege.
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION privacy_admin_audit_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS privacy_admin_audit_append_only ON privacy_admin_auditevent;
CREATE TRIGGER privacy_admin_audit_append_only
    BEFORE UPDATE OR DELETE ON privacy_admin_auditevent
    FOR EACH ROW EXECUTE FUNCTION privacy_admin_audit_refuse();
"""

REMOVE = """
DROP TRIGGER IF EXISTS privacy_admin_audit_append_only ON privacy_admin_auditevent;
DROP FUNCTION IF EXISTS privacy_admin_audit_refuse();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("privacy_admin", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
