"""Jobs, health, encryption keys and the demo seed."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from privacy_admin.crypto import key_id_of
from privacy_admin.env import new_field_key_item, parse_field_keys
from privacy_admin.models import AuditEvent, AuthFailure, JobRun, Membership, StaffSession, StaffTOTPDevice, User
from privacy_admin.schedule import BEAT_SCHEDULE
from privacy_admin.tasks import expired_memberships, security_housekeeping


def test_expired_membership_job_is_idempotent(verified_client, substitute_a):
    """S-28, R-ACC-2: run twice, the expiry is recorded once and the
    substitute's sessions are ended once; each run leaves a job record."""
    verified_client(substitute_a)
    Membership.objects.filter(user=substitute_a).update(valid_until=timezone.localdate() - timedelta(days=1))
    first = expired_memberships.delay().get()
    second = expired_memberships.delay().get()
    assert first == {"expired": 1, "sessions_ended": 1}
    assert second == {"expired": 0, "sessions_ended": 0}
    assert AuditEvent.objects.filter(action="role.expired").count() == 1
    assert StaffSession.objects.filter(user_id=substitute_a.pk).count() == 0
    runs = list(JobRun.objects.filter(name="expired_memberships").values_list("outcome", flat=True))
    assert runs == ["ok", "ok"]


def test_sessions_ended_by_a_job_are_recorded_as_the_system(verified_client, substitute_a):
    """S-22: sessions ended by the expiry job are audited with the system as
    actor, not the substitute whose sessions end."""
    verified_client(substitute_a)
    Membership.objects.filter(user=substitute_a).update(valid_until=timezone.localdate() - timedelta(days=1))
    expired_memberships.delay()
    event = AuditEvent.objects.get(action="session.ended")
    assert (event.actor_id, event.actor_label) == (None, "system")
    assert event.object_id == str(substitute_a.pk) and event.details == {"count": 1, "reason": "role_expired"}


def test_housekeeping_removes_only_expired(db):
    """S-2, S-28: old login failures and expired sessions go; recent ones stay."""
    now = timezone.now()
    AuthFailure.objects.create(at=now - timedelta(days=1), kind="password", username="x", ip="10.0.0.1")
    AuthFailure.objects.create(at=now, kind="password", username="x", ip="10.0.0.1")
    counts = security_housekeeping.delay().get()
    assert counts["failures_removed"] == 1
    assert AuthFailure.objects.count() == 1
    assert security_housekeeping.delay().get()["failures_removed"] == 0


def test_failed_job_is_recorded_without_message(db, monkeypatch):
    """S-24, S-28: a failed run is recorded with its outcome and the error class only, never its message."""
    from privacy_admin import throttle

    def broken():
        raise ValueError("data that must not be stored")

    monkeypatch.setattr(throttle, "purge_old_failures", broken)
    with pytest.raises(ValueError):
        security_housekeeping.delay()
    run = JobRun.objects.get()
    assert run.outcome == "failed" and run.error == "ValueError"


def test_job_runs_shown_to_admin(verified_client, app_admin_a, teacher_a):
    """U-3 (job runs), S-10: the application admin reads the job record; a teacher cannot."""
    security_housekeeping.delay()
    page = verified_client(app_admin_a).get("/beheer/taken/")
    assert page.status_code == 200 and "security_housekeeping" in page.content.decode()
    assert verified_client(teacher_a).get("/beheer/taken/").status_code == 403


def test_every_periodic_job_has_a_time_limit_and_exists():
    """S-28: all schedules in one place, each with a time limit and a real task."""
    from privacy_admin.celery import app

    app.loader.import_default_modules()
    for name, entry in BEAT_SCHEDULE.items():
        assert entry["options"]["time_limit"] > 0, name
        assert entry["task"] in app.tasks, name


def test_healthz(client, db, settings, monkeypatch):
    """S-29 (health): 200 with the database up; still 200, reported as
    degraded, when Redis is configured but down (the pages keep working);
    503 only when the database does not answer."""
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["database"] == "ok"
    assert response.json()["status"] == "ok"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "redis": "down"}

    from privacy_admin.views import portal

    class Unreachable:
        def cursor(self):
            raise OSError("connection refused")

    monkeypatch.setattr(portal, "connection", Unreachable())
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "down"
    assert response.json()["database"] == "down"


def test_field_key_rotation(db, settings):
    """S-25 (mechanism), S-4: TOTP secrets are sealed under the first key; after
    a new key is put first, rotate_encryption_keys re-seals everything and the old key
    can be dropped."""
    user = User.objects.create_user("rotating")
    device = StaffTOTPDevice.new_for(user)
    device.save()
    old_keys = dict(settings.FIELD_ENCRYPTION_KEYS)
    new = parse_field_keys([new_field_key_item("new1")])
    settings.FIELD_ENCRYPTION_KEYS = {**new, **old_keys}
    call_command("rotate_encryption_keys")
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_hex FROM privacy_admin_stafftotpdevice")
        assert {key_id_of(row[0]) for row in cursor.fetchall()} == {"new1"}
    settings.FIELD_ENCRYPTION_KEYS = new
    assert StaffTOTPDevice.objects.get(pk=device.pk).secret_hex == device.secret_hex


def test_seed_demo_idempotent_and_json(db, capsys, settings):
    """R-ORG-1, R-ORG-2: seed_demo makes a foundation with two schools and every role;
    run twice it creates nothing new; --json prints the demo logins."""
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (User.objects.count(), Membership.objects.count(), StaffTOTPDevice.objects.count())
    capsys.readouterr()
    call_command("seed_demo", "--json")
    logins = json.loads(capsys.readouterr().out)
    assert (User.objects.count(), Membership.objects.count(), StaffTOTPDevice.objects.count()) == counts
    assert {row["role"] for row in logins} >= {"directeur", "applicatiebeheerder", "fg", "bestuurder"}
    row = next(r for r in logins if r["username"] == "directeur.a")
    assert set(row) == {"username", "password", "totp_secret", "role", "school"}
    assert row["school"] == "99MS"
    assert next(r for r in logins if r["role"] == "fg")["school"] is None
