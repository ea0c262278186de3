"""Deny by default (S-1), the idle lock and the session cap (R-ACC-6, S-6),
and no data change on GET (S-15)."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from privacy_admin.actions import LAST_SEEN_KEY, LOCKED_KEY
from privacy_admin.middleware import PUBLIC_URL_NAMES
from privacy_admin.models import AuditEvent, AuthFailure, StaffSession
from privacy_admin.sessions import AUTH_AT_KEY
from tests.conftest import PASSWORD, age_session, make_staff, totp_code

HALF_AUTH_ALLOWED = {"otp_verify", "otp_setup", "logout"} | PUBLIC_URL_NAMES


def _sample_path(pattern_str):
    path = pattern_str.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    path = re.sub(r"<(?:\w+:)?\w+>", "1", path)  # route converters
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)  # regex groups
    path = re.sub(r"\([^)]*\)\??", "", path)
    return path.replace("?", "").replace("*", "").replace(".+", "x")


def all_urls(resolver=None, prefix="/", namespaces=()):
    """Every pattern of the URLconf, as (view name with its namespace, e.g.
    "admin:login", a concrete path). The gate's allow-lists hold view names:
    comparing bare URL names would let "admin:login" pass for "login"."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        part = _sample_path(str(entry.pattern))
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from all_urls(entry, prefix + part, inner)
        elif isinstance(entry, URLPattern):
            yield (":".join((*namespaces, entry.name)) if entry.name else None), prefix + part


URLS = sorted(set(all_urls()), key=lambda u: (u[1], u[0] or ""))


def test_url_walk_finds_admin_and_portal():
    """S-1: the walk below covers the portal and Django's admin, by view name."""
    names = {name for name, _path in URLS}
    assert {"home", "login", "staff_list", "audit_log", "admin:login", "admin:logout"} <= names
    assert any(path.startswith("/admin/") for _name, path in URLS)


def test_url_walk_names_are_what_the_gate_resolves():
    """S-1: where the walk below skips a path as allow-listed, the gate sees
    the same view name for it."""
    for name, path in URLS:
        if name in HALF_AUTH_ALLOWED:
            assert resolve(path).view_name == name, path


def _parent_realm(name, path, response):
    """/parents/ is the parents' portal, a realm with its own sign-in: a staff
    session, whole or half, opens nothing there (tests/consent/test_parents.py)."""
    from consent.parents import PARENT_PUBLIC_URL_NAMES

    if name in PARENT_PUBLIC_URL_NAMES:
        assert response.status_code in (200, 302), (name, path)
    else:
        assert response.status_code == 302 and response["Location"] == "/parents/inloggen/", (name, path)


def _public_statement(name, path, response):
    """/privacy/ holds the schools' public privacy statements: no login and no
    pupil data (tests/statement/test_public.py). The sample path names no
    school, so 404; the pages take GET only, so a POST is 405."""
    assert response.status_code in (200, 404, 405), (name, path)


@pytest.mark.parametrize("name,path", URLS)
def test_password_only_session_is_sent_to_second_factor(name, path, password_only_client, teacher_a):
    """S-1, R-ACC-5: a session that passed only the password reaches nothing
    with data: every URL outside the allow-list redirects to the code step."""
    client = password_only_client(teacher_a)
    if name in HALF_AUTH_ALLOWED or path.startswith("/static/"):
        return
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        if path.startswith("/parents/"):
            _parent_realm(name, path, response)
            continue
        if path.startswith("/privacy/"):
            _public_statement(name, path, response)
            continue
        assert response.status_code == 302, (name, path, method)
        assert response["Location"].startswith("/accounts/verify/"), (name, path, response["Location"])


@pytest.mark.parametrize("name,path", URLS)
def test_anonymous_is_sent_to_login(name, path, client, db):
    """S-1: without login only the allow-list answers; all else goes to login."""
    if path.startswith("/static/"):
        return
    response = client.get(path)
    if path.startswith("/parents/"):
        _parent_realm(name, path, response)
        return
    if path.startswith("/privacy/"):
        _public_statement(name, path, response)
        return
    if name in PUBLIC_URL_NAMES:
        assert response.status_code in (200, 302, 405)
        return
    assert response.status_code == 302, (name, path)
    assert response["Location"].startswith("/accounts/login/")


