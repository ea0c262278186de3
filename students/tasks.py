"""Periodic jobs of the pupils' app. Tasks take ids (or nothing), never model
instances or personal data (S-24).

expire_grants: the policy already refuses a grant the day after its end date
(S-14); this job makes that visible in the audit log and removes the
django-guardian row of an expired involvement. Each grant is claimed by
setting `ended_recorded_at` in a conditional update, so when beat fires twice,
or overlaps with a manager ending the grant by hand, it is recorded once
(S-28).
"""

from celery import shared_task
from django.utils import timezone

from privacy_admin.jobs import job_run
from students import grants
from students.models import Assignment, Involvement


@shared_task
def expire_grants():
    with job_run("expire_grants") as counts:
        counts["assignments_expired"] = 0
        counts["involvements_expired"] = 0
        counts["permissions_removed"] = 0
        today = timezone.localdate()
        assignment_ids = list(
            Assignment.objects.filter(valid_until__lt=today, ended_recorded_at=None).values_list("pk", flat=True)
        )
        for assignment_id in assignment_ids:
            if grants.assignment_expire(assignment_id):
                counts["assignments_expired"] += 1
        involvement_ids = list(
            Involvement.objects.filter(valid_until__lt=today, ended_recorded_at=None).values_list("pk", flat=True)
        )
        for involvement_id in involvement_ids:
            recorded, permission_removed = grants.involvement_expire(involvement_id)
            counts["involvements_expired"] += int(recorded)
            counts["permissions_removed"] += int(permission_removed)
    return counts
