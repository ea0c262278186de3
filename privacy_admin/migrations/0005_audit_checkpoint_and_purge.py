"""The audit log's own retention term (S-23, R-RET-6): checkpoints, and on
PostgreSQL a trigger that lets exactly the purge delete the oldest rows.

- AuditCheckpoint: written by `auditlog.cut_through()` before it deletes the
  oldest rows, carrying the chain forward (see privacy_admin/auditlog.py).
- The append-only trigger on privacy_admin_auditevent now lets a DELETE
  through only when the transaction-local setting `privacy_admin.audit_purge`
  is 'on' (cut_through sets it with set_config(..., true) and switches it off
  again right after) AND the row is covered by a checkpoint (seq <= the
  highest checkpointed row). Every other DELETE, and every UPDATE, is refused
  as before.
- Checkpoints are append-only too: UPDATE and DELETE refused, TRUNCATE only
  with `privacy_admin.allow_audit_truncate` (the test database), like the log.

As with 0002 and 0003 this stops mistakes, not intent (anyone who can set the
setting and write a checkpoint row gets past the trigger); the signed,
chained checkpoints checked by verify_audit_log are what prove the log whole.
"""

from django.db import migrations, models

INSTALL = """
CREATE OR REPLACE FUNCTION privacy_admin_audit_event_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND coalesce(current_setting('privacy_admin.audit_purge', true), '') = 'on'
       AND OLD.seq <= (SELECT coalesce(max(through_seq), 0) FROM privacy_admin_auditcheckpoint) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS privacy_admin_audit_append_only ON privacy_admin_auditevent;
CREATE TRIGGER privacy_admin_audit_append_only
    BEFORE UPDATE OR DELETE ON privacy_admin_auditevent
    FOR EACH ROW EXECUTE FUNCTION privacy_admin_audit_event_guard();

DROP TRIGGER IF EXISTS privacy_admin_audit_checkpoint_append_only ON privacy_admin_auditcheckpoint;
CREATE TRIGGER privacy_admin_audit_checkpoint_append_only
    BEFORE UPDATE OR DELETE ON privacy_admin_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION privacy_admin_audit_refuse();
DROP TRIGGER IF EXISTS privacy_admin_audit_checkpoint_no_truncate ON privacy_admin_auditcheckpoint;
CREATE TRIGGER privacy_admin_audit_checkpoint_no_truncate
    BEFORE TRUNCATE ON privacy_admin_auditcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION privacy_admin_audit_truncate_guard();
"""

REMOVE = """
DROP TRIGGER IF EXISTS privacy_admin_audit_checkpoint_no_truncate ON privacy_admin_auditcheckpoint;
DROP TRIGGER IF EXISTS privacy_admin_audit_checkpoint_append_only ON privacy_admin_auditcheckpoint;
DROP TRIGGER IF EXISTS privacy_admin_audit_append_only ON privacy_admin_auditevent;
CREATE TRIGGER privacy_admin_audit_append_only
    BEFORE UPDATE OR DELETE ON privacy_admin_auditevent
    FOR EACH ROW EXECUTE FUNCTION privacy_admin_audit_refuse();
DROP FUNCTION IF EXISTS privacy_admin_audit_event_guard();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("privacy_admin", "0004_alter_foundationmembership_role")]

    operations = [
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("from_seq", models.BigIntegerField()),
                ("through_seq", models.BigIntegerField(unique=True)),
                ("through_hmac", models.CharField(max_length=64)),
                ("rows", models.BigIntegerField()),
                ("first_at", models.DateTimeField()),
                ("last_at", models.DateTimeField()),
                ("made_at", models.DateTimeField()),
                ("prev_hmac", models.CharField(max_length=64)),
                ("hmac", models.CharField(max_length=64)),
            ],
            options={
                "verbose_name": "audit log checkpoint",
                "verbose_name_plural": "audit log checkpoints",
                "ordering": ["through_seq"],
            },
        ),
        migrations.RunPython(install, remove, elidable=False),
    ]
