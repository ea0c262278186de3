"""Deny by default (S-1), the idle lock and session cap (R-ACC-6, S-6), and the
headers every response carries (S-18, S-19).

There is no per-view decorator to forget: a request reaches a view only when it
is on the short public allow-list, or comes from a session whose password and
second factor were both checked and which is neither idle-locked nor too old.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from privacy_admin.actions import LAST_SEEN_KEY, LOCKED_KEY
from privacy_admin.auditlog import audit_record
from privacy_admin.sessions import AUTH_AT_KEY

# The lists below hold view names, namespace included ("admin:login" is not
# "login"): a name of ours must never open a view of the same name elsewhere.
# Reachable without any login.
PUBLIC_URL_NAMES = {
    "login",
    "healthz",
    "set_language",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}
# Reachable after the password step, before the second factor.
HALF_AUTH_URL_NAMES = {"otp_verify", "otp_setup", "logout"}
# Reachable while the screen is locked.
LOCKED_URL_NAMES = {"lock", "logout", "set_language"}
# /parents/ is the parents' portal: a realm with its own login and gate
# (consent.parents.ParentGateMiddleware); staff sessions play no part there.
# /privacy/ holds the schools' public privacy statements (statement/urls.py).
PUBLIC_PATH_PREFIXES = ("/static/", "/parents/", "/privacy/")
RETURN_KEY = "pa_return_to"
# Writing the session on every request would cost a database write per page;
# the idle clock is kept to within this many seconds instead.
LAST_SEEN_RESOLUTION = 15


def _view_name(request):
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return None


def _with_next(name, request):
    return f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}"


def safe_return_path(request, candidate, default="/"):
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


class StaffGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self._gate(request)
        if response is not None:
            return response
        return self.get_response(request)

    def _gate(self, request):
        if request.path_info.startswith(PUBLIC_PATH_PREFIXES):
            return None
        name = _view_name(request)
        user = request.user
        if not user.is_authenticated:
            if name in PUBLIC_URL_NAMES:
                return None
            return redirect(_with_next("login", request))

        session = request.session
        now = time.time()
        auth_at = session.get(AUTH_AT_KEY)
        if auth_at is None or now - auth_at > settings.SESSION_MAX_HOURS * 3600:
            audit_record(
                "auth.session_expired",
                actor=user,
                request=request,
                details={"max_hours": settings.SESSION_MAX_HOURS},
            )
            logout(request)
            messages.info(request, _("Your session has ended. Please log in again."))
            return redirect("login")

        if not user.is_verified():
            if name in HALF_AUTH_URL_NAMES or name in PUBLIC_URL_NAMES:
                return None
            target = "otp_verify" if user.totp_device() else "otp_setup"
            return redirect(_with_next(target, request))

        last_seen = session.get(LAST_SEEN_KEY, auth_at)
        if session.get(LOCKED_KEY) or now - last_seen > settings.SESSION_IDLE_MINUTES * 60:
            if name in LOCKED_URL_NAMES:
                session[LOCKED_KEY] = True
                return None
            return self._lock(request, name)
        if name == "lock":
            return redirect("home")
        if now - last_seen > LAST_SEEN_RESOLUTION:
            session[LAST_SEEN_KEY] = now
        return None

    def _lock(self, request, name):
        session = request.session
        session[LOCKED_KEY] = True
        if request.method == "POST":
            # The form is not processed: tell the user and bring them back to it.
            messages.warning(
                request,
                _(
                    "Your screen was locked, so the form you sent was not saved. "
                    "After unlocking you return to the form; please send it again."
                ),
            )
            # Back to the page that showed the form. Without a usable Referer,
            # the dashboard: the posted URL itself may answer POST only (405).
            back = safe_return_path(request, request.META.get("HTTP_REFERER"), reverse("home"))
        else:
            back = request.get_full_path()
        session[RETURN_KEY] = back
        return redirect("lock")


class SecurityHeadersMiddleware:
    """CSP on every response; no caching of anything but static files."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        if not request.path_info.startswith("/static/"):
            response["Cache-Control"] = "no-store"
        return response
