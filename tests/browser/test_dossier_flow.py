"""U-1 for dossiers, in a real browser: a teacher opens group 5, opens a
dossier and adds a conversation report; a substitute outside the assignment
window gets a 404 for the same pupil."""

import datetime
import re

import pytest
from django.utils import timezone

from privacy_admin.models import Group, School
from privacy_admin.models.org import current_school_year
from privacy_admin.roles import SchoolRole
from students.models import Assignment, ConversationReport
from tests.browser.test_login_flow import _code_step, _password_step, _submit
from tests.conftest import make_staff
from tests.students.conftest import make_pupil

pytestmark = pytest.mark.browser


@pytest.fixture
def school_with_pupil(live_server, foundation):
    school = School.objects.create(foundation=foundation, brin="44DD", name="School D")
    group = Group.objects.create(school=school, school_year=current_school_year(), grade=5, name="Groep 5")
    pupil = make_pupil(school, group, first="Fenna", last="Flux")
    return school, group, pupil


def test_teacher_adds_conversation_report(page, live_server, school_with_pupil):
    """U-1, R-ACC-1, R-DOS-5: group 5 → dossier → substantive part → new
    conversation report, saved and shown."""
    school, group, pupil = school_with_pupil
    teacher = make_staff("teacher_d", school=school, role=SchoolRole.TEACHER)
    _password_step(page, live_server.url, teacher)
    _code_step(page, teacher)
    page.goto(f"{live_server.url}/groepen/")
    page.get_by_role("link", name="Groep 5").first.click()
    page.get_by_role("link", name=re.compile("Flux")).click()
    page.wait_for_url(re.compile(rf"/leerlingen/{pupil.pk}/$"))
    page.locator("nav.tabs a").nth(1).click()
    page.wait_for_url(re.compile(r"/inhoudelijk/$"))
    page.locator(f"a[href='/leerlingen/{pupil.pk}/conversation/nieuw/']").click()
    page.fill("#id_date", "2025-11-03")
    page.fill("#id_participants", "Moeder en leerkracht")
    page.fill("#id_report", "Afspraak: elke dag tien minuten lezen.")
    _submit(page)
    page.wait_for_url(re.compile(r"/inhoudelijk/$"))
    assert "elke dag tien minuten lezen" in page.content()
    assert ConversationReport.objects.filter(pupil=pupil).count() == 1


def test_substitute_outside_window_gets_404(page, live_server, school_with_pupil):
    """R-ACC-2, S-14, S-11: a substitute whose assignment ended sees a 404 for
    the pupil, the same as for a pupil that does not exist."""
    school, group, pupil = school_with_pupil
    substitute = make_staff(
        "substitute_d", school=school, role=SchoolRole.TEMP_TEACHER,
        valid_until=timezone.localdate() + datetime.timedelta(days=30),
    )  # fmt: skip
    Assignment.objects.create(
        user=substitute, school=school, group=group, record_types=["attendance"],
        valid_from=timezone.localdate() - datetime.timedelta(days=10),
        valid_until=timezone.localdate() - datetime.timedelta(days=1),
    )  # fmt: skip
    _password_step(page, live_server.url, substitute)
    _code_step(page, substitute)
    response = page.goto(f"{live_server.url}/leerlingen/{pupil.pk}/")
    assert response.status == 404
    missing = page.goto(f"{live_server.url}/leerlingen/999999/")
    assert missing.status == 404
