"""Staff login: password, then second factor, every time (R-ACC-5)."""

import io
import time
from functools import wraps

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from privacy_admin import actions, throttle
from privacy_admin.auditlog import audit_record
from privacy_admin.forms import CodeForm, LinkOnlyPasswordResetForm, LoginForm, UnlockForm
from privacy_admin.middleware import RETURN_KEY, safe_return_path
from privacy_admin.models import AuthFailure, BackupCodeDevice, StaffTOTPDevice, User

PASSWORD = AuthFailure.Kind.PASSWORD
CODE = AuthFailure.Kind.CODE


def _next(request, default="home"):
    candidate = request.POST.get("next") or request.GET.get("next")
    return safe_return_path(request, candidate, reverse(default))


def _blocked_message(request):
    messages.error(
        request,
        _("Too many failed attempts. Wait %(minutes)s minutes and try again.")
        % {"minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES},
    )


def _known_username(username):
    """The typed username, if it names an account: a mistyped password in the
    username field must not end up in the audit log."""
    return username if User.objects.filter(username=username).exists() else None


def login_view(request):
    if request.user.is_authenticated and request.user.is_verified():
        return redirect(_next(request))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        if throttle.is_blocked(username, request):
            _blocked_message(request)
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                throttle.record_failure(PASSWORD, username, request, label=_known_username(username))
                form.add_error(None, _("Username or password is not correct."))
            else:
                throttle.clear_failures(username, request, PASSWORD)
                actions.login_password_step(request, user)
                target = "otp_verify" if user.totp_device() else "otp_setup"
                return redirect(f"{reverse(target)}?{urlencode({'next': _next(request)})}")
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")})


def _check_code(user, code):
    """The device that accepts `code`: the authenticator, else a backup code."""
    code = code.strip()
    totp = user.totp_device()
    if totp is not None and code.replace(" ", "").isdigit():
        with transaction.atomic():
            device = StaffTOTPDevice.objects.select_for_update().get(pk=totp.pk)
            return device if device.verify_token(code) else None
    backup = BackupCodeDevice.objects.filter(user=user, confirmed=True).first()
    if backup is not None and backup.verify_token(code):
        return backup
    return None


def _code_attempt(request, user, code):
    """Shared by verify, lock and step-up: throttled, counted, audited."""
    if throttle.is_blocked(user.get_username(), request):
        _blocked_message(request)
        return None
    device = _check_code(user, code)
    if device is None:
        throttle.record_failure(CODE, user.get_username(), request, label=user.get_username())
    else:
        throttle.clear_failures(user.get_username(), request, CODE)
    return device


def otp_verify(request):
    user = request.user
    if user.is_verified():
        return redirect(_next(request))
    if user.totp_device() is None:
        return redirect("otp_setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = _code_attempt(request, user, form.cleaned_data["code"])
        if device is not None:
            actions.login_second_factor_step(request, device)
            response = redirect(_next(request))
            throttle.remember_device(response, request, user.get_username())
            if isinstance(device, BackupCodeDevice):
                left = device.unused_count()
                messages.warning(
                    request,
                    ngettext(
                        "You used a backup code. %(left)s backup code is left.",
                        "You used a backup code. %(left)s backup codes are left.",
                        left,
                    )
                    % {"left": left},
                )
            return response
        form.add_error("code", _("This code is not correct or was already used."))
    return render(request, "accounts/verify.html", {"form": form, "next": request.GET.get("next", "")})


def _qr_svg(data):
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    # Strip the XML prolog so the SVG can sit inline in the page.
    return mark_safe(svg[svg.index("<svg") :])  # noqa: S308 - generated by qrcode, no user input


def otp_setup(request):
    user = request.user
    if user.is_verified():
        return redirect("home")
    if user.totp_device() is not None:
        # A second factor exists: only after verifying it may it be replaced,
        # otherwise a stolen password would be enough to take the account.
        return redirect("otp_verify")
    device = StaffTOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = StaffTOTPDevice.new_for(user)
        device.save()
    form = CodeForm(request.POST or None)
    form.fields["code"].help_text = _("The 6-digit code your authenticator app shows.")
    if request.method == "POST" and form.is_valid():
        if throttle.is_blocked(user.get_username(), request):
            _blocked_message(request)
        elif device.verify_token(form.cleaned_data["code"]):
            throttle.clear_failures(user.get_username(), request, CODE)
            codes = actions.second_factor_enrol(request, device)
            response = render(request, "accounts/backup_codes.html", {"codes": codes, "next": _next(request)})
            throttle.remember_device(response, request, user.get_username())
            return response
        else:
            throttle.record_failure(CODE, user.get_username(), request, label=user.get_username())
            form.add_error("code", _("This code is not correct. Check the time on your phone and try again."))
    return render(
        request,
        "accounts/setup.html",
        {"form": form, "qr": _qr_svg(device.config_url), "secret": device.base32_secret},
    )


def lock_view(request):
    """The screen lock (R-ACC-6): password and code again, then back to where
    the user was."""
    user = request.user
    form = UnlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if throttle.is_blocked(user.get_username(), request):
            _blocked_message(request)
            audit_record("auth.logout", actor=user, request=request, details={"reason": "unlock_blocked"})
            logout(request)
            return redirect("login")
        if not user.check_password(form.cleaned_data["password"]):
            throttle.record_failure(PASSWORD, user.get_username(), request, label=user.get_username())
            form.add_error(None, _("Password or code is not correct."))
        else:
            device = _code_attempt(request, user, form.cleaned_data["code"])
            if device is None:
                form.add_error(None, _("Password or code is not correct."))
            else:
                throttle.clear_failures(user.get_username(), request, PASSWORD)
                back = request.session.pop(RETURN_KEY, None)
                actions.login_second_factor_step(request, device, action="auth.unlocked")
                response = redirect(safe_return_path(request, back, reverse("home")))
                throttle.remember_device(response, request, user.get_username())
                return response
    return render(request, "accounts/lock.html", {"form": form})


def require_recent_second_factor(view):
    """Step-up for sensitive acts (S-8): ask the code again when the last check
    is older than STEP_UP_MINUTES."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        checked_at = request.session.get(actions.OTP_AT_KEY, 0)
        if time.time() - checked_at > settings.STEP_UP_MINUTES * 60:
            back = request.META.get("HTTP_REFERER") if request.method == "POST" else request.get_full_path()
            back = safe_return_path(request, back, reverse("home"))
            if request.method == "POST":
                messages.info(request, _("Confirm with a code first, then repeat the action."))
            return redirect(f"{reverse('step_up')}?{urlencode({'next': back})}")
        return view(request, *args, **kwargs)

    return wrapper


def step_up(request):
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = _code_attempt(request, request.user, form.cleaned_data["code"])
        if device is not None:
            actions.mark_step_up(request)
            audit_record("auth.step_up", actor=request.user, request=request)
            return redirect(_next(request))
        form.add_error("code", _("This code is not correct or was already used."))
    return render(request, "accounts/step_up.html", {"form": form, "next": request.GET.get("next", "")})


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        audit_record("auth.logout", actor=request.user, request=request)
    logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("login")


class PasswordResetView(auth_views.PasswordResetView):
    form_class = LinkOnlyPasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Sets a new password. The second factor stays as it is, and every session
    of the user ends (S-7)."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            actions.password_changed(form.user, request=self.request, reset=True)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("account_security")

    def form_valid(self, form):
        with transaction.atomic():
            form.save()
            update_session_auth_hash(self.request, form.user)
            actions.password_changed(form.user, request=self.request)
        messages.success(self.request, _("Your password was changed. Your other sessions were ended."))
        return redirect(self.success_url)
