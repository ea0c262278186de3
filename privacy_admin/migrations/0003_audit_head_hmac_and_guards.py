"""The audit chain head gets an HMAC of its own; on PostgreSQL, triggers guard
the head and refuse TRUNCATE of the log (S-23).

These triggers are a guard against mistakes (a stray `manage.py flush`, a
TRUNCATE in the wrong database, a hand-edited head), not against intent: anyone
who may run `SET privacy_admin.allow_audit_truncate = 'on'`, or disable a
trigger, gets past them. What proves the log whole is the HMAC chain, the
signed head and the daily anchors, checked by `manage.py verify_audit_log`
with AUDIT_HMAC_KEY, which lives outside the database.

- TRUNCATE of privacy_admin_auditevent or privacy_admin_auditchainhead is
  refused unless the setting `privacy_admin.allow_audit_truncate` is 'on'. The
  test runner empties tables with TRUNCATE, so tests/conftest.py sets it for
  the TEST database only (ALTER DATABASE ... SET); never set it in production.
- DELETE of the head is refused, and so is an UPDATE that does not move it
  forward by exactly one row.

The existing head is signed here only when it matches the last row of the log;
otherwise it is left unsigned, and verify_audit_log says the head was altered.
Run verify_audit_log before upgrading.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations, models

INSTALL = """
CREATE OR REPLACE FUNCTION privacy_admin_audit_truncate_guard() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('privacy_admin.allow_audit_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: TRUNCATE of % refused', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION privacy_admin_audit_head_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.last_seq = OLD.last_seq + 1 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit chain head only moves forward one row at a time: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS privacy_admin_audit_no_truncate ON privacy_admin_auditevent;
CREATE TRIGGER privacy_admin_audit_no_truncate
    BEFORE TRUNCATE ON privacy_admin_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION privacy_admin_audit_truncate_guard();
DROP TRIGGER IF EXISTS privacy_admin_audit_head_no_truncate ON privacy_admin_auditchainhead;
CREATE TRIGGER privacy_admin_audit_head_no_truncate
    BEFORE TRUNCATE ON privacy_admin_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION privacy_admin_audit_truncate_guard();
DROP TRIGGER IF EXISTS privacy_admin_audit_head_forward_only ON privacy_admin_auditchainhead;
CREATE TRIGGER privacy_admin_audit_head_forward_only
    BEFORE UPDATE OR DELETE ON privacy_admin_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION privacy_admin_audit_head_guard();
"""

REMOVE = """
DROP TRIGGER IF EXISTS privacy_admin_audit_head_forward_only ON privacy_admin_auditchainhead;
DROP TRIGGER IF EXISTS privacy_admin_audit_head_no_truncate ON privacy_admin_auditchainhead;
DROP TRIGGER IF EXISTS privacy_admin_audit_no_truncate ON privacy_admin_auditevent;
DROP FUNCTION IF EXISTS privacy_admin_audit_head_guard();
DROP FUNCTION IF EXISTS privacy_admin_audit_truncate_guard();
"""


def _head_digest(last_seq, last_hmac):
    # A copy of privacy_admin.auditlog.head_digest as it is at this migration.
    payload = json.dumps(["head", last_seq, last_hmac], separators=(",", ":"))
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), payload.encode(), hashlib.sha256).hexdigest()


def sign_head(apps, schema_editor):
    AuditChainHead = apps.get_model("privacy_admin", "AuditChainHead")
    AuditEvent = apps.get_model("privacy_admin", "AuditEvent")
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        return
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hmac").first() or (0, "0" * 64)
    if (head.last_seq, head.last_hmac) == tuple(last):
        head.head_hmac = _head_digest(head.last_seq, head.last_hmac)
        head.save(update_fields=["head_hmac"])


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("privacy_admin", "0002_audit_append_only")]

    operations = [
        migrations.AddField(
            model_name="auditchainhead",
            name="head_hmac",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        # Signed before the guard is installed: signing does not move the head.
        migrations.RunPython(sign_head, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(install, remove, elidable=False),
    ]
