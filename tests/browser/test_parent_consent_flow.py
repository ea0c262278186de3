"""U-4 in a real browser: a parent signs in to the parents' portal with the
code from the e-mail, withdraws the website consent, and the teacher's
publication check for that pupil now blocks."""

import datetime
import re

import pytest
from django.core import mail

from consent.models import ConsentCategory, Publication, PublicationPupil
from consent.services import categories_seed, one_off_consent_record, publication_check
from privacy_admin.models import Group, School
from privacy_admin.models.org import current_school_year
from privacy_admin.roles import SchoolRole
from students.models import Guardian, GuardianLink
from tests.browser.test_login_flow import _submit
from tests.conftest import make_staff
from tests.students.conftest import make_pupil

pytestmark = pytest.mark.browser


def test_parent_withdraws_website_consent_and_check_blocks(page, live_server, foundation):
    """U-4, R-CON-2, R-CON-4, R-CON-6: sign-in by e-mailed code, a withdrawal in
    the portal, and the publication check blocks the pupil."""
    school = School.objects.create(foundation=foundation, brin="55EE", name="School E")
    group = Group.objects.create(school=school, school_year=current_school_year(), grade=5, name="Groep 5")
    pupil = make_pupil(school, group, first="Lotte", last="Linde")
    mother = Guardian.objects.create(first_name="Mila", last_name="Linde", email="mila.linde@example.org")
    GuardianLink.objects.create(pupil=pupil, guardian=mother, has_authority=True)
    teacher = make_staff("teacher_e", school=school, role=SchoolRole.TEACHER)
    categories_seed(school)
    website = ConsentCategory.objects.get(school=school, key="website")
    publication = Publication.objects.create(
        school=school, channel=website, date=datetime.date(2025, 6, 1), description="Sportdag", created_by=teacher
    )
    appearance = PublicationPupil.objects.create(publication=publication, pupil=pupil)
    one_off_consent_record(appearance, guardian=mother, acting_user=teacher)
    assert publication_check(publication)[0].cleared

    page.goto(f"{live_server.url}/parents/")
    page.wait_for_url(re.compile(r"/parents/inloggen/$"))
    page.fill("#id_email", "mila.linde@example.org")
    _submit(page)
    page.wait_for_url(re.compile(r"/parents/inloggen/code/$"))
    code = re.search(r"^(\d{6})$", mail.outbox[-1].body, re.M).group(1)
    assert "Lotte" not in mail.outbox[-1].body and "Linde" not in mail.outbox[-1].body
    page.fill("#id_code", code)
    _submit(page)
    page.wait_for_url(re.compile(r"/parents/$"))
    assert "Lotte" in page.content()

    page.check(f"#id_child{pupil.pk}_category_{website.pk}_1")
    page.locator(f"form[action='/parents/kind/{pupil.pk}/voorkeuren/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/parents/(#[\w-]*)?$"))
    assert page.locator(".messages").count() == 1

    blocked = [c for c in publication_check(publication) if not c.cleared]
    assert [c.pupil for c in blocked] == [pupil]
