"""This app's rows of the authorisation matrix (tests/students/test_access_table.py).

TABLE: URL name -> (kwargs, {role: status of GET}); kwargs name world keys by
"@name". POST_TABLE: the same for URLs that only take POST. `world` adds this
app's objects to the shared world (a dict) and returns nothing.

Parents' requests (R-RGT-1..4, U-2): the director handles every request of
the school (rights.handle); the teacher named as present opens that viewing's
overview and records it; the dossier tab is for the full-access roles. The
parents' pages are their own realm: a staff session is sent to the parents'
sign-in (302).
"""

import datetime

from django.utils import timezone

from disclosures.rights.models import ParentRequest
from students.models import Guardian, GuardianLink
from tests.students.access_roles import FULL_A, ROLES, every, only  # noqa: F401

VIEW = {"request_id": "@rights_view"}
CORRECT = {"request_id": "@rights_correct"}
DIRECTOR = only({"director_a"}, deny=403)

TABLE = {
    # Parents' portal
    "parent_requests": ({}, every(302)),
    "parent_request_new": ({"pupil_id": "@pupil"}, every(302)),
    "parent_request_detail": (VIEW, every(302)),
    # The director
    "rights_request_list": ({}, DIRECTOR),
    "rights_my_viewings": ({}, only(FULL_A | {"teacher_b"}, deny=403)),
    "rights_request_detail": (VIEW, DIRECTOR),
    "rights_request_schedule": (VIEW, DIRECTOR),
    "rights_request_extend": (VIEW, DIRECTOR),
    "rights_request_refuse": (VIEW, DIRECTOR),
    "rights_request_complete": (CORRECT, DIRECTOR),
    "rights_correction_list": (CORRECT, DIRECTOR),
    "rights_correction_edit": ({**CORRECT, "part": "support", "record_id": "@support_need"}, DIRECTOR),
    "rights_correction_remove": ({**CORRECT, "part": "support", "record_id": "@support_need"}, DIRECTOR),
    # The viewing: the director and the teacher named as present
    "rights_viewing_overview": (VIEW, only({"director_a", "teacher_a"})),
    "rights_viewing_held": (VIEW, only({"director_a", "teacher_a"})),
    # The dossier tab
    "dossier_requests": ({"pupil_id": "@pupil"}, only(FULL_A)),
}
POST_TABLE = {}


def world(request, objects):
    pupil_id = objects["pupil"]
    cast = objects["cast"]
    parent = Guardian.objects.create(first_name="Petra", last_name="Verzoek", email="petra.verzoek@example.org")
    GuardianLink.objects.create(pupil_id=pupil_id, guardian=parent, has_authority=False)
    now = timezone.now()
    today = timezone.localdate()
    common = {
        "pupil_id": pupil_id,
        "guardian": parent,
        "requester_has_authority": False,
        "received_at": now,
        "received_on": today,
        "due_on": today + datetime.timedelta(days=30),
    }
    view = ParentRequest.objects.create(
        kind=ParentRequest.Kind.VIEW,
        status=ParentRequest.Status.SCHEDULED,
        appointment_at=now + datetime.timedelta(days=3),
        appointment_place="Kamer 1",
        present_staff=cast["teacher_a"],
        answered_at=now,
        **common,
    )
    correct = ParentRequest.objects.create(
        kind=ParentRequest.Kind.CORRECT, part="support", what="x", reason="y", **common
    )
    objects["rights_view"] = view.pk
    objects["rights_correct"] = correct.pk
