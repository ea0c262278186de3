"""A Celery worker killed with SIGKILL in the middle of a purge and of the
yearly reminder: after the restart the work completes, exactly once
(S-27, S-28).

The stale times (the retention lock and a run: 15 minutes; a claimed
reminder: 30 minutes) and Redis's redelivery of unacknowledged tasks (1
hour) are shortened for the worker processes (tests/faults/instrument.py),
so the test need not wait them out; the code paths are the production ones.
"""

import os
import signal
import time

from django.utils import timezone

from consent.models import Reminder
from consent.tasks import JOB_NAME as REMINDER_JOB
from consent.tasks import send_yearly_reminders
from privacy_admin.models import AuditEvent, JobRun
from retention import engine
from retention.actions import purge_confirm
from retention.models import PurgeRecord, PurgeRun, RetentionLock
from retention.tasks import confirmed_purge, resume_stalled_purges
from tests.faults.data import leavers, mail_lines, parents_due_a_reminder, record_state, whole_or_gone
from tests.faults.procs import wait_until

STALE = 2.0  # seconds, for 15 minutes
VISIBILITY = 3.0  # seconds, for Redis's hour


def _per_category(records):
    totals = dict.fromkeys(engine.CATEGORIES, 0)
    for category, pupils in records:
        totals[category] += pupils
    return totals


def test_worker_killed_mid_purge_finishes_exactly_once(broker, procs, report, school_a, app_admin_a):
    """S-27, S-28: the worker carrying out a confirmed purge is killed
    (SIGKILL of the worker and its pool) inside a batch's transaction. That
    batch is rolled back whole; the committed ones stay, each with its record.
    After the restart the unacknowledged task comes back, takes over the run
    whose lock went stale and purges the rest; every pupil's data is removed
    once and recorded once, and a task delivered again changes nothing."""
    today = timezone.localdate()
    pupils = leavers(school_a, 24)
    due_before = engine.due(today, school=school_a).counts()
    state_before = record_state(pupils)
    worker = procs.worker(
        FAULT_BATCH_DELAY=0.3, FAULT_BATCH_SIZE=4, FAULT_STALE_SECONDS=STALE, FAULT_VISIBILITY_TIMEOUT=VISIBILITY
    )

    started = time.monotonic()
    run = purge_confirm(school=school_a, as_of=today, acting_user=app_admin_a)
    wait_until(lambda: PurgeRecord.objects.filter(run=run).count() >= 3, 30, "three committed batches")
    worker.kill()
    killed_after = time.monotonic() - started

    run.refresh_from_db()
    lock = RetentionLock.objects.get(pk=1)
    records_at_kill = list(PurgeRecord.objects.filter(run=run).values_list("category", "pupils"))
    split = whole_or_gone(state_before, record_state(pupils))
    assert run.status == PurgeRun.Status.RUNNING and lock.holder
    assert {c: gone for c, (_untouched, gone) in split.items()} == _per_category(records_at_kill)
    report(
        f"killed after {killed_after:.1f} s with {len(records_at_kill)} committed batches "
        f"({sum(p for _c, p in records_at_kill)} pupil-categories), run {run.status}, lock held; "
        "no pupil half-purged"
    )

    # Production waits 15 minutes for the lock and the run to go stale.
    last = max(run.progress_at, lock.heartbeat_at)
    time.sleep(max(0.0, (last - timezone.now()).total_seconds() + STALE + 0.2))
    restarted = time.monotonic()
    procs.worker(FAULT_STALE_SECONDS=STALE, FAULT_VISIBILITY_TIMEOUT=VISIBILITY)

    def finished():
        run.refresh_from_db()
        return run.finished

    wait_until(finished, 60, "the run to finish after the restart")
    completed_after = time.monotonic() - restarted
    # The task acknowledges after it has filled in the run's totals.
    wait_until(lambda: broker.queued() == 0 and broker.unacked() == 0, 30, "the task to be acknowledged")
    run.refresh_from_db()
    assert run.status == PurgeRun.Status.DONE, (run.status, run.error)

    records = list(PurgeRecord.objects.filter(run=run).values_list("category", "pupils"))
    assert _per_category(records) == due_before
    assert AuditEvent.objects.filter(action="retention_purge", object_id=str(run.pk)).count() == len(records)
    split = whole_or_gone(state_before, record_state(pupils))
    assert all(gone == len(pupils) for category, (_untouched, gone) in split.items() if due_before[category])
    assert engine.due(today, school=school_a).counts() == dict.fromkeys(engine.CATEGORIES, 0)
    assert RetentionLock.objects.get(pk=1).holder == ""
    assert run.counts["purged"] == due_before and run.done == run.total

    # Delivered again, and the sweep beat fires: nothing more happens.
    confirmed_purge.delay(run.pk)
    resume_stalled_purges.delay()
    wait_until(lambda: broker.queued() == 0 and broker.unacked() == 0, 30, "the queue to drain")
    time.sleep(0.5)
    assert PurgeRecord.objects.filter(run=run).count() == len(records)
    report(
        f"restarted worker finished the run {completed_after:.1f} s after it started; "
        f"{len(records)} batch records for {sum(due_before.values())} pupil-categories, each once, as due; "
        "a second delivery and the sweep purged nothing"
    )


def test_worker_killed_mid_reminder_sends_each_once(broker, procs, report, school_a, group5_a, log_dir):
    """S-28, R-CON-3: the pool process sending the yearly reminders is
    killed (SIGKILL) while it sends the fourth mail. The task was not
    acknowledged (acks_late) and goes back to the queue at once
    (task_reject_on_worker_lost); the new pool process sends the rest,
    including the abandoned fourth once its claim has gone stale. Every
    parent gets exactly one mail; running the job again sends nothing."""
    addresses = parents_due_a_reminder(school_a, group5_a, 8)
    mail_log = log_dir / "reminder-mail.log"
    faults = {"FAULT_MAIL_LOG": mail_log, "FAULT_CLAIM_SECONDS": STALE}
    worker = procs.worker(FAULT_MAIL_BLOCK_AT=4, **faults)

    started = time.monotonic()
    send_yearly_reminders.delay()
    wait_until(mail_log.with_suffix(".blocked").exists, 30, "the fourth mail to block")
    time.sleep(STALE + 0.2)  # the claim of the fourth goes stale (production: 30 minutes)
    child = worker.children()[0]
    mails_before = len(mail_lines(mail_log))
    os.kill(child, signal.SIGKILL)
    killed_after = time.monotonic() - started

    def all_sent():
        return Reminder.objects.filter(status=Reminder.Status.SENT).count() == len(addresses)

    wait_until(all_sent, 60, "every reminder to be sent")
    redone_after = time.monotonic() - started - killed_after
    lines = mail_lines(mail_log)
    sent_to = sorted(line.split("\t")[0] for line in lines)
    assert sent_to == sorted(addresses)
    runs = JobRun.objects.filter(name=REMINDER_JOB)
    assert runs.count() == 2 and runs.filter(finished_at__isnull=True).count() == 1

    send_yearly_reminders.delay()
    wait_until(lambda: JobRun.objects.filter(name=REMINDER_JOB, finished_at__isnull=False).count() == 2, 30, "run 3")
    assert len(mail_lines(mail_log)) == len(addresses)
    report(
        f"pool process killed after {killed_after:.1f} s with {mails_before} of {len(addresses)} mails sent; "
        f"the task came back and finished {redone_after:.1f} s later: {len(lines)} mails, one per parent; "
        "a third run sent nothing"
    )
