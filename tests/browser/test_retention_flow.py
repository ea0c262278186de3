"""U-3 in a real browser: the application admin opens the retention screen,
sees what is due, confirms the purge with a fresh second factor (S-8),
watches the progress bar to the end and downloads the deletion certificate.

Celery runs eagerly here, as in the embedded default: the purge has finished
before the progress page loads, and the page's script still polls the status
once and shows the end."""

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from privacy_admin.actions import OTP_AT_KEY
from privacy_admin.models import School
from privacy_admin.roles import SchoolRole
from privacy_admin.sessions import SessionStore
from retention.models import PurgeRun
from students.models import SupportNeed
from tests.browser.test_login_flow import _code_step, _password_step, _submit
from tests.conftest import make_staff, totp_code
from tests.retention.conftest import make_leaver

pytestmark = pytest.mark.browser


@pytest.fixture
def context(browser):
    """This flow reads English labels; the Dutch default is proven elsewhere."""
    context = browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en"})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def school_with_leavers(live_server, foundation):
    """Two pupils who left on 2023-07-31: their substantive part is due (R-RET-5)."""
    school = School.objects.create(foundation=foundation, brin="66RR", name="School R")
    leavers = [make_leaver(school, full=False) for _ in range(2)]
    return school, leavers


def test_admin_purges_with_step_up_and_downloads_certificate(page, context, live_server, school_with_leavers):
    """U-3, S-8, R-RET-6: overview with counts → confirm → code again →
    progress to the end → result → certificate PDF."""
    school, leavers = school_with_leavers
    admin = make_staff("beheer_r", school=school, role=SchoolRole.APP_ADMIN)
    base = live_server.url
    _password_step(page, base, admin)
    _code_step(page, admin)

    page.goto(f"{base}/beheer/bewaartermijnen/")
    row = page.locator(f"#school-{school.pk} tr[data-category=substantive]")
    assert row.locator(".due-count").inner_text() == "2"
    assert row.locator(".held-count").inner_text() == "0"

    # The login's code is older than the step-up window: the purge asks again.
    key = next(c["value"] for c in context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = SessionStore(session_key=key)
    session[OTP_AT_KEY] -= (settings.STEP_UP_MINUTES + 1) * 60
    session.save()
    page.locator(f"#school-{school.pk} a[href*='/verwijderen/']").click()
    page.wait_for_url(re.compile(r"/accounts/confirm/"))
    # The login's time step is spent (no replay); the next one is in tolerance.
    page.fill("#id_code", totp_code(admin, offset_steps=1))
    _submit(page)
    page.wait_for_url(re.compile(rf"/beheer/bewaartermijnen/scholen/{school.pk}/verwijderen/"))

    page.check("#id_confirm")
    _submit(page)
    page.wait_for_url(re.compile(r"/beheer/bewaartermijnen/rondes/\d+/voortgang/$"))
    bar = page.locator("#run-progress[data-polled=finished]")
    bar.wait_for()
    assert bar.get_attribute("value") == bar.get_attribute("max") == "2"
    assert "100%" in page.locator("#run-progress-text").inner_text()
    assert page.locator("#run-reload").is_hidden()

    page.locator("#run-finished a").click()
    page.wait_for_url(re.compile(r"/beheer/bewaartermijnen/rondes/\d+/$"))
    run = PurgeRun.objects.get()
    assert urlsplit(page.url).path == f"/beheer/bewaartermijnen/rondes/{run.pk}/"
    assert page.locator("#run-status").inner_text() == "done"
    assert "Substantive part" in page.locator("#run-records").inner_text()
    assert not SupportNeed.objects.filter(pupil__in=leavers).exists()

    with page.expect_download() as download_info:
        page.locator("#certificate-link").click()
    download = download_info.value
    assert download.suggested_filename == f"verwijderverklaring-{run.pk}.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
