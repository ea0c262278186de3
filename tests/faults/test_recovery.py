"""The recovery paths the fault tests found missing, in-process and fast, so
`make test` keeps them on SQLite and PostgreSQL (the fault tests prove them
with real processes: tests/faults/test_worker_kill.py, test_redis_down.py,
test_postgres_kill.py).

A killed worker is simulated the way SIGKILL leaves things: the batch in
flight rolled back, the run "running", the lock still held with its last
heartbeat; then time passes (the timestamps are moved back).
"""

import datetime

import pytest
from django.conf import settings as django_settings
from django.db.models import F
from django.utils import timezone

from privacy_admin.models import JobRun
from privacy_admin.schedule import BEAT_SCHEDULE
from retention import engine, tasks
from retention.models import PurgeRecord, PurgeRun, RetentionLock
from tests.faults.data import leavers

LONG_AGO = datetime.timedelta(minutes=16)  # past STALLED_AFTER and the lock's stale time


class Killed(BaseException):
    """Not an Exception: the engine's handlers do not see it, as they would
    not see a SIGKILL."""


def _killed_midway(school, user, monkeypatch, after_batches=2):
    """A confirmed run whose worker died after `after_batches` committed batches."""
    run = PurgeRun.objects.create(
        status=PurgeRun.Status.QUEUED,
        requested_at=timezone.now(),
        started_at=timezone.now(),
        as_of=timezone.localdate(),
        school=school,
        by=user,
    )
    original, calls = engine._progress, []

    def dies(run, pairs):
        # A batch starts by counting its progress: die as the next one starts.
        if len(calls) == after_batches:
            raise Killed
        calls.append(pairs)
        return original(run, pairs)

    with monkeypatch.context() as patch:
        patch.setattr(engine, "_progress", dies)
        patch.setattr(tasks, "CONFIRMED_BATCH_SIZE", 1)
        with pytest.raises(Killed):
            tasks.confirmed_purge(run.pk)
    # SIGKILL runs no `finally`: the lock stays with the dead worker.
    RetentionLock.objects.filter(pk=1).update(holder="dead-worker", heartbeat_at=timezone.now())
    return run


def _age(run, by=LONG_AGO):
    PurgeRun.objects.filter(pk=run.pk).update(progress_at=F("progress_at") - by)
    RetentionLock.objects.filter(pk=1).update(heartbeat_at=timezone.now() - by)


def test_run_whose_worker_died_is_taken_over_and_purged_once(school_a, app_admin_a, monkeypatch):
    """S-27, S-28: the redelivered task (or the sweep) takes over a run that
    stalled with its worker: the rest is purged, each pupil once, and the
    result page's totals cover the whole run."""
    leavers(school_a, 3)
    due = engine.due(timezone.localdate(), school=school_a).counts()
    run = _killed_midway(school_a, app_admin_a, monkeypatch)
    run.refresh_from_db()
    # Two batches (of one pupil each, all its due categories) committed.
    assert run.status == PurgeRun.Status.RUNNING and run.done > 0
    assert PurgeRecord.objects.filter(run=run).values("pupils").count() >= 2
    assert sum(PurgeRecord.objects.filter(run=run).values_list("pupils", flat=True)) == run.done
    started_at = run.started_at

    assert tasks.confirmed_purge(run.pk) is None  # not stalled yet: the worker may be alive
    _age(run)
    assert tasks.confirmed_purge(run.pk) == run.pk
    run.refresh_from_db()
    purged = dict.fromkeys(engine.CATEGORIES, 0)
    for category, pupils in PurgeRecord.objects.filter(run=run).values_list("category", "pupils"):
        purged[category] += pupils
    assert run.status == PurgeRun.Status.DONE and purged == due
    assert run.counts["due"] == due and run.counts["purged"] == due
    assert (run.done, run.total, run.started_at) == (run.total, sum(due.values()), started_at)
    assert RetentionLock.objects.get(pk=1).holder == ""
    assert tasks.confirmed_purge(run.pk) is None  # delivered once more: nothing


def test_takeover_waits_while_the_lock_is_fresh(school_a, app_admin_a, monkeypatch):
    """S-27: a stalled run whose lock is still fresh (another purge holds
    it) is not failed: it stays stalled, and a later try takes it over."""
    leavers(school_a, 2)
    run = _killed_midway(school_a, app_admin_a, monkeypatch, after_batches=1)
    PurgeRun.objects.filter(pk=run.pk).update(progress_at=F("progress_at") - LONG_AGO)
    RetentionLock.objects.filter(pk=1).update(holder="someone-alive", heartbeat_at=timezone.now())
    assert tasks.confirmed_purge(run.pk) is None
    run.refresh_from_db()
    assert run.status == PurgeRun.Status.RUNNING and run.stalled()
    assert tasks.resume_stalled_purges() == {"resumed": 0}  # the sweep leaves it while the lock is busy
    _age(run)
    assert tasks.resume_stalled_purges()["resumed"] == 1
    run.refresh_from_db()
    assert run.status == PurgeRun.Status.DONE


def test_sweep_carries_out_a_run_the_broker_never_got_and_records_only_work(school_a, app_admin_a):
    """S-29, S-28: the sweep (every 10 minutes) leaves no job record when
    nothing waits; a run queued while the broker was down is carried out
    once it has waited STALLED_AFTER, once however often the sweep fires."""
    leavers(school_a, 2)
    assert tasks.resume_stalled_purges() == {"resumed": 0}
    assert not JobRun.objects.filter(name=tasks.RESUME_JOB_NAME).exists()
    now = timezone.now()
    run = PurgeRun.objects.create(
        status=PurgeRun.Status.QUEUED,
        requested_at=now,
        started_at=now,
        as_of=timezone.localdate(),
        school=school_a,
        by=app_admin_a,
    )
    assert tasks.resume_stalled_purges() == {"resumed": 0}  # just confirmed: the worker may yet get it
    PurgeRun.objects.filter(pk=run.pk).update(requested_at=now - LONG_AGO)
    assert tasks.resume_stalled_purges() == {"resumed": 1}
    assert tasks.resume_stalled_purges() == {"resumed": 0}
    run.refresh_from_db()
    assert run.status == PurgeRun.Status.DONE
    assert JobRun.objects.filter(name=tasks.RESUME_JOB_NAME, outcome="ok").count() == 1


def test_task_and_broker_settings_keep_work_and_bound_waits():
    """S-27, S-29: a task whose worker was killed goes back to the queue
    (acks_late, reject_on_worker_lost); a dead or hung broker fails a send
    within seconds (socket timeouts, one retry); a database connection is
    checked before reuse (tests/faults show each fault without them)."""
    assert django_settings.CELERY_TASK_ACKS_LATE is True
    assert django_settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    options = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert options["socket_timeout"] <= 5 and options["socket_connect_timeout"] <= 5
    assert django_settings.CELERY_TASK_PUBLISH_RETRY_POLICY["max_retries"] <= 1
    assert BEAT_SCHEDULE["retention-resume-stalled"]["task"] == "retention.tasks.resume_stalled_purges"
