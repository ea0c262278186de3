"""The audit log's own retention term (R-RET-6, S-23, S-27): old events go
behind a signed checkpoint, verify_audit_log keeps proving what is left."""

import datetime
import io
import json
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from privacy_admin.auditlog import AuditChainError, audit_record, cut_through, verify_chain
from privacy_admin.models import AuditCheckpoint, AuditEvent, JobRun
from privacy_admin.tasks import audit_anchor
from retention import auditterm, engine
from retention.models import PurgeRecord, PurgeRun
from retention.tasks import nightly_retention

D = datetime.date
needs_postgresql = pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="the audit triggers are PostgreSQL-only; run with DATABASE_URL=postgres://... (CI does)",
)


def _raw(sql, params=()):
    """Alter the tables behind the application's back, triggers switched off,
    as an intruder with database rights would."""
    tables = ("privacy_admin_auditevent", "privacy_admin_auditchainhead", "privacy_admin_auditcheckpoint")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def _at(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def events_on(day, n):
    """n audit events written (as if) at noon on `day`."""
    with mock.patch("django.utils.timezone.now", return_value=_at(day)):
        return [audit_record("test.event", actor_label="tester", details={"i": i}) for i in range(n)]


@pytest.fixture
def log(db):
    """Three events in 2019, two on 2020-03-10, two in 2024."""
    return events_on(D(2019, 5, 1), 3) + events_on(D(2020, 3, 10), 2) + events_on(D(2024, 1, 2), 2)


def test_old_events_purged_newer_kept_and_log_verifies(log, settings):
    """R-RET-6, S-23, S-27: on 2025-03-11 (5 years) the events of 2019 and of
    2020-03-10 are due, those of 2024 are kept; the purge leaves a deletion
    record (counts and rule only), a checkpoint, and a log that verifies."""
    settings.AUDIT_RETENTION_YEARS = 5
    assert auditterm.due_count(D(2025, 3, 10)) == 3  # 2020-03-10 is due the day after 2025-03-10
    assert auditterm.due_count(D(2025, 3, 11)) == 5
    result = auditterm.purge_audit(D(2025, 3, 11), batch_size=2)
    assert (result.due, result.purged) == (5, 5)
    assert list(AuditEvent.objects.filter(action="test.event").values_list("seq", flat=True).order_by("seq")) == [6, 7]
    checkpoints = list(AuditCheckpoint.objects.values_list("from_seq", "through_seq", "rows"))
    assert checkpoints == [(1, 2, 2), (3, 4, 2), (5, 5, 1)]
    last = AuditCheckpoint.objects.get(through_seq=5)
    assert last.through_hmac == log[4].hmac and last.first_at == last.last_at == _at(D(2020, 3, 10))

    run = PurgeRun.objects.get(pk=result.run_id)
    assert run.status == PurgeRun.Status.DONE
    assert run.counts["audit_events"] == {"due": 5, "purged": 5} and sum(run.counts["purged"].values()) == 0
    records = PurgeRecord.objects.filter(run=run)
    assert [(r.category, r.rows, r.pupils) for r in records] == [("audit", 2, 0), ("audit", 2, 0), ("audit", 1, 0)]
    assert {r.rule for r in records} == {"audit log: 5 years after the event"}
    assert AuditEvent.objects.filter(action=auditterm.ACTION).count() == 3

    ok, message, checked = verify_chain()
    assert ok, message
    assert checked == 2 + 3 and "rows 1-5 removed after the retention term; 3 checkpoints" in message
    out = io.StringIO()
    call_command("verify_audit_log", stdout=out)
    assert "intact" in out.getvalue()


def test_second_run_purges_nothing(log):
    """S-27, S-28: a second run on the same day removes nothing and leaves no
    new run or checkpoint."""
    assert auditterm.purge_audit(D(2025, 3, 11)).purged == 5
    runs, checkpoints, events = PurgeRun.objects.count(), AuditCheckpoint.objects.count(), AuditEvent.objects.count()
    again = auditterm.purge_audit(D(2025, 3, 11))
    assert (again.due, again.purged) == (0, 0)
    assert (PurgeRun.objects.count(), AuditCheckpoint.objects.count(), AuditEvent.objects.count()) == (
        runs,
        checkpoints,
        events,
    )
    # Later, the next events become due and the chain is carried on.
    assert auditterm.purge_audit(D(2029, 1, 3)).purged == 2
    assert verify_chain()[0]


def test_term_is_configurable(log, settings):
    """R-RET-6: the term comes from AUDIT_RETENTION_YEARS."""
    settings.AUDIT_RETENTION_YEARS = 1
    assert auditterm.due_count(D(2021, 3, 11)) == 5
    assert auditterm.rule_text() == "audit log: 1 year after the event"
    settings.AUDIT_RETENTION_YEARS = 10
    assert auditterm.due_count(D(2025, 3, 11)) == 0
    assert auditterm.purge_audit(D(2025, 3, 11)).purged == 0
    assert auditterm.due_count(D(2029, 5, 2)) == 3


def test_term_setting_is_read_from_the_environment(monkeypatch):
    """AUDIT_RETENTION_YEARS is a whole number of years, at least 1."""
    from django.core.exceptions import ImproperlyConfigured

    from privacy_admin.env import env_int

    monkeypatch.setenv("AUDIT_RETENTION_YEARS", "7")
    assert env_int("AUDIT_RETENTION_YEARS", 5, minimum=1, maximum=50) == 7
    monkeypatch.setenv("AUDIT_RETENTION_YEARS", "0")
    with pytest.raises(ImproperlyConfigured, match="AUDIT_RETENTION_YEARS must be at least 1"):
        env_int("AUDIT_RETENTION_YEARS", 5, minimum=1, maximum=50)
    source = (__import__("pathlib").Path(__file__).parents[2] / "privacy_admin" / "settings.py").read_text()
    assert 'env_int("AUDIT_RETENTION_YEARS", 5, minimum=1, maximum=50)' in source


def test_only_an_unbroken_run_from_the_start_goes(db):
    """An event written with a clock that ran behind waits for the events
    before it: only the oldest run of due events is removed."""
    events_on(D(2019, 1, 1), 2)
    events_on(D(2024, 1, 1), 1)
    events_on(D(2019, 6, 1), 1)  # old timestamp, but after a kept row
    assert auditterm.purge_audit(D(2025, 1, 1)).purged == 2
    assert AuditEvent.objects.filter(seq=4).exists()
    assert verify_chain()[0]


def test_tampering_after_a_purge_is_detected(log):
    """S-23: after a purge an altered or removed remaining row is still named,
    and so are an altered, removed or forged checkpoint."""
    auditterm.purge_audit(D(2025, 3, 11))
    _raw("UPDATE privacy_admin_auditevent SET action = %s WHERE seq = %s", ["test.other", 7])
    assert verify_chain()[:2] == (False, "row 7 was altered")
    _raw("UPDATE privacy_admin_auditevent SET action = %s WHERE seq = %s", ["test.event", 7])
    assert verify_chain()[0]

    # A deletion in the middle, not via the purge.
    _raw("DELETE FROM privacy_admin_auditevent WHERE seq = 6")
    ok, message, _n = verify_chain()
    assert not ok and message.startswith("row 6 is missing")


def test_first_row_after_the_checkpoint_removed_is_missing(log):
    """S-23: the row right after the checkpoint removed by hand is missing,
    and the checkpoint cannot be moved on without the key."""
    auditterm.purge_audit(D(2025, 3, 11))
    _raw("DELETE FROM privacy_admin_auditevent WHERE seq = 6")
    assert verify_chain()[1].startswith("row 6 is missing (next row found is 7)")
    _raw("UPDATE privacy_admin_auditcheckpoint SET through_seq = 6, rows = 2 WHERE through_seq = 5")
    assert verify_chain()[:2] == (False, "the checkpoint through row 6 was altered (its HMAC does not match)")


def test_checkpoint_removed_or_forged_fails(log):
    """S-23: dropping the last checkpoint uncovers rows that are gone;
    a checkpoint added without the key does not verify."""
    auditterm.purge_audit(D(2025, 3, 11), batch_size=3)
    _raw("DELETE FROM privacy_admin_auditcheckpoint WHERE through_seq = 5")
    assert verify_chain()[1].startswith("row 4 is missing")
    _raw(
        "INSERT INTO privacy_admin_auditcheckpoint (from_seq, through_seq, through_hmac, rows, first_at, last_at, "
        "made_at, prev_hmac, hmac) VALUES (4, 5, %s, 2, %s, %s, %s, %s, %s)",
        [log[4].hmac, timezone.now(), timezone.now(), timezone.now(), "0" * 64, "f" * 64],
    )
    assert verify_chain()[1] == "the checkpoint through row 5 was altered (its HMAC does not match)"


def test_rows_kept_behind_a_checkpoint_fail(log):
    """S-23: a row put back behind the checkpoint is not part of the log."""
    auditterm.purge_audit(D(2025, 3, 11))
    _raw(
        "INSERT INTO privacy_admin_auditevent (seq, at, actor_label, action, object_type, object_id, ground, "
        "details, prev_hmac, hmac) VALUES (2, %s, 'x', 'test.event', '', '', '', '{}', %s, %s)",
        [timezone.now(), "0" * 64, "0" * 64],
    )
    assert verify_chain()[:2] == (False, "row 2 is still there although a checkpoint says it was removed")


def test_a_broken_log_is_not_purged(log):
    """S-23: the purge verifies the rows it removes first; an altered row stops
    it and nothing of that batch goes, so the evidence stays."""
    _raw("UPDATE privacy_admin_auditevent SET action = %s WHERE seq = %s", ["test.other", 4])
    with pytest.raises(AuditChainError, match="row 4 was altered"):
        auditterm.purge_audit(D(2025, 3, 11), batch_size=2)
    run = PurgeRun.objects.get()
    assert run.status == PurgeRun.Status.FAILED and run.error == "AuditChainError"
    assert run.counts["audit_events"] == {"due": 5, "purged": 2}
    assert AuditEvent.objects.filter(seq__in=[3, 4, 5]).count() == 3
    assert verify_chain()[:2] == (False, "row 4 was altered")


def test_anchors_survive_a_purge(log):
    """S-23: an anchored row removed by the purge does not break verification;
    anchors of kept rows still count."""
    audit_anchor.delay()
    auditterm.purge_audit(D(2030, 1, 1))  # every row, the anchored last one too
    assert verify_chain()[0]


def test_purge_waits_for_the_lock(log):
    """S-27: the audit purge takes the same lock as the pupil purge."""
    token = engine.take_lock()
    with pytest.raises(engine.PurgeLocked):
        auditterm.purge_audit(D(2025, 3, 11))
    engine.release_lock(token)
    assert AuditEvent.objects.count() == 7 and not PurgeRun.objects.exists()


def test_dry_run_changes_nothing(log):
    result = auditterm.purge_audit(D(2025, 3, 11), dry_run=True)
    assert (result.due, result.purged) == (5, 0)
    assert AuditEvent.objects.count() == 7 and not AuditCheckpoint.objects.exists()


def _run(*args):
    out = io.StringIO()
    call_command("retention_run", *args, stdout=out)
    return out.getvalue()


def test_command_reports_audit_events(log, school_a):
    """retention_run: audit events in the human output and under their own
    key "audit_events" in --json; --school only counts them."""
    text = _run("--as-of", "2025-03-11", "--dry-run")
    assert "audit log (5 years): events due 5, purged 0" in text
    data = json.loads(_run("--as-of", "2025-03-11", "--school", school_a.brin, "--json"))
    assert set(data) == {"as_of", "due", "purged", "held", "audit_events"}
    assert data["audit_events"] == {"due": 5, "purged": 0}
    data = json.loads(_run("--as-of", "2025-03-11", "--json"))
    assert data["audit_events"] == {"due": 5, "purged": 5}
    assert json.loads(_run("--as-of", "2025-03-11", "--json"))["audit_events"] == {"due": 0, "purged": 0}
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        _run("--as-of", "2025-03-11", "--batch-size", "0")


def test_command_keeps_pupil_counts_when_the_audit_purge_fails(log):
    """A broken audit log fails the command after the pupil counts are out."""
    _raw("UPDATE privacy_admin_auditevent SET action = %s WHERE seq = %s", ["test.other", 2])
    out = io.StringIO()
    with pytest.raises(CommandError, match="the audit log was not purged: row 2 was altered"):
        call_command("retention_run", "--as-of", "2025-03-11", "--json", stdout=out)
    assert json.loads(out.getvalue())["audit_events"] == {"due": 5, "purged": 0}


def test_nightly_job_purges_the_audit_log(db):
    """R-RET-6, S-28: the nightly job removes due events once, whatever the
    schools' mode, and records the count in its job record."""
    events_on(timezone.localdate() - datetime.timedelta(days=6 * 366), 3)
    nightly_retention.delay()
    nightly_retention.delay()
    runs = JobRun.objects.filter(name="retention_nightly").order_by("started_at", "pk")
    assert [r.counts["audit_events"] for r in runs] == [{"due": 3, "purged": 3}, {"due": 0, "purged": 0}]
    assert verify_chain()[0]


def test_nightly_job_records_an_audit_purge_failure(db):
    """A failing audit purge fails the job visibly, with the pupil counts kept."""
    events_on(timezone.localdate() - datetime.timedelta(days=6 * 366), 2)
    _raw("UPDATE privacy_admin_auditevent SET action = %s WHERE seq = %s", ["test.other", 1])
    with pytest.raises(AuditChainError):
        nightly_retention.delay()
    run = JobRun.objects.get(name="retention_nightly")
    assert run.outcome == JobRun.Outcome.FAILED and run.error == "AuditChainError"
    assert run.counts["audit_events"]["error"] == "AuditChainError" and "purged" in run.counts


@needs_postgresql
def test_plain_delete_refused_on_postgresql(log):
    """S-23: on PostgreSQL a plain DELETE of audit rows is refused, also of
    rows a checkpoint covers; with the purge's setting only covered rows go."""
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM privacy_admin_auditevent WHERE seq = 1")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('privacy_admin.audit_purge', 'on', true)")
        cursor.execute("DELETE FROM privacy_admin_auditevent WHERE seq = 1")  # no checkpoint covers it
    with transaction.atomic():
        cut_through(2)
        with connection.cursor() as cursor:
            # cut_through switched the setting off again behind itself.
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                cursor.execute("DELETE FROM privacy_admin_auditevent WHERE seq = 3")
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                cursor.execute("SELECT set_config('privacy_admin.audit_purge', 'on', true)")
                cursor.execute("DELETE FROM privacy_admin_auditevent WHERE seq = 3")  # beyond the checkpoint
            for sql in (
                "UPDATE privacy_admin_auditcheckpoint SET rows = 3",
                "DELETE FROM privacy_admin_auditcheckpoint",
            ):
                with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                    cursor.execute(sql)
    assert AuditEvent.objects.count() == 5 and verify_chain()[0]