def test_admin_login_is_no_password_oracle(client, db):
    """S-1, S-2, S-22: Django's admin login form is never an unthrottled,
    unaudited way to test passwords: anonymous requests are sent to our login,
    and a POST with the right password of a superuser authenticates nobody,
    creates no session and counts nothing."""
    root = make_staff("root_oracle")
    root.is_superuser = root.is_staff = True
    root.save()
    for method in ("get", "post"):
        response = getattr(client, method)(
            "/admin/login/", {"username": "root_oracle", "password": PASSWORD, "next": "/admin/"}
        )
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    assert not StaffSession.objects.filter(user_id=root.pk).exists()
    assert not AuditEvent.objects.exists() and not AuthFailure.objects.exists()


def test_admin_login_view_itself_never_authenticates(rf, db):
    """S-1: even reached without the gate, the admin's login view only sends
    people to our login; it never checks a password."""
    from django.contrib import admin
    from django.contrib.auth.models import AnonymousUser

    root = make_staff("root_direct")
    root.is_superuser = root.is_staff = True
    root.save()
    request = rf.post("/admin/login/", {"username": "root_direct", "password": PASSWORD})
    request.user = AnonymousUser()
    request.session = Client().session
    response = admin.site.login(request)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in request.session


def test_admin_login_and_logout_need_the_second_factor(password_only_client, verified_client, teacher_a):
    """S-1: /admin/login/ and /admin/logout/ are not on the half-login
    allow-list (our "login" and "logout" are); a verified non-superuser is
    refused rather than sent round between the two logins."""
    client = password_only_client(teacher_a)
    for path in ("/admin/login/", "/admin/logout/"):
        response = client.post(path, {"username": "teacher_a", "password": PASSWORD})
        assert response["Location"].startswith("/accounts/verify/"), path
    assert client.session["_auth_user_id"] == str(teacher_a.pk)
    assert verified_client(teacher_a).get("/admin/login/?next=/admin/").status_code == 403


def test_admin_logout_is_our_audited_logout(verified_client, db):
    """S-22: the admin's log-out button ends the session through our logout."""
    root = make_staff("root_logout")
    root.is_superuser = root.is_staff = True
    root.save()
    client = verified_client(root)
    assert client.get("/admin/").status_code == 200
    response = client.post("/admin/logout/")
    assert response["Location"] == "/accounts/login/"
    assert AuditEvent.objects.filter(action="auth.logout", actor_id=root.pk).exists()
    assert client.get("/admin/")["Location"].startswith("/accounts/login/")


def test_static_and_health_are_public(client, db):
    """S-1: static files and /healthz are on the allow-list."""
    assert client.get("/healthz").status_code == 200


def test_user_without_device_is_sent_to_enrolment(password_only_client, teacher_a):
    """R-ACC-5: first login forces enrolment of the second factor."""
    teacher_a.stafftotpdevice_set.all().delete()
    response = password_only_client(teacher_a).get("/")
    assert response["Location"].startswith("/accounts/setup/")


# --- Idle lock and absolute cap ----------------------------------------------


def test_idle_session_shows_lock_and_unlock_returns(verified_client, teacher_a, settings):
    """R-ACC-6, S-6: after SESSION_IDLE_MINUTES the next request shows the lock
    page; password and code unlock and return to the page the user was on."""
    client = verified_client(teacher_a)
    assert client.get("/accounts/security/").status_code == 200
    age_session(client, **{LAST_SEEN_KEY: settings.SESSION_IDLE_MINUTES * 60 + 1})
    # Locked for every page, and it stays locked.
    assert client.get("/")["Location"] == "/accounts/lock/"
    response = client.get("/accounts/security/")
    assert response["Location"] == "/accounts/lock/"
    page = client.get("/accounts/lock/")
    assert page.status_code == 200
    old_key = client.cookies["sessionid"].value
    response = client.post("/accounts/lock/", {"password": PASSWORD, "code": totp_code(teacher_a)})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/security/"
    assert client.cookies["sessionid"].value != old_key
    assert client.get("/accounts/security/").status_code == 200


