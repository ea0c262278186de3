"""A data breach end to end in a real browser (issue 8 item 8): a teacher
reports an incident, the FG sees it on the dashboard with the countdown,
records the decision and the AP's reference, and closes it."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from breaches.models import Breach
from privacy_admin.models import School
from privacy_admin.roles import FoundationRole, SchoolRole
from tests.conftest import PASSWORD, make_staff, totp_code

pytestmark = pytest.mark.browser


def _labels(state):
    """The state's label in both interface languages (the browser asks for Dutch)."""
    from django.utils import translation

    labels = set()
    for language in ("nl", "en"):
        with translation.override(language):
            labels.add(str(state.label))
    return labels


@pytest.fixture
def context(browser):
    """This flow reads English labels; the Dutch default is proven elsewhere."""
    context = browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en"})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def people(live_server, foundation):
    school = School.objects.create(foundation=foundation, brin="44DD", name="School D")
    return {
        "teacher": make_staff("teacher_d", school=school, role=SchoolRole.TEACHER),
        "fg": make_staff("fg_d", foundation=foundation, foundation_role=FoundationRole.FG),
    }


def _submit(page):
    page.locator("main form button[type=submit]").click()


def _login(page, base_url, user):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    _submit(page)
    page.wait_for_url(re.compile(r"/accounts/verify/"))
    page.fill("#id_code", totp_code(user))
    _submit(page)
    page.wait_for_url(lambda url: urlsplit(url).path == "/")


def _logout(page):
    page.locator("header form[action$='/accounts/logout/'] button").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def test_teacher_reports_fg_decides_notifies_and_closes(page, live_server, people):
    """R-BRK-1..3: report → FG dashboard with countdown → decision → AP
    reference → people concerned → closed, all through plain form posts."""
    base = live_server.url
    _login(page, base, people["teacher"])
    page.goto(f"{base}/datalekken/melden/")
    page.select_option("#id_school", label="School D (44DD)")
    page.fill("#id_aware_at", _local(timezone.now() - datetime.timedelta(hours=2)))
    page.fill("#id_what_happened", "Groepslijst naar verkeerde ouder gemaild")
    page.fill("#id_data_concerned", "Groepslijst groep 4")
    page.fill("#id_approx_pupils", "25")
    _submit(page)
    page.wait_for_url(re.compile(r"/datalekken/\d+/$"))
    assert page.locator("#breach-state").inner_text() in _labels(Breach.State.REPORTED)
    breach = Breach.objects.get()
    _logout(page)

    _login(page, base, people["fg"])
    row = page.locator("#breaches-open ~ table tr", has_text=breach.number)
    assert re.search(r"\d+ h \d+ min left", row.inner_text()), row.inner_text()
    row.locator("a").click()
    page.wait_for_url(re.compile(rf"/datalekken/{breach.pk}/$"))

    page.goto(f"{base}/datalekken/{breach.pk}/decide/")
    page.select_option("#id_severity", "risk")
    page.fill("#id_severity_explanation", "Adressen bij een onbevoegde")
    page.check("#id_ap_notify_0")
    page.fill("#id_ap_notify_reason", "Risico niet uit te sluiten")
    _submit(page)
    page.wait_for_url(re.compile(rf"/datalekken/{breach.pk}/$"))
    assert page.locator("#breach-state").inner_text() in _labels(Breach.State.DECIDED)

    page.goto(f"{base}/datalekken/{breach.pk}/ap/")
    page.fill("#id_ap_notified_at", _local(timezone.now()))
    page.fill("#id_ap_reference", "M-2026-0042")
    _submit(page)
    page.wait_for_url(re.compile(rf"/datalekken/{breach.pk}/$"))
    assert page.locator("#ap-reference").inner_text() == "M-2026-0042"

    page.goto(f"{base}/datalekken/{breach.pk}/people/")
    page.check("#id_people_told_1")
    page.fill("#id_people_told_reason", "Geen hoog risico")
    _submit(page)
    page.wait_for_url(re.compile(rf"/datalekken/{breach.pk}/$"))

    page.goto(f"{base}/datalekken/{breach.pk}/close/")
    page.fill("#id_measures_taken", "Ontvanger heeft de mail verwijderd")
    page.fill("#id_lessons_learned", "Adresboek controleren")
    _submit(page)
    page.wait_for_url(re.compile(rf"/datalekken/{breach.pk}/$"))
    assert page.locator("#breach-state").inner_text() in _labels(Breach.State.CLOSED)
    breach.refresh_from_db()
    assert breach.state == Breach.State.CLOSED and breach.ap_reference == "M-2026-0042"
