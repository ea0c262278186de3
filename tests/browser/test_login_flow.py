"""Login, second factor and the idle screen lock, driven through a real browser
(Debian's chromium via Playwright) against pytest-django's live server."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from privacy_admin.actions import LAST_SEEN_KEY
from privacy_admin.models import School
from privacy_admin.roles import SchoolRole
from privacy_admin.sessions import SessionStore
from tests.conftest import PASSWORD, make_staff, totp_code

pytestmark = pytest.mark.browser

# The dashboard heading in English, or in Dutch once the catalogue translates it.
DASHBOARD = re.compile(r"^\s*(Dashboard|Overzicht)\s*$")


@pytest.fixture
def director(live_server, foundation):
    """A director of one school: has the role table (roles.view) as well as the
    dashboard. Depends on live_server so the database is a transactional one the
    server thread can see."""
    school = School.objects.create(foundation=foundation, brin="33CC", name="School C")
    return make_staff("director_c", school=school, role=SchoolRole.DIRECTOR)


def _path(page):
    return urlsplit(page.url).path


def _submit(page):
    """Press the submit button of the page's own form (the header has forms too:
    language switch and log out)."""
    page.locator("main form button[type=submit]").click()


def _password_step(page, base_url, user):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    _submit(page)
    page.wait_for_url(re.compile(r"/accounts/verify/"))


def _code_step(page, user):
    page.fill("#id_code", totp_code(user))
    _submit(page)
    page.wait_for_url(lambda url: urlsplit(url).path == "/")


def test_password_then_code_reaches_dashboard(page, live_server, director, tmp_path):
    """R-ACC-5, U-1, S-1: staff log in with username and password, then the
    current authenticator code, and land on the dashboard; the rendered page is
    real (a non-empty screenshot)."""
    _password_step(page, live_server.url, director)
    assert _path(page) == "/accounts/verify/"
    _code_step(page, director)

    assert _path(page) == "/"
    heading = page.locator("main h1")
    assert DASHBOARD.match(heading.inner_text()), heading.inner_text()
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0


@pytest.mark.parametrize("target", ["/", "/beheer/rollen/"])
def test_password_only_session_is_sent_to_second_factor(page, live_server, director, target):
    """S-1: a session that passed the password but not yet the code reaches no
    portal page; it is sent to the second-factor page /accounts/verify/ (with
    the page it asked for as next)."""
    _password_step(page, live_server.url, director)

    page.goto(f"{live_server.url}{target}")

    assert _path(page) == "/accounts/verify/"
    assert parse_qs(urlsplit(page.url).query).get("next") == [target]
    assert page.locator("#id_code").is_visible()


def test_idle_lock_asks_password_and_code_then_returns(page, context, live_server, director):
    """R-ACC-6, S-6: after SESSION_IDLE_MINUTES without activity the next page
    view shows the screen lock; password plus a fresh code unlock it and bring
    the user back to the page they were on."""
    _password_step(page, live_server.url, director)
    _code_step(page, director)
    was_on = "/beheer/rollen/?van=lock"
    page.goto(f"{live_server.url}{was_on}")
    assert _path(page) == "/beheer/rollen/"

    # Idle for longer than the limit: move the session's clock into the past.
    key = next(c["value"] for c in context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = SessionStore(session_key=key)
    session[LAST_SEEN_KEY] -= (settings.SESSION_IDLE_MINUTES + 1) * 60
    session.save()

    page.reload()
    assert _path(page) == "/accounts/lock/"

    page.fill("#id_password", PASSWORD)
    # The login code's time step is spent (no replay, S-3); the next step's code
    # is within the one-step tolerance, so no waiting for a new 30 s window.
    page.fill("#id_code", totp_code(director, offset_steps=1))
    _submit(page)
    page.wait_for_url(lambda url: urlsplit(url).path != "/accounts/lock/")

    parts = urlsplit(page.url)
    assert f"{parts.path}?{parts.query}" == was_on
    assert page.locator("#id_code").count() == 0
