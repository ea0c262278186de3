"""The nightly retention job (R-RET-6, S-27, S-28).

For each school: in "automatic" mode the engine purges what is due today;
in "propose" mode (the default) nothing is deleted and the job record only
carries what is due, for the application admin to confirm. Running twice
purges once: the second run finds nothing left (the engine is idempotent),
and if a purge is still running the lock makes this run skip the school.
The job record holds counts only.

A purge confirmed on the application admin's screen (U-3) is its own task,
`confirmed_purge(run_id)`, sent once the confirmation commits. The run in the
database is the outbox: if the broker was down then, the run waits as
"queued"; if the worker died mid-purge, it stays "running" without progress.
Either way, once it has stalled for PurgeRun.STALLED_AFTER, the sweep every
10 minutes (`resume_stalled_purges`), the nightly job or the task redelivered
by Redis takes it over and purges what is left; the run's claim makes that
happen once (S-27, S-28, S-29; tests/faults).
"""

import logging

from celery import shared_task
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from privacy_admin.jobs import job_run
from privacy_admin.models import School
from retention import auditterm, engine
from retention.models import PurgeRecord, PurgeRun, RetentionLock, RetentionSettings

JOB_NAME = "retention_nightly"
RESUME_JOB_NAME = "retention_resume"
CONFIRMED_BATCH_SIZE = 200
logger = logging.getLogger(__name__)


@shared_task
def nightly_retention():
    as_of = timezone.localdate()
    automatic = set(
        RetentionSettings.objects.filter(mode=RetentionSettings.Mode.AUTOMATIC).values_list("school_id", flat=True)
    )
    with job_run(JOB_NAME) as counts:
        counts.update(
            {
                "as_of": as_of.isoformat(),
                "proposed": dict.fromkeys(engine.CATEGORIES, 0),
                "purged": dict.fromkeys(engine.CATEGORIES, 0),
                "held": 0,
                "schools_locked": 0,
            }
        )
        # Confirmed on the screen, but no worker took them (S-29): now.
        counts["confirmed_runs"] = resume_queued_runs()
        school_ids = list(School.objects.order_by("pk").values_list("pk", flat=True))
        # The proposals of every school in "propose" mode: one query in all.
        for report in engine.due_by_school(as_of, [pk for pk in school_ids if pk not in automatic]).values():
            for category, pupils in report.counts().items():
                counts["proposed"][category] += pupils
            counts["held"] += len(report.held)
        for school_id in (pk for pk in school_ids if pk in automatic):
            try:
                result = engine.purge(as_of, school=school_id)
            except engine.PurgeLocked:
                counts["schools_locked"] += 1
                continue
            for category in engine.CATEGORIES:
                counts["purged"][category] += result.purged[category]
            counts["held"] += result.held
        # The audit log's own term, foundation-wide and always automatic
        # (retention/auditterm.py). A failure fails the job, keeping the counts above.
        counts["audit_events"] = {"due": 0, "purged": 0}
        try:
            counts["audit_events"] = auditterm.purge_audit(as_of).as_json()
        except engine.PurgeLocked:
            counts["audit_events"]["locked"] = True
        except Exception as exc:
            counts["audit_events"]["error"] = type(exc).__name__
            raise
    return counts


def _stalled(now):
    """A run of one school whose worker died: running without progress for
    STALLED_AFTER. The lock it held has gone stale by then too (the engine's
    heartbeat and the run's progress move together, per batch)."""
    return Q(status=PurgeRun.Status.RUNNING, school__isnull=False, progress_at__lt=now - PurgeRun.STALLED_AFTER)