def test_audit_run_shows_progress_and_labels(log, settings, verified_client, fg):
    """U-3, R-RET-6: a run of the audit term counts its progress in events,
    committed per batch, and its records and result read "Audit log", not
    the raw category key."""
    settings.AUDIT_RETENTION_YEARS = 5
    seen = []
    real = auditterm.auditlog.cut_through

    def spy(through_seq):
        run = PurgeRun.objects.get()
        seen.append((run.done, run.total, run.status))
        return real(through_seq)

    with mock.patch.object(auditterm.auditlog, "cut_through", spy):
        result = auditterm.purge_audit(D(2025, 3, 11), batch_size=2)
    assert seen == [(0, 5, PurgeRun.Status.RUNNING), (2, 5, PurgeRun.Status.RUNNING), (4, 5, PurgeRun.Status.RUNNING)]
    run = PurgeRun.objects.get(pk=result.run_id)
    assert (run.done, run.total, run.percent, run.is_audit) == (5, 5, 100, True)
    assert {r.get_category_display() for r in run.records.all()} == {"Audit log"}

    client = verified_client(fg)  # a run of no school: the foundation's FG reads it
    status = client.get(reverse("retention_progress_status", kwargs={"run_id": run.pk})).json()
    assert (status["done"], status["total"]) == (5, 5) and "audit events" in status["text"]
    body = client.get(reverse("retention_result", kwargs={"run_id": run.pk})).content.decode()
    assert "Audit log (events)" in body and ">audit<" not in body
