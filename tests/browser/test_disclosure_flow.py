"""U-2 in a real browser (issue 5 item 7): the IB enters a request of the
Inspectie van het Onderwijs, the director sees exactly what would be
disclosed in the inbox and approves it with a fresh second factor (S-8), and
the disclosure appears on the pupil's Verstrekkingen tab."""

import re

import pytest
from django.conf import settings

from disclosures.models import Disclosure
from privacy_admin.actions import OTP_AT_KEY
from privacy_admin.models import Group, School
from privacy_admin.models.org import current_school_year
from privacy_admin.roles import SchoolRole
from privacy_admin.sessions import SessionStore
from tests.browser.test_login_flow import _code_step, _password_step, _submit
from tests.conftest import make_staff, totp_code
from tests.students.conftest import make_pupil

pytestmark = pytest.mark.browser


@pytest.fixture
def context(browser):
    """This flow reads English labels; the Dutch default is proven elsewhere."""
    context = browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en"})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def people(live_server, foundation):
    school = School.objects.create(foundation=foundation, brin="55EE", name="School E")
    group = Group.objects.create(school=school, school_year=current_school_year(), grade=6, name="Groep 6")
    return {
        "pupil": make_pupil(school, group, first="Fenna", last="Flow"),
        "ib": make_staff("ib_e", school=school, role=SchoolRole.IB),
        "director": make_staff("directeur_e", school=school, role=SchoolRole.DIRECTOR),
    }


def _logout(page):
    page.locator("header form[action$='/accounts/logout/'] button").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def test_ib_requests_director_approves_and_the_tab_shows_it(page, context, live_server, people):
    """U-2, R-DIS-2, R-DIS-7, S-8: request → inbox with exactly what would be
    disclosed → approval after a fresh code → on the pupil's tab."""
    base = live_server.url
    pupil, ib, director = people["pupil"], people["ib"], people["director"]

    _password_step(page, base, ib)
    _code_step(page, ib)
    page.goto(f"{base}/verstrekkingen/")
    page.get_by_role("link", name="Request of the Inspectie van het Onderwijs").click()
    page.wait_for_url(re.compile(r"/verstrekkingen/nieuw/inspectie/"))
    page.fill("#id_recipient_detail", "Inspecteur J. de Vries, INS-2026-7")
    page.fill("#id_purpose", "Controle van de verzuimregistratie")
    page.check(f"input[name=pupils][value='{pupil.pk}']")
    page.check("input[name=fields][value=full_name]")
    page.check("input[name=fields][value=absence_last_year]")
    page.select_option("#id_method", "inspection")
    _submit(page)
    page.wait_for_url(re.compile(r"/verstrekkingen/\d+/$"))
    disclosure = Disclosure.objects.get()
    assert disclosure.status == Disclosure.Status.PENDING
    assert page.locator("#disclosure-status").inner_text() == "Waiting for the director"
    _logout(page)

    _password_step(page, base, director)
    _code_step(page, director)
    page.goto(f"{base}/verstrekkingen/te-beslissen/")
    request = page.locator(f"#request-{disclosure.pk}")
    text = request.inner_text()
    for expected in (
        "Inspecteur J. de Vries",
        "Fenna Flow",
        "Full name",
        "Absence of the last year",
        "Legal obligation",
    ):
        assert expected in text, expected

    # The login's code is older than the step-up window: deciding asks again.
    key = next(c["value"] for c in context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = SessionStore(session_key=key)
    session[OTP_AT_KEY] -= (settings.STEP_UP_MINUTES + 1) * 60
    session.save()
    request.get_by_role("link", name=re.compile("Approve or refuse")).click()
    page.wait_for_url(re.compile(r"/accounts/confirm/"))
    # The login's time step is spent (no replay); the next one is in tolerance.
    page.fill("#id_code", totp_code(director, offset_steps=1))
    _submit(page)
    page.wait_for_url(re.compile(rf"/verstrekkingen/{disclosure.pk}/besluit/"))
    page.check("input[name=decision][value=approve]")
    page.fill("#id_reason", "Wettelijke taak van de Inspectie")
    _submit(page)
    page.wait_for_url(re.compile(r"/verstrekkingen/te-beslissen/"))
    assert "Wettelijke taak van de Inspectie" in page.locator("#decided").inner_text()
    disclosure.refresh_from_db()
    assert disclosure.status == Disclosure.Status.DISCLOSED and disclosure.decided_by == director

    page.goto(f"{base}/leerlingen/{pupil.pk}/verstrekkingen/")
    row = page.locator(f"#disclosure-{disclosure.pk}")
    row_text = row.inner_text()
    assert "Inspectie van het Onderwijs" in row_text and "Disclosed" in row_text
    assert "Full name, Absence of the last year" in row_text
