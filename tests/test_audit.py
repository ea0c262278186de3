"""The audit log: what is recorded (S-22) and that it is tamper-evident (S-23)."""

import datetime

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from privacy_admin.auditlog import audit_record, head_digest, verify_chain
from privacy_admin.models import AuditChainHead, AuditEvent, JobRun
from privacy_admin.tasks import audit_anchor
from tests.conftest import PASSWORD

AUDIT_TABLES = ("privacy_admin_auditevent", "privacy_admin_auditchainhead", "privacy_admin_auditcheckpoint")
needs_postgresql = pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="the audit triggers are PostgreSQL-only; run the suite with DATABASE_URL=postgres://... (CI does)",
)


def _events(n=5):
    return [audit_record("test.event", actor_label="tester", details={"i": i}) for i in range(n)]


def _raw(sql, params=()):
    """Alter the tables behind the application's back, as an intruder with
    database rights would: with the triggers switched off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in AUDIT_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            for table in AUDIT_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def _head():
    return AuditChainHead.objects.values_list("last_seq", "last_hmac", "head_hmac").get(pk=1)


def _put_head(last_seq, last_hmac, head_hmac):
    _raw(
        "UPDATE privacy_admin_auditchainhead SET last_seq = %s, last_hmac = %s, head_hmac = %s WHERE id = 1",
        [last_seq, last_hmac, head_hmac],
    )


@pytest.mark.django_db
def test_intact_chain_verifies(capsys):
    """S-23: verify_audit_log exits 0 on an intact chain."""
    _events()
    call_command("verify_audit_log")
    assert "intact: 5 rows" in capsys.readouterr().out


@pytest.mark.django_db
def test_altered_row_is_named():
    """S-23: an altered row makes verify_audit_log exit 1 naming that row."""
    events = _events()
    _raw("UPDATE privacy_admin_auditevent SET action = %s WHERE seq = %s", ["test.other", events[2].seq])
    with pytest.raises(CommandError) as err:
        call_command("verify_audit_log")
    assert err.value.returncode == 1
    assert f"row {events[2].seq} was altered" in str(err.value)


@pytest.mark.django_db
def test_removed_row_is_named():
    """S-23: a removed row is named as missing."""
    events = _events()
    _raw("DELETE FROM privacy_admin_auditevent WHERE seq = %s", [events[1].seq])
    ok, message, _n = verify_chain()
    assert not ok and message.startswith(f"row {events[1].seq} is missing")


@pytest.mark.django_db
def test_removed_last_row_is_named():
    """S-23: cutting rows off the end is noticed through the chain head, also
    when the head is wound back to match: its HMAC needs the key."""
    events = _events()
    _raw("DELETE FROM privacy_admin_auditevent WHERE seq = %s", [events[-1].seq])
    ok, message, _n = verify_chain()
    assert not ok and message.startswith(f"row {events[-1].seq} is missing")
    _seq, _hmac, signature = _head()
    _put_head(events[-2].seq, events[-2].hmac, signature)
    ok, message, _n = verify_chain()
    assert not ok and message == "the chain head was altered (its HMAC does not match)"
    _put_head(events[-2].seq, events[-2].hmac, "0" * 64)
    assert verify_chain()[:2] == (False, "the chain head was altered (its HMAC does not match)")


@pytest.mark.django_db
def test_head_is_signed_and_verified():
    """S-23: every append signs the head's position with AUDIT_HMAC_KEY."""
    events = _events(3)
    assert _head() == (events[-1].seq, events[-1].hmac, head_digest(events[-1].seq, events[-1].hmac))
    assert verify_chain() == (True, "audit log intact: 3 rows", 3)


@pytest.mark.django_db
def test_missing_head_with_rows_fails():
    """S-23: rows without a chain head fail verification."""
    _events(2)
    _raw("DELETE FROM privacy_admin_auditchainhead")
    assert verify_chain()[:2] == (False, "the chain head is missing (the log has 2 rows)")


@pytest.mark.django_db
def test_head_without_rows_fails():
    """S-23: a head with every row gone fails verification."""
    _events(2)
    _raw("DELETE FROM privacy_admin_auditevent")
    assert verify_chain()[:2] == (False, "row 1 is missing (the log should end at row 2)")