# Like the nightly job (privacy_admin/schedule.py): a purge at national scale
# takes a while; one stopped by the limit is failed cleanly, and confirming
# again finishes it.
@shared_task(acks_late=True, time_limit=4 * 3600, soft_time_limit=4 * 3600 - 300)
def confirmed_purge(run_id):
    """The purge the application admin confirmed (U-3). The queued run is
    claimed by a conditional UPDATE, so a task delivered twice purges once
    (S-28); the engine then fills the run in and counts its progress per
    batch. A run whose worker was killed (stalled, see `_stalled`) is claimed
    the same way and taken over: the engine takes the stale lock and purges
    what is left, the batches committed before stay with their records (S-27).
    A failure stays on the run (status, error class, failed category) for the
    result page, and is not raised: the finished batches are done and a new
    confirmation finishes the rest."""
    now = timezone.now()
    queued = PurgeRun.objects.filter(pk=run_id, status=PurgeRun.Status.QUEUED)
    # Never a purge of every school because the run's school went missing.
    queued.filter(school__isnull=True).update(status=PurgeRun.Status.FAILED, error="NoSchool", finished_at=now)
    taken_over = (
        PurgeRun.objects.filter(_stalled(now), pk=run_id)
        .values("started_at", "progress_at", "counts", "total", "done")
        .first()
    )
    claimable = PurgeRun.objects.filter(Q(status=PurgeRun.Status.QUEUED) | _stalled(now), pk=run_id)
    if claimable.update(status=PurgeRun.Status.RUNNING, progress_at=now) != 1:
        return None
    run = PurgeRun.objects.select_related("by").get(pk=run_id)
    try:
        engine.purge(run.as_of, school=run.school_id, acting_user=run.by, batch_size=CONFIRMED_BATCH_SIZE, run=run)
    except engine.PurgeLocked:
        if taken_over:
            # The dead worker's lock is not stale yet (or another purge runs):
            # the run stays stalled for the next try.
            PurgeRun.objects.filter(pk=run_id, status=PurgeRun.Status.RUNNING).update(
                progress_at=taken_over["progress_at"]
            )
            return None
        PurgeRun.objects.filter(pk=run_id, status=PurgeRun.Status.RUNNING).update(
            status=PurgeRun.Status.FAILED, error="PurgeLocked", finished_at=timezone.now()
        )
    except Exception as exc:
        # The engine has marked the run failed; its finished batches stay.
        logger.warning("retention: confirmed purge run %s failed (%s)", run_id, type(exc).__name__)
    if taken_over and taken_over["counts"]:
        _carry_over(run_id, taken_over)
    return run_id


def _carry_over(run_id, before):
    """A run taken over shows the whole purge on its result page: what was
    due when it first started, its first start, and as purged what all its
    records (before and after the takeover) say."""
    run = PurgeRun.objects.get(pk=run_id)
    purged = dict.fromkeys(engine.CATEGORIES, 0)
    for category, pupils in PurgeRecord.objects.filter(run=run).values_list("category", "pupils"):
        if category in purged:
            purged[category] += pupils
    counts = {**run.counts, "due": before["counts"].get("due", run.counts.get("due", {})), "purged": purged}
    PurgeRun.objects.filter(pk=run_id).update(
        counts=counts,
        started_at=before["started_at"],
        total=before["done"] + run.total,
        done=before["done"] + run.done,
    )


def queue_confirmed_purge(run_id):
    """Send the confirmed purge to the worker (in-process when Celery runs
    eagerly). With the broker down (refused, or no answer within the socket
    timeouts of settings.CELERY_BROKER_TRANSPORT_OPTIONS) the run stays queued
    in the database; `resume_stalled_purges` picks it up (S-29)."""
    try:
        confirmed_purge.delay(run_id)
    except BrokerError:
        logger.warning("retention: broker unavailable, purge run %s stays queued", run_id)


def _resumable(now):
    cutoff = now - PurgeRun.STALLED_AFTER
    return PurgeRun.objects.filter(Q(status=PurgeRun.Status.QUEUED, requested_at__lt=cutoff) | _stalled(now))


def _lock_busy(now):
    return (
        RetentionLock.objects.filter(pk=1, heartbeat_at__gte=now - engine.LOCK_STALE_AFTER).exclude(holder="").exists()
    )


def resume_queued_runs(now=None):
    """Carry out confirmed runs still queued after PurgeRun.STALLED_AFTER
    (never delivered) and runs whose worker died, oldest first; the number
    carried out. While another purge holds the lock, nothing: a queued run
    would only fail on the lock."""
    now = now or timezone.now()
    if _lock_busy(timezone.now()):
        return 0
    ids = list(_resumable(now).order_by("started_at", "pk").values_list("pk", flat=True))
    return sum(1 for run_id in ids if confirmed_purge(run_id) is not None)


@shared_task
def resume_stalled_purges():
    """Every 10 minutes (privacy_admin/schedule.py): the confirmed purges the
    broker never delivered or whose worker died, carried out here (S-27,
    S-29). A job record only when there was something to do."""
    now = timezone.now()
    if not _resumable(now).exists():
        return {"resumed": 0}
    with job_run(RESUME_JOB_NAME) as counts:
        counts["resumed"] = resume_queued_runs(now)
    return counts