def test_lock_refuses_wrong_password(verified_client, teacher_a, settings):
    """R-ACC-6: the lock only lifts with the right password and code."""
    client = verified_client(teacher_a)
    age_session(client, **{LAST_SEEN_KEY: settings.SESSION_IDLE_MINUTES * 60 + 1})
    client.get("/")
    response = client.post("/accounts/lock/", {"password": "wrong password here", "code": totp_code(teacher_a)})
    assert response.status_code == 200
    assert client.session[LOCKED_KEY] is True
    assert client.get("/").status_code == 302


def test_active_session_is_not_locked(verified_client, teacher_a, settings):
    """S-6: activity within the idle window keeps the session open."""
    client = verified_client(teacher_a)
    age_session(client, **{LAST_SEEN_KEY: settings.SESSION_IDLE_MINUTES * 60 - 30})
    assert client.get("/").status_code == 200


def test_form_posted_into_locked_session_is_not_silently_dropped(verified_client, teacher_a, settings):
    """R-ACC-6: a POST into a locked session is not processed; the user is told
    and, after unlocking, sent back to the form."""
    client = verified_client(teacher_a)
    age_session(client, **{LAST_SEEN_KEY: settings.SESSION_IDLE_MINUTES * 60 + 1})
    response = client.post(
        "/accounts/security/sessions/end-others/", HTTP_REFERER="http://testserver/accounts/security/", follow=True
    )
    assert response.redirect_chain[-1][0] == "/accounts/lock/"
    messages = [str(m) for m in response.context["messages"]]
    assert messages and "locked" in messages[0].lower() or "vergrendeld" in messages[0].lower()
    response = client.post("/accounts/lock/", {"password": PASSWORD, "code": totp_code(teacher_a)})
    assert response["Location"] == "http://testserver/accounts/security/"


def test_form_posted_into_locked_session_without_referer_returns_home(verified_client, teacher_a, settings):
    """R-ACC-6: without a Referer (or with one from another site) the unlock
    leads to the dashboard, not to the POST-only URL the form was sent to,
    which would answer 405."""
    for referer in (None, "https://elsewhere.example/form/"):
        client = verified_client(teacher_a)
        age_session(client, **{LAST_SEEN_KEY: settings.SESSION_IDLE_MINUTES * 60 + 1})
        extra = {"HTTP_REFERER": referer} if referer else {}
        response = client.post("/accounts/security/sessions/end-others/", **extra)
        assert response["Location"] == "/accounts/lock/"
        response = client.post("/accounts/lock/", {"password": PASSWORD, "code": totp_code(teacher_a)})
        assert response["Location"] == "/", referer
        assert client.get(response["Location"]).status_code == 200
        StaffSession.objects.all().delete()
        teacher_a.stafftotpdevice_set.update(last_t=-1)


def test_absolute_session_cap(verified_client, teacher_a, settings):
    """S-6, S-22: a session older than SESSION_MAX_HOURS ends, however active,
    and the end is audited."""
    client = verified_client(teacher_a)
    age_session(client, **{AUTH_AT_KEY: settings.SESSION_MAX_HOURS * 3600 + 1})
    response = client.get("/")
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.session_expired")
    assert event.actor_id == teacher_a.pk and event.details == {"max_hours": settings.SESSION_MAX_HOURS}


# --- GET never changes data --------------------------------------------------


def _row_counts():
    """Row counts of every table, in one query (a query per table made the walk slow)."""
    from django.apps import apps
    from django.db import connection

    models = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.label not in {"privacy_admin.StaffSession", "privacy_admin.StaffTOTPDevice"}
    ]
    quote = connection.ops.quote_name
    # Table names come from the models, not from input.
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)})" for m in models)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip((m._meta.label for m in models), cursor.fetchone(), strict=True))


@pytest.mark.parametrize("name,path", [u for u in URLS if u[0] not in {"otp_setup"}])
def test_get_changes_no_data(name, path, verified_client, app_admin_a):
    """S-15: a GET never changes data (sessions aside)."""
    client = verified_client(app_admin_a)
    before = _row_counts()
    client.get(path)
    assert _row_counts() == before, (name, path)


def test_post_without_csrf_token_is_refused(teacher_a, db):
    """S-15: state changes need the CSRF token."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "teacher_a", "password": PASSWORD})
    assert response.status_code == 403
