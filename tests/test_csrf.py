"""CSRF on every state change (S-15).

Every URL of the URLconf is posted to without a token, from a session that
passed every other check of its realm (a verified staff member, a signed-in
parent, a locked or half-way session for the login steps, a visitor for the
public steps), and Django's CSRF check must be what refuses it. The URLs come
from the URLconf itself, so a new URL is covered without a change here.
With a valid token the same kind of POST gets the view's own answer.
"""

import logging
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from consent import parents
from privacy_admin.actions import LOCKED_KEY
from tests.conftest import PASSWORD, _session_client, make_staff
from tests.rights.conftest import parent_client
from tests.students.conftest import pupil_a5  # noqa: F401 - a fixture `world` needs
from tests.students.test_access_table import TABLE, world  # noqa: F401 - `world` is a fixture
from tests.test_gate import URLS

CSRF_LOGGER = "django.security.csrf"
# The login steps, reached by whoever is at that step.
ANONYMOUS = {"login", "password_reset", "password_reset_done", "password_reset_confirm", "password_reset_complete"}
ANONYMOUS |= {"parent_login", "healthz"}
HALF_WAY = {"otp_verify", "otp_setup"}


def strict(client):
    """The same session, with the CSRF check on as a browser meets it (the
    test client skips it by default)."""
    browser = Client(enforce_csrf_checks=True)
    browser.cookies = client.cookies
    return browser


def _kwargs(spec, objects):
    return {k: (objects[v[1:]] if isinstance(v, str) and v.startswith("@") else v) for k, v in spec.items()}


@pytest.fixture
def clients(world):  # noqa: F811 - the fixture imported above
    cast = world["cast"]
    root = make_staff("csrf_root")
    root.is_superuser = root.is_staff = True
    root.save()
    locked = _session_client(cast["teacher_a"], verified=True)
    session = locked.session
    session[LOCKED_KEY] = True
    session.save()
    pending = Client()
    session = pending.session
    session[parents.PENDING_EMAIL_KEY] = "ouder@example.org"
    session.save()
    return {
        "staff": strict(_session_client(cast["app_admin_a"], verified=True)),
        "root": strict(_session_client(root, verified=True)),
        "half_way": strict(_session_client(cast["teacher_a"], verified=False)),
        "locked": strict(locked),
        "anonymous": Client(enforce_csrf_checks=True),
        "parent_pending": strict(pending),
        "parent": strict(parent_client("ouder@example.org")),
    }


def _realm(name, path):
    if path.startswith("/admin/"):
        return "root"
    if name == "lock":
        return "locked"
    if name in HALF_WAY:
        return "half_way"
    if name in ANONYMOUS:
        return "anonymous"
    if name == "parent_login_code":
        return "parent_pending"
    if path.startswith("/parents/"):
        return "parent"
    return "staff"


def every_url(objects):
    """(view name, path) of every URL: the portal's with the objects of the
    authorisation matrix, the admin's with the walk's sample paths."""
    urls = []
    for name, path in URLS:
        if path.startswith("/static/"):
            continue
        if path.startswith("/admin/"):
            urls.append((name, path))
            continue
        assert name in TABLE, f"{name} is missing from the authorisation matrix (tests/students/test_access_table.py)"
        urls.append((name, reverse(name, kwargs=_kwargs(TABLE[name][0], objects))))
    return urls


def test_every_post_without_token_is_refused(world, clients, caplog):  # noqa: F811
    """S-15: a POST without the CSRF token is refused (403) by the CSRF check,
    at every URL of the URLconf, staff and parents' realms, the login and
    code steps and Django's admin included."""
    caplog.set_level(logging.WARNING, logger=CSRF_LOGGER)
    urls = every_url(world)
    assert len(urls) > 100 and any(p.startswith("/parents/") for _n, p in urls)
    wrong = []
    for name, path in urls:
        caplog.clear()
        response = clients[_realm(name, path)].post(path, {"x": "1"})
        refused_by_csrf = [r for r in caplog.records if r.name == CSRF_LOGGER]
        if response.status_code != 403 or not refused_by_csrf:
            wrong.append((name, path, response.status_code))
    assert wrong == []


def _token(client, path):
    """The CSRF secret a page with a form hands the browser."""
    assert client.get(path).status_code == 200, path
    return client.cookies[settings.CSRF_COOKIE_NAME].value


SPOT_CHECKS = [
    # (realm, URL name, page with the form, data, the view's answer)
    ("anonymous", "login", "login", {"username": "teacher_a", "password": "wrong password"}, 200),
    ("anonymous", "login", "login", {"username": "teacher_a", "password": PASSWORD}, 302),
    ("anonymous", "parent_login", "parent_login", {"email": "niemand@example.org"}, 302),
    ("staff", "staff_invite", "staff_invite", {"username": ""}, 200),
    ("staff", "brp_import", "brp_import", {}, 200),
    ("staff", "sessions_end_others", "account_security", {}, 302),
    ("parent", "parent_logout", "parent_home", {}, 302),
    ("staff", "logout", "account_security", {}, 302),
]


def test_post_with_token_passes_the_check(world, clients, caplog):  # noqa: F811
    """S-15: with the token from the page, the same POST reaches the view
    (a form with errors, or the action done); the brp_import upload, exempt
    from the middleware so that its memory-only upload handler is set
    first, checks the token itself."""
    caplog.set_level(logging.WARNING, logger=CSRF_LOGGER)
    for realm, name, page, data, expected in SPOT_CHECKS:
        client = clients[realm]
        token = _token(client, reverse(page))
        response = client.post(reverse(name), {**data, "csrfmiddlewaretoken": token})
        assert response.status_code == expected, name
    assert not [r for r in caplog.records if r.name == CSRF_LOGGER]


# Views exempt from the CSRF middleware, each with why. brp_import must set
# its memory-only upload handler before anything reads the POST (the
# middleware reads it), so it is exempt from the middleware and checks the
# token itself with csrf_protect; test_every_post_without_token_is_refused
# shows the check holds.
EXEMPT = {"students/views_imports.py": 1}


def test_no_view_is_exempt_from_csrf_without_reason():
    """S-15: csrf_exempt appears only where listed above, each time with
    csrf_protect right behind it."""
    root = Path(__file__).resolve().parent.parent
    found = {}
    apps = [d for d in root.iterdir() if d.is_dir() and (d / "__init__.py").exists() and d.name != "tests"]
    for path in [p for app in apps for p in app.rglob("*.py")]:
        relative = path.relative_to(root).as_posix()
        if "/migrations/" in relative:
            continue
        text = path.read_text(encoding="utf-8")
        uses = len(re.findall(r"@csrf_exempt\b|csrf_exempt\(|\.csrf_exempt\s*=", text))
        if uses:
            found[relative] = uses
            assert "@csrf_protect" in text, relative
    assert {"privacy_admin", "students", "consent", "disclosures"} <= {app.name for app in apps}
    assert found == EXEMPT
