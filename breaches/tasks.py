"""The 72-hour escalation (R-BRK-2, S-28).

Every 15 minutes: for each breach still without a decision, send the
escalation steps of breaches.services.ESCALATION_STEPS that are due. Each
step is claimed by inserting its unique Escalation row before anything is
mailed, so running the job twice (beat firing twice, a redelivered task)
sends each step once. A worker that dies between the claim and the mail
loses that step's mail; the next step and the dashboard still show the
clock, which we prefer over mailing twice.
"""

from celery import shared_task

from breaches import services
from privacy_admin.jobs import job_run

JOB_NAME = "breach_escalation"


@shared_task
def escalate_breaches():
    with job_run(JOB_NAME) as counts:
        counts["escalations_sent"] = services.escalate_due()
    return counts
