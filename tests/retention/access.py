"""This app's rows of the authorisation matrix (tests/students/test_access_table.py).

TABLE: URL name -> (kwargs, {role: status of GET}); kwargs name world keys by
"@name". POST_TABLE: the same for URLs that only take POST. `world` adds this
app's objects to the shared world (a dict) and returns nothing.

The retention screen is the application admin's (retention.run, 403 for
everyone else); purge runs and certificates also the FG's (all schools of
the foundation); legal holds the director's and the FG's (legal_hold.manage).
"""

import datetime

from django.utils import timezone

from retention.models import LegalHold, PurgeRecord, PurgeRun, RetentionRule
from students.models import Pupil
from tests.students.access_roles import FULL_A, ROLES, every, only  # noqa: F401

ADMIN = only({"app_admin_a"}, deny=403)
RUNS = only({"app_admin_a", "fg"}, deny=403)
HOLDS = only({"director_a", "fg"}, deny=403)
SCHOOL = {"school_id": "@school_a"}
RUN = {"run_id": "@retention_run"}

TABLE = {
    "retention_overview": ({}, ADMIN),
    "retention_due_pupils": ({**SCHOOL, "category": "substantive"}, ADMIN),
    "retention_confirm": (SCHOOL, ADMIN),
    "retention_mode": (SCHOOL, ADMIN),
    "retention_rule_edit": ({"rule_id": "@retention_rule"}, ADMIN),
    "retention_runs": ({}, RUNS),
    "retention_result": (RUN, RUNS),
    "retention_progress": (RUN, RUNS),
    "retention_progress_status": (RUN, RUNS),
    "retention_certificate": (RUN, RUNS),
    "legal_hold_list": ({}, HOLDS),
    "legal_hold_new": ({}, HOLDS),
    "legal_hold_detail": ({"hold_id": "@legal_hold"}, HOLDS),
    "legal_hold_lift": ({"hold_id": "@legal_hold"}, every(405)),
}
POST_TABLE = {
    "legal_hold_lift": only({"director_a", "fg"}, ok=302, deny=403),
}


def world(request, objects):
    now = timezone.now()
    run = PurgeRun.objects.create(
        started_at=now,
        finished_at=now,
        as_of=datetime.date(2025, 8, 1),
        school_id=objects["school_a"],
        status=PurgeRun.Status.DONE,
        counts={"due": {"substantive": 1}, "purged": {"substantive": 1}, "held": 0},
        total=1,
        done=1,
    )
    PurgeRecord.objects.create(run=run, category="substantive", rule="substantive: 2 years", pupils=1, rows=3, at=now)
    hold = LegalHold.objects.create(pupil=Pupil.objects.get(pk=objects["pupil"]), reason="dispute", set_at=now)
    objects["retention_run"] = run.pk
    objects["legal_hold"] = hold.pk
    objects["retention_rule"] = RetentionRule.objects.get(category="substantive", condition="").pk
