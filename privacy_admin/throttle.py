"""Limits on guessing passwords and codes (S-2, S-3).

Failures are counted in a sliding window per (username, address), per username
and per address. Limits per pair are low and per username higher, so an
attacker elsewhere cannot keep a teacher out of her own workstation for long;
every limit lifts by itself when the window has passed (the cool-off).
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from privacy_admin.auditlog import audit_record
from privacy_admin.models import AuthFailure


def _window_start():
    return timezone.now() - timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)


def _norm(username):
    # Counted by digest: what was typed as a username may be a password typed
    # in the wrong field, and must not be kept in clear (S-24).
    typed = (username or "").strip().lower()
    return hashlib.sha256(typed.encode()).hexdigest() if typed else ""


def is_blocked(username, ip):
    since = _window_start()
    recent = AuthFailure.objects.filter(at__gte=since)
    username = _norm(username)
    if recent.filter(username=username, ip=ip).count() >= settings.LOGIN_FAILURES_PER_USER_AND_ADDRESS:
        return True
    if username and recent.filter(username=username).count() >= settings.LOGIN_FAILURES_PER_USER:
        return True
    return bool(ip) and recent.filter(ip=ip).count() >= settings.LOGIN_FAILURES_PER_ADDRESS


def record_failure(kind, username, ip, request=None, label=None):
    """Count a failure; audit it, and audit the lockout it may cause. `label`
    names the account in the audit log; pass it only for existing accounts."""
    was_blocked = is_blocked(username, ip)
    AuthFailure.objects.create(at=timezone.now(), kind=kind, username=_norm(username), ip=ip)
    label = label or "(unknown)"
    audit_record(f"auth.{kind}_failed", actor_label=label, request=request)
    if not was_blocked and is_blocked(username, ip):
        audit_record(
            "auth.lockout",
            actor_label=label,
            request=request,
            details={"minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES},
        )


def clear_failures(username, ip):
    AuthFailure.objects.filter(username=_norm(username), ip=ip).delete()


def purge_old_failures():
    return AuthFailure.objects.filter(at__lt=_window_start()).delete()[0]
