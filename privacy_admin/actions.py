"""Named actions on accounts, roles and sessions. Each changes its rows and
writes its audit event in one transaction, or does neither."""

import time

from django.contrib.auth import login as auth_login
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp import login as otp_login

from privacy_admin.auditlog import audit_record
from privacy_admin.models import BackupCodeDevice, Membership, StaffSession, StaffTOTPDevice, User
from privacy_admin.net import client_ip
from privacy_admin.notify import send_notice
from privacy_admin.sessions import AUTH_AT_KEY, IP_KEY, USER_AGENT_KEY

OTP_AT_KEY = "pa_otp_at"
LAST_SEEN_KEY = "pa_last_seen"
LOCKED_KEY = "pa_locked"


@transaction.atomic
def login_password_step(request, user):
    """Password accepted: log in (Django cycles the session key, S-5); the
    second factor is still to come."""
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    now = time.time()
    request.session[AUTH_AT_KEY] = now
    request.session[LAST_SEEN_KEY] = now
    request.session[USER_AGENT_KEY] = request.META.get("HTTP_USER_AGENT", "")[:200]
    request.session[IP_KEY] = client_ip(request)
    audit_record("auth.password_ok", actor=user, request=request)


@transaction.atomic
def login_second_factor_step(request, device, *, action="auth.second_factor_ok"):
    """Code accepted: mark the session verified and give it a new key (S-5;
    django_otp.login does not cycle the key itself)."""
    otp_login(request, device)
    request.session.cycle_key()
    now = time.time()
    request.session[OTP_AT_KEY] = now
    request.session[LAST_SEEN_KEY] = now
    request.session.pop(LOCKED_KEY, None)
    audit_record(
        action,
        actor=device.user,
        request=request,
        details={"method": "backup_code" if isinstance(device, BackupCodeDevice) else "totp"},
    )


def mark_step_up(request):
    request.session[OTP_AT_KEY] = time.time()


@transaction.atomic
def second_factor_enrol(request, device):
    """Confirm a new authenticator and issue backup codes; returns the clear
    codes, to be shown once."""
    user = device.user
    StaffTOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    backup, _created = BackupCodeDevice.objects.get_or_create(user=user, defaults={"name": "backup", "confirmed": True})
    codes = backup.replace_codes()
    audit_record("second_factor.enrolled", actor=user, request=request, obj=device)
    login_second_factor_step(request, device, action="auth.second_factor_ok")
    return codes


@transaction.atomic
def backup_codes_regenerate(request, user):
    backup, _created = BackupCodeDevice.objects.get_or_create(user=user, defaults={"name": "backup", "confirmed": True})
    codes = backup.replace_codes()
    audit_record("second_factor.backup_codes_regenerated", actor=user, request=request)
    return codes


@transaction.atomic
def sessions_end(user, *, request=None, acting_user=None, keep_current=False, reason=""):
    """End the user's sessions (all, or all but the current one)."""
    qs = StaffSession.objects.filter(user_id=user.pk)
    if keep_current and request is not None and request.session.session_key:
        qs = qs.exclude(session_key=request.session.session_key)
    count = qs.delete()[0]
    if count:
        if acting_user is None and request is None:
            # A background job (an expired membership): nobody acted, least of
            # all the user whose sessions end.
            actor, actor_label = None, "system"
        else:
            actor, actor_label = acting_user or user, ""
        audit_record(
            "session.ended",
            actor=actor,
            actor_label=actor_label,
            request=request,
            obj=user,
            details={"count": count, "reason": reason},
        )
    return count


@transaction.atomic
def session_end_one(user, session_key, *, request):
    count = StaffSession.objects.filter(user_id=user.pk, session_key=session_key).delete()[0]
    if count:
        audit_record("session.ended", actor=user, request=request, obj=user, details={"count": 1, "reason": "user"})
    return count


@transaction.atomic
def second_factor_reset(user, *, acting_user, request):
    """Remove the user's second factor; the next login enrols a new one.
    Ends every session of the user, since their second factor is gone."""
    StaffTOTPDevice.objects.filter(user=user).delete()
    BackupCodeDevice.objects.filter(user=user).delete()
    audit_record("second_factor.reset", actor=acting_user, request=request, obj=user)
    sessions_end(user, request=request, acting_user=acting_user, reason="second_factor_reset")
    if user.email:
        transaction.on_commit(lambda: send_notice("second_factor_reset", user.email, reverse("login")))


@transaction.atomic
def password_changed(user, *, request, reset=False):
    """After a password change or reset: end the user's other sessions (S-7)."""
    audit_record("auth.password_reset" if reset else "auth.password_changed", actor=user, request=request)
    sessions_end(user, request=request, keep_current=not reset, reason="password_changed")


@transaction.atomic
def password_set_by_admin(user, *, acting_user, request):
    """The technical administrator set (or removed) a user's password in
    Django's admin: audited, and the user's sessions end (S-7), except the
    administrator's own current one."""
    audit_record("user.password_changed", actor=acting_user, request=request, obj=user)
    sessions_end(user, request=request, acting_user=acting_user, keep_current=True, reason="password_changed")


@transaction.atomic
def user_set_active(user, active, *, acting_user, request):
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record("user.activated" if active else "user.deactivated", actor=acting_user, request=request, obj=user)
    if not active:
        sessions_end(user, request=request, acting_user=acting_user, reason="deactivated")


@transaction.atomic
def membership_grant(*, user, school, role, acting_user, request=None, valid_from=None, valid_until=None):
    membership, created = Membership.objects.get_or_create(
        user=user,
        school=school,
        role=role,
        defaults={"valid_from": valid_from, "valid_until": valid_until},
    )
    if not created:
        membership.valid_from, membership.valid_until = valid_from, valid_until
        membership.save(update_fields=["valid_from", "valid_until"])
    audit_record(
        "role.granted",
        actor=acting_user,
        request=request,
        obj=user,
        school_id=school.pk,
        details={
            "role": role,
            "valid_from": str(valid_from or ""),
            "valid_until": str(valid_until or ""),
        },
    )
    return membership


@transaction.atomic
def membership_revoke(membership, *, acting_user, request=None):
    audit_record(
        "role.revoked",
        actor=acting_user,
        request=request,
        obj=membership.user,
        school_id=membership.school_id,
        details={"role": membership.role},
    )
    membership.delete()


def password_link_path(user, *, reset):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})


@transaction.atomic
def staff_invite(*, username, first_name, last_name, email, school, role, acting_user, request=None, valid_until=None):
    """Create a personal account (R-ACC-4) and send a link to set its password."""
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_unusable_password()
    user.save()
    audit_record("user.created", actor=acting_user, request=request, obj=user, school_id=school.pk)
    membership_grant(
        user=user, school=school, role=role, acting_user=acting_user, request=request, valid_until=valid_until
    )
    path = password_link_path(user, reset=False)
    transaction.on_commit(lambda: send_notice("password_set", email, path))
    return user
