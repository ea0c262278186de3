"""The deadline warnings of parents' requests (R-RGT-3, S-28).

Daily: for every open request, the school's directors (rights.handle) get a
notice 7 days and again 2 days before the deadline, each once. A warning is
claimed by a conditional UPDATE of its column (`warned_7_at`, `warned_2_at`)
before anything is mailed, so beat firing twice, or a redelivered task,
sends it once; a worker that dies between the claim and the mail loses that
warning, and the request still shows on the director's list and dashboard
with its days left. An extension clears both columns for the new deadline.
The mail is a fixed sentence and a link (R-DIS-6). The task takes nothing
and returns counts only (S-24).
"""

from celery import shared_task

from disclosures.rights import services
from privacy_admin.jobs import job_run

JOB_NAME = "rights_deadline_warnings"


@shared_task
def warn_request_deadlines():
    with job_run(JOB_NAME) as counts:
        counts.update(services.deadline_warnings_send())
    return counts
