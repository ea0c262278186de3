"""A staff member's own security page: sessions, backup codes, authenticator."""

import hashlib

from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from privacy_admin import actions
from privacy_admin.models import BackupCodeDevice, StaffSession
from privacy_admin.views.auth import require_recent_second_factor


def session_ref(session_key):
    """A stand-in for a session key in pages and forms: the key itself is a
    credential and never leaves the server."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:20]


def account_security(request):
    user = request.user
    current = request.session.session_key
    sessions = [
        {"ref": session_ref(s.session_key), "current": s.session_key == current, "obj": s}
        for s in StaffSession.objects.filter(user_id=user.pk).order_by("-signed_in_at")
    ]
    backup = BackupCodeDevice.objects.filter(user=user).first()
    return render(
        request,
        "accounts/security.html",
        {"sessions": sessions, "backup_left": backup.unused_count() if backup else 0},
    )


@require_POST
def session_end(request, ref):
    user = request.user
    for session in StaffSession.objects.filter(user_id=user.pk).only("session_key"):
        if session_ref(session.session_key) == ref:
            if session.session_key == request.session.session_key:
                raise Http404
            actions.session_end_one(user, session.session_key, request=request)
            messages.success(request, _("The session was ended."))
            return redirect("account_security")
    raise Http404


@require_POST
def sessions_end_others(request):
    count = actions.sessions_end(request.user, request=request, keep_current=True, reason="user")
    messages.success(
        request,
        ngettext("%(count)s other session was ended.", "%(count)s other sessions were ended.", count)
        % {"count": count},
    )
    return redirect("account_security")


@require_POST
@require_recent_second_factor
def backup_codes_new(request):
    codes = actions.backup_codes_regenerate(request, request.user)
    return render(request, "accounts/backup_codes.html", {"codes": codes, "next": ""})


@require_POST
@require_recent_second_factor
def second_factor_replace(request):
    """Replace one's own authenticator: remove it, end every session, and set
    up a new one at the next login."""
    user = request.user
    actions.second_factor_reset(user, acting_user=user, request=request)
    logout(request)
    messages.info(request, _("Your two-step login was removed. Log in to set up the new one."))
    return redirect("login")