@pytest.mark.django_db
def test_emptied_log_fails_after_an_anchor(capsys):
    """S-23: both tables emptied (as TRUNCATE would) pass the key-based checks,
    "0 rows"; the daily anchor makes verify_audit_log fail all the same."""
    events = _events(3)
    audit_anchor.delay()
    _raw("DELETE FROM privacy_admin_auditevent")
    _raw("DELETE FROM privacy_admin_auditchainhead")
    with pytest.raises(CommandError) as err:
        call_command("verify_audit_log")
    assert err.value.returncode == 1
    assert f"rows after 0 are missing (row {events[-1].seq} was anchored on" in str(err.value)


@pytest.mark.django_db
def test_older_signed_head_put_back_fails_after_an_anchor():
    """S-23: someone who kept a copy of an older, validly signed head deletes
    the rows after it and puts that head back: the anchor catches it."""
    events = _events(2)
    old_head = _head()
    more = _events(3)
    audit_anchor.delay()
    _raw("DELETE FROM privacy_admin_auditevent WHERE seq > %s", [events[-1].seq])
    _put_head(*old_head)
    ok, message, _n = verify_chain()
    assert not ok and message.startswith(f"rows after {events[-1].seq} are missing (row {more[-1].seq} was anchored")


@pytest.mark.django_db
def test_signed_head_behind_the_log_fails():
    """S-23: an older signed head put back while the rows stay is noticed."""
    _events(2)
    old_head = _head()
    _events(1)
    _put_head(*old_head)
    assert verify_chain()[:2] == (False, "the chain head was put back (it ends at row 2, the log at row 3)")


@pytest.mark.django_db
def test_log_that_differs_from_its_anchor_fails():
    """S-23: a chain rebuilt from some row on (say with a leaked key) no longer
    matches the anchored HMAC of that row."""
    events = _events(3)
    audit_anchor.delay()
    run = JobRun.objects.get(name="audit_anchor")
    run.counts = {**run.counts, "last_hmac": "f" * 64}
    run.save(update_fields=["counts"])
    ok, message, _n = verify_chain()
    assert not ok and message.startswith(f"row {events[-1].seq} was altered (it differs from the anchor of")


@pytest.mark.django_db
def test_audit_anchor_job_records_the_head_only():
    """S-23, S-24, S-28: the anchor job records the head's row number and HMAC,
    nothing else; run twice it records the same position; the log verifies."""
    events = _events(2)
    first = audit_anchor.delay().get()
    second = audit_anchor.delay().get()
    assert first == second == {"last_seq": events[-1].seq, "last_hmac": events[-1].hmac}
    runs = JobRun.objects.filter(name="audit_anchor")
    assert [r.counts for r in runs] == [first, first] and {r.outcome for r in runs} == {"ok"}
    assert verify_chain()[0]


@pytest.mark.django_db
def test_audit_anchor_refuses_an_altered_head():
    """S-23: the anchor never vouches for a head whose HMAC does not match;
    the failed run is visible in the job record."""
    events = _events(2)
    _put_head(events[0].seq, events[0].hmac, "0" * 64)
    with pytest.raises(Exception, match="head was altered"):
        audit_anchor.delay()
    run = JobRun.objects.get(name="audit_anchor")
    assert run.outcome == "failed" and run.error == "AuditHeadError"


@pytest.mark.django_db
def test_empty_log_without_anchor_verifies():
    """S-23: a fresh installation (no rows, no head, no anchor) is intact."""
    assert verify_chain() == (True, "audit log intact: 0 rows", 0)
    audit_anchor.delay()
    assert verify_chain()[0]


@pytest.mark.django_db
def test_migration_signs_only_a_head_that_matches_the_log():
    """S-23: migration 0003 signs an existing head when it matches the last row,
    and leaves any other head unsigned (verify then fails)."""
    import importlib

    migration = importlib.import_module("privacy_admin.migrations.0003_audit_head_hmac_and_guards")
    events = _events(2)
    _put_head(events[-1].seq, events[-1].hmac, "")
    assert not verify_chain()[0]
    _raw_call(migration.sign_head)
    assert verify_chain()[0]
    _put_head(events[0].seq, events[0].hmac, "")
    _raw_call(migration.sign_head)
    assert _head()[2] == ""


def _raw_call(function):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE privacy_admin_auditchainhead DISABLE TRIGGER USER")
        function(apps, None)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE privacy_admin_auditchainhead ENABLE TRIGGER USER")


@pytest.mark.django_db(transaction=True)
def test_verify_outside_a_transaction():
    """S-23: verify_audit_log as run from cron, outside any transaction (on
    PostgreSQL in one REPEATABLE READ snapshot)."""
    _events(2)
    assert verify_chain() == (True, "audit log intact: 2 rows", 2)


