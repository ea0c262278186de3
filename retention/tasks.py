"""The nightly retention job (R-RET-6, S-27, S-28).

For each school: in "automatic" mode the engine purges what is due today;
in "propose" mode (the default) nothing is deleted and the job record only
carries what is due, for the application admin to confirm. Running twice
purges once: the second run finds nothing left (the engine is idempotent),
and if a purge is still running the lock makes this run skip the school.
The job record holds counts only.
"""

from celery import shared_task
from django.utils import timezone

from privacy_admin.jobs import job_run
from privacy_admin.models import School
from retention import engine
from retention.models import RetentionSettings

JOB_NAME = "retention_nightly"


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
        for school_id in School.objects.order_by("pk").values_list("pk", flat=True):
            try:
                result = engine.purge(as_of, school=school_id, dry_run=school_id not in automatic)
            except engine.PurgeLocked:
                counts["schools_locked"] += 1
                continue
            for category in engine.CATEGORIES:
                counts["purged"][category] += result.purged[category]
                if school_id not in automatic:
                    counts["proposed"][category] += result.due[category]
            counts["held"] += result.held
    return counts
