"""Limits on guessing passwords and codes (S-2, S-3).

Failures are counted in a sliding window per (username, address), per username
and per address; every limit lifts by itself when the window has passed (the
cool-off). The address is `net.client_ip`, the one helper for it.

The per-username and per-address limits would let an attacker elsewhere keep a
teacher out for as long as they keep guessing. So a browser where the teacher
completed a full login (password and code) gets a signed "known device" cookie
naming her account, and those two limits do not apply to her there; the limit
per (username, address) still does, so guessing from that browser's own
address stays limited. The cookie holds a keyed hash of the username, not the
name, and is useless for any other account.
"""

import hashlib
import time
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.crypto import salted_hmac

from privacy_admin.auditlog import audit_record
from privacy_admin.models import AuthFailure
from privacy_admin.net import client_ip

KNOWN_DEVICE_COOKIE = "pa_known"
KNOWN_DEVICE_SALT = "privacy_admin.throttle.known_device"
KNOWN_DEVICE_DAYS = 90
# Accounts remembered per browser: a shared staff-room computer serves several.
KNOWN_DEVICE_ACCOUNTS = 8


def _window_start():
    return timezone.now() - timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)


def _typed(username):
    return (username or "").strip().lower()


def _norm(username):
    # Counted by digest: what was typed as a username may be a password typed
    # in the wrong field, and must not be kept in clear (S-24).
    typed = _typed(username)
    return hashlib.sha256(typed.encode()).hexdigest() if typed else ""


def _device_ref(username):
    return salted_hmac(KNOWN_DEVICE_SALT, _typed(username)).hexdigest()[:32]


def _known_devices(request):
    """{account ref: issued at} from a valid cookie, entries older than
    KNOWN_DEVICE_DAYS dropped; {} for a missing, forged or expired cookie."""
    raw = request.COOKIES.get(KNOWN_DEVICE_COOKIE)
    if not raw:
        return {}
    try:
        data = signing.loads(raw, salt=KNOWN_DEVICE_SALT, max_age=KNOWN_DEVICE_DAYS * 86400)
    except signing.BadSignature:
        return {}
    if not isinstance(data, dict):
        return {}
    oldest = time.time() - KNOWN_DEVICE_DAYS * 86400
    return {ref: at for ref, at in data.items() if isinstance(at, int | float) and at >= oldest}


def is_known_device(request, username):
    return bool(_typed(username)) and _device_ref(username) in _known_devices(request)


def remember_device(response, request, username):
    """After a full login (password and code): mark this browser as one the
    user logs in from."""
    known = _known_devices(request)
    known[_device_ref(username)] = int(time.time())
    newest = dict(sorted(known.items(), key=lambda item: item[1], reverse=True)[:KNOWN_DEVICE_ACCOUNTS])
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        signing.dumps(newest, salt=KNOWN_DEVICE_SALT, compress=True),
        max_age=KNOWN_DEVICE_DAYS * 86400,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def is_blocked(username, request):
    ip = client_ip(request)
    since = _window_start()
    recent = AuthFailure.objects.filter(at__gte=since)
    digest = _norm(username)
    if recent.filter(username=digest, ip=ip).count() >= settings.LOGIN_FAILURES_PER_USER_AND_ADDRESS:
        return True
    if is_known_device(request, username):
        return False
    if digest and recent.filter(username=digest).count() >= settings.LOGIN_FAILURES_PER_USER:
        return True
    return bool(ip) and recent.filter(ip=ip).count() >= settings.LOGIN_FAILURES_PER_ADDRESS


def record_failure(kind, username, request, label=None):
    """Count a failure; audit it, and audit the lockout it may cause. `label`
    names the account in the audit log; pass it only for existing accounts."""
    was_blocked = is_blocked(username, request)
    AuthFailure.objects.create(at=timezone.now(), kind=kind, username=_norm(username), ip=client_ip(request))
    label = label or "(unknown)"
    audit_record(f"auth.{kind}_failed", actor_label=label, request=request)
    if not was_blocked and is_blocked(username, request):
        audit_record(
            "auth.lockout",
            actor_label=label,
            request=request,
            details={"minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES},
        )


def clear_failures(username, request, kind):
    """After a step succeeded: forget that step's failures from this address.
    Only that kind: a right password must not wipe the count of wrong codes,
    or re-entering the password would reset the code limit (S-3)."""
    AuthFailure.objects.filter(username=_norm(username), ip=client_ip(request), kind=kind).delete()


def purge_old_failures():
    return AuthFailure.objects.filter(at__lt=_window_start()).delete()[0]