@needs_postgresql
@pytest.mark.django_db
def test_truncate_refused_on_postgresql():
    """S-23: on PostgreSQL TRUNCATE of the log, its head or its checkpoints is
    refused unless privacy_admin.allow_audit_truncate is 'on' (only the test
    database has it)."""
    _events(2)
    for table in AUDIT_TABLES:
        with pytest.raises(DatabaseError, match="TRUNCATE"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL privacy_admin.allow_audit_truncate = 'off'")
            cursor.execute(f"TRUNCATE {table}")
    assert AuditEvent.objects.count() == 2 and AuditChainHead.objects.count() == 1
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SHOW privacy_admin.allow_audit_truncate")
        assert cursor.fetchone()[0] == "on"


@needs_postgresql
@pytest.mark.django_db
def test_head_only_moves_forward_on_postgresql():
    """S-23: on PostgreSQL the head cannot be deleted, wound back, or moved by
    more than one row; appending still works."""
    events = _events(3)
    statements = [
        "DELETE FROM privacy_admin_auditchainhead",
        "UPDATE privacy_admin_auditchainhead SET last_seq = last_seq - 1",
        "UPDATE privacy_admin_auditchainhead SET last_seq = last_seq + 2",
        "UPDATE privacy_admin_auditchainhead SET head_hmac = ''",
    ]
    for sql in statements:
        with pytest.raises(DatabaseError, match="head only moves forward"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert _head()[0] == events[-1].seq
    audit_record("test.after", actor_label="tester")
    assert verify_chain() == (True, "audit log intact: 4 rows", 4)


@pytest.mark.django_db
def test_recomputed_hash_without_key_is_caught():
    """S-23: changing a row and its stored hash (without the key) is caught."""
    events = _events()
    _raw("UPDATE privacy_admin_auditevent SET details = %s, hmac = %s WHERE seq = %s", ['{"i": 99}', "0" * 64, 3])
    ok, message, _n = verify_chain()
    assert not ok and f"row {events[2].seq} was altered" in message


@pytest.mark.django_db
def test_update_and_delete_refused_on_postgresql():
    """S-23: on PostgreSQL the database itself refuses UPDATE and DELETE."""
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL-only; CI runs this on PostgreSQL")
    _events(2)
    for sql in ("UPDATE privacy_admin_auditevent SET action = 'x'", "DELETE FROM privacy_admin_auditevent"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 2


@pytest.mark.django_db
def test_audit_rolls_back_with_the_act():
    """S-21 (mechanism): an event written inside a failed transaction is gone
    with it, and the chain stays whole."""
    _events(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record("test.doomed", actor_label="tester")
        raise RuntimeError
    assert not AuditEvent.objects.filter(action="test.doomed").exists()
    audit_record("test.after", actor_label="tester")
    assert verify_chain()[0]


def test_audit_page_shows_utc(verified_client, app_admin_a, settings):
    """S-22: the audit page shows times in UTC under its "Time (UTC)" heading,
    not in the portal's time zone."""
    from django.utils import timezone

    settings.TIME_ZONE = "Europe/Amsterdam"
    event = audit_record("test.event", actor=app_admin_a)
    page = verified_client(app_admin_a).get("/beheer/audit/").content.decode()
    stored = AuditEvent.objects.get(pk=event.pk).at
    assert stored.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S") in page
    assert timezone.localtime(stored).strftime("%Y-%m-%d %H:%M:%S") not in page


def test_login_events_are_audited_in_utc(client, teacher_a):
    """S-22: failed login, lockout, login and logout are audited, times in UTC,
    with the address, and never the password."""
    client.post("/accounts/login/", {"username": "teacher_a", "password": "not the password"})
    client.post("/accounts/login/", {"username": "teacher_a", "password": PASSWORD})
    event = AuditEvent.objects.get(action="auth.password_failed")
    assert event.actor_label == "teacher_a"
    assert event.ip == "127.0.0.1"
    assert event.at.utcoffset() == datetime.timedelta(0)
    assert AuditEvent.objects.filter(action="auth.password_ok", actor_id=teacher_a.pk).exists()
    rows = list(AuditEvent.objects.values_list("details", "actor_label", "ground"))
    assert "not the password" not in str(rows) and PASSWORD not in str(rows)


def test_unknown_username_is_not_stored(client, db):
    """S-24: a mistyped password in the username field does not reach the log."""
    client.post("/accounts/login/", {"username": "Geheim-Wachtwoord-1", "password": "x"})
    assert AuditEvent.objects.get(action="auth.password_failed").actor_label == "(unknown)"
