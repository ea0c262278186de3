"""U-4 and U-2 in a real browser (issue 6): a parent asks in the parents'
portal to view the child's dossier, the director schedules the viewing with
a staff member present, and the parent sees the appointment."""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from disclosures.rights.models import ParentRequest
from privacy_admin.models import Group, School
from privacy_admin.models.org import current_school_year
from privacy_admin.roles import SchoolRole
from students.models import Guardian, GuardianLink
from tests.browser.test_login_flow import _code_step, _password_step, _submit
from tests.conftest import make_staff
from tests.students.conftest import make_pupil

pytestmark = pytest.mark.browser


@pytest.fixture
def context(browser):
    """This flow reads English labels; the Dutch default is proven elsewhere."""
    context = browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en"})
    context.set_default_timeout(10_000)
    yield context
    context.close()


def test_parent_asks_to_view_director_schedules_parent_sees_appointment(page, context, live_server, foundation):
    """U-4, U-2, R-RGT-1, R-RGT-3: the request in the portal, the appointment
    with the staff member present, the parent reads date, place and who."""
    school = School.objects.create(foundation=foundation, brin="66FF", name="School F")
    group = Group.objects.create(school=school, school_year=current_school_year(), grade=5, name="Groep 5")
    pupil = make_pupil(school, group, first="Lotte", last="Linde")
    mother = Guardian.objects.create(first_name="Mila", last_name="Linde", email="mila.linde@example.org")
    GuardianLink.objects.create(pupil=pupil, guardian=mother, has_authority=True)
    director = make_staff("director_f", school=school, role=SchoolRole.DIRECTOR)
    teacher = make_staff("teacher_f", school=school, role=SchoolRole.TEACHER)
    base = live_server.url

    # The parent signs in with the code from the e-mail and asks.
    page.goto(f"{base}/parents/")
    page.wait_for_url(re.compile(r"/parents/inloggen/$"))
    page.fill("#id_email", mother.email)
    _submit(page)
    page.wait_for_url(re.compile(r"/parents/inloggen/code/$"))
    page.fill("#id_code", re.search(r"^(\d{6})$", mail.outbox[-1].body, re.M).group(1))
    _submit(page)
    page.wait_for_url(re.compile(r"/parents/$"))
    page.click("#parent-requests-link")
    page.wait_for_url(re.compile(r"/parents/verzoeken/$"))
    page.click(f"#ask-{pupil.pk}")
    page.wait_for_url(re.compile(rf"/parents/kind/{pupil.pk}/verzoek/$"))
    page.check("input[name=kind][value=view]")
    assert page.locator("fieldset[data-rights-for='correct remove']").is_hidden()
    page.fill("#id_note", "Liefst op woensdag")
    _submit(page)
    page.wait_for_url(re.compile(r"/parents/verzoeken/\d+/$"))
    parent_request = ParentRequest.objects.get()
    assert page.locator("#request-deadline").inner_text() == parent_request.due_on.strftime("%d-%m-%Y")
    assert parent_request.kind == "view" and parent_request.status == "received"
    parent_url = page.url

    # The director schedules the viewing with the teacher present.
    staff_page = context.browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en"}).new_page()
    _password_step(staff_page, base, director)
    _code_step(staff_page, director)
    staff_page.goto(f"{base}/verzoeken/")
    row = staff_page.locator("#requests tr", has_text=parent_request.number)
    assert re.search(r"\d+ days left", row.inner_text()), row.inner_text()
    row.locator("a").click()
    staff_page.wait_for_url(re.compile(rf"/verzoeken/{parent_request.pk}/$"))
    staff_page.click("#schedule")
    staff_page.wait_for_url(re.compile(rf"/verzoeken/{parent_request.pk}/afspraak/$"))
    day = timezone.localdate() + datetime.timedelta(days=5)
    staff_page.fill("#id_date", day.isoformat())
    staff_page.fill("#id_time", "15:30")
    staff_page.fill("#id_place", "Kamer van de directeur")
    staff_page.select_option("#id_staff", str(teacher.pk))
    _submit(staff_page)
    staff_page.wait_for_url(re.compile(rf"/verzoeken/{parent_request.pk}/$"))
    assert staff_page.locator("#request-status").inner_text() == "Appointment made"
    staff_page.context.close()

    # The parent was told by a link-only e-mail, and sees the appointment.
    notice = next(m for m in mail.outbox if m.to == [mother.email] and "News about your request" in m.subject)
    assert f"/parents/verzoeken/{parent_request.pk}/" in notice.body and "Kamer" not in notice.body
    page.goto(parent_url)
    assert page.locator("#request-status").inner_text() == "Appointment made"
    assert page.locator("#appointment-at").inner_text() == f"{day:%d-%m-%Y} 15:30"
    assert page.locator("#appointment-place").inner_text() == "Kamer van de directeur"
    assert page.locator("#appointment-staff").inner_text() == teacher.get_full_name()
