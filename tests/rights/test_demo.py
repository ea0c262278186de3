"""The demo requests of `seed_demo` (R-RGT-1, R-RGT-4): made through the
actions, on the demo school only, once."""

import io

from disclosures.rights import demo
from disclosures.rights.models import ParentRequest
from privacy_admin.models import Group, School
from privacy_admin.models.org import current_school_year
from privacy_admin.roles import SchoolRole
from students.models import Guardian, GuardianLink
from tests.conftest import make_staff
from tests.students.conftest import make_pupil


def test_demo_requests_are_made_once(foundation):
    school = School.objects.create(foundation=foundation, brin=demo.DEMO_BRIN, name="Demo")
    group = Group.objects.create(school=school, school_year=current_school_year(), grade=5, name="Groep 5")
    staff = {
        "directeur.a": make_staff("directeur.a", school=school, role=SchoolRole.DIRECTOR),
        "leerkracht.a": make_staff("leerkracht.a", school=school, role=SchoolRole.TEACHER),
    }
    for index, authority in enumerate((True, False, True)):
        pupil = make_pupil(school, group, first=f"Kind{index}", pupil_ref=f"99MS-{index:03d}")
        email = demo.DEMO_PARENT if index == 0 else f"ouder{index}@example.org"
        guardian = Guardian.objects.create(last_name="Demo", email=email)
        GuardianLink.objects.create(pupil=pupil, guardian=guardian, has_authority=authority)
    out = io.StringIO()
    demo.seed({demo.DEMO_BRIN: school}, staff, out)
    requests = ParentRequest.objects.order_by("pk")
    assert [(r.kind, r.status, r.requester_has_authority) for r in requests] == [
        ("view", "scheduled", True),
        ("correct", "received", False),
        ("remove", "received", True),
    ]
    assert requests[0].guardian.email == demo.DEMO_PARENT and requests[0].present_staff == staff["leerkracht.a"]
    assert requests[2].overdue
    demo.seed({demo.DEMO_BRIN: school}, staff, out)
    assert ParentRequest.objects.count() == 3
