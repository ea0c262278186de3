"""A record of each job run: started, finished, outcome, counts (shown at
/beheer/taken/). Errors keep the exception's class name only, never its
message, which could carry data."""

from contextlib import contextmanager

from django.utils import timezone

from privacy_admin.models import JobRun


@contextmanager
def job_run(name):
    run = JobRun.objects.create(name=name, started_at=timezone.now())
    counts = {}
    try:
        yield counts
    except Exception as exc:
        run.outcome = JobRun.Outcome.FAILED
        run.error = type(exc).__name__
        run.finished_at = timezone.now()
        run.counts = counts
        run.save(update_fields=["outcome", "error", "finished_at", "counts"])
        raise
    run.outcome = JobRun.Outcome.OK
    run.finished_at = timezone.now()
    run.counts = counts
    run.save(update_fields=["outcome", "finished_at", "counts"])
