"""The audit log: what is recorded (S-22) and that it is tamper-evident (S-23)."""

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from privacy_admin.auditlog import audit_record, verify_chain
from privacy_admin.models import AuditEvent
from tests.conftest import PASSWORD


def _events(n=5):
    return [audit_record("test.event", actor_label="tester", details={"i": i}) for i in range(n)]


def _raw(sql, params=()):
    """Alter the table behind the application's back, as an intruder would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE privacy_admin_auditevent DISABLE TRIGGER privacy_admin_audit_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE privacy_admin_auditevent ENABLE TRIGGER privacy_admin_audit_append_only")


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
    """S-23: cutting rows off the end is noticed through the chain head."""
    events = _events()
    _raw("DELETE FROM privacy_admin_auditevent WHERE seq = %s", [events[-1].seq])
    ok, message, _n = verify_chain()
    assert not ok and message.startswith(f"row {events[-1].seq} is missing")


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
