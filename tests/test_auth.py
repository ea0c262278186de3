"""Staff login with a mandatory second factor (R-ACC-4, R-ACC-5) and the
properties of S-2 to S-5, S-8 and S-9."""

import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp

from privacy_admin.models import (
    AuditEvent,
    AuthFailure,
    BackupCode,
    BackupCodeDevice,
    StaffSession,
    StaffTOTPDevice,
    User,
)
from tests.conftest import PASSWORD, totp_code


def _login(client, username, password=PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_login_happy_path_lands_on_dashboard(client, teacher_a):
    """R-ACC-5, S-5: password, then code; a new session key after each step."""
    client.get("/accounts/login/")
    response = _login(client, "teacher_a")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/verify/")
    key_after_password = client.cookies["sessionid"].value
    assert client.get("/")["Location"].startswith("/accounts/verify/")
    response = client.post("/accounts/verify/", {"code": totp_code(teacher_a)})
    assert response["Location"] == "/"
    key_after_code = client.cookies["sessionid"].value
    assert key_after_code != key_after_password
    assert client.get("/").status_code == 200
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == ["auth.password_ok", "auth.second_factor_ok"]


def test_session_key_changes_at_password_step(client, teacher_a):
    """S-5: the anonymous session's key is not kept after the password step."""
    session = client.session
    session["probe"] = 1
    session.save()
    anonymous_key = session.session_key
    _login(client, "teacher_a")
    assert client.cookies["sessionid"].value != anonymous_key


def test_first_login_enrols_authenticator_and_shows_backup_codes_once(client, db, school_a):
    """R-ACC-5, S-4: first login shows a QR code and the key as text; a correct
    code confirms it and ten backup codes are shown once, stored hashed; the
    TOTP secret is stored encrypted."""
    user = User.objects.create_user("newbie", password=PASSWORD)
    _login(client, "newbie")
    page = client.get("/accounts/setup/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', body).group(1)
    device = StaffTOTPDevice.objects.get(user=user)
    assert device.base32_secret == secret and not device.confirmed
    # The same page on reload shows the same key (no new device per refresh).
    assert secret in client.get("/accounts/setup/").content.decode()
    response = client.post("/accounts/setup/", {"code": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 200
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", response.content.decode())
    assert len(codes) == 10
    assert client.get("/").status_code == 200
    # Stored hashed: no clear code in the table.
    stored = set(BackupCode.objects.values_list("code_hash", flat=True))
    assert len(stored) == 10 and not any(c in stored or c.replace("-", "") in stored for c in codes)
    # Secret encrypted at rest: the raw column holds neither hex nor base32.
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_hex FROM privacy_admin_stafftotpdevice WHERE id = %s", [device.pk])
        raw = cursor.fetchone()[0]
    assert raw.startswith("enc1:") and device.secret_hex not in raw and secret not in raw


def test_enrolment_cannot_replace_an_existing_factor(password_only_client, teacher_a):
    """R-ACC-5: with only a password one cannot enrol a new device over the old one."""
    response = password_only_client(teacher_a).get("/accounts/setup/")
    assert response["Location"] == "/accounts/verify/"


def test_wrong_code_is_refused(password_only_client, teacher_a):
    """S-3: a wrong code does not verify."""
    client = password_only_client(teacher_a)
    wrong = f"{(int(totp_code(teacher_a)) + 1) % 1000000:06d}"
    response = client.post("/accounts/verify/", {"code": wrong})
    assert response.status_code == 200
    assert client.get("/")["Location"].startswith("/accounts/verify/")


def test_replayed_code_is_refused(password_only_client, teacher_a):
    """S-3: a code that was used once is refused the second time."""
    code = totp_code(teacher_a)
    first = password_only_client(teacher_a)
    assert first.post("/accounts/verify/", {"code": code})["Location"] == "/"
    second = password_only_client(teacher_a)
    assert second.post("/accounts/verify/", {"code": code}).status_code == 200
    assert second.get("/").status_code == 302


def test_code_two_steps_old_is_refused_one_step_accepted(password_only_client, teacher_a):
    """S-3: tolerance is one 30-second step either side; two steps old is refused."""
    client = password_only_client(teacher_a)
    assert client.post("/accounts/verify/", {"code": totp_code(teacher_a, -2)}).status_code == 200
    assert client.post("/accounts/verify/", {"code": totp_code(teacher_a, -1)})["Location"] == "/"


def test_code_attempts_throttled_per_device(password_only_client, teacher_a, settings):
    """S-3: after a wrong code the device refuses even the right code for a while."""
    settings.OTP_THROTTLE_FACTOR = 60
    client = password_only_client(teacher_a)
    client.post("/accounts/verify/", {"code": "000000" if totp_code(teacher_a) != "000000" else "111111"})
    response = client.post("/accounts/verify/", {"code": totp_code(teacher_a)})
    assert response.status_code == 200
    assert StaffTOTPDevice.objects.get(user=teacher_a).throttling_failure_count >= 1


def test_code_guessing_locks_out_per_user(password_only_client, teacher_a, settings):
    """S-3: many wrong codes block the code step for the user (window cool-off)."""
    client = password_only_client(teacher_a)
    for _ in range(settings.LOGIN_FAILURES_PER_USER_AND_ADDRESS):
        client.post("/accounts/verify/", {"code": "12345x"})
    response = client.post("/accounts/verify/", {"code": totp_code(teacher_a)})
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="auth.lockout").count() == 1


def test_password_guessing_locked_out_then_cool_off(client, teacher_a, settings):
    """S-2: many bad logins are refused, even with the right password at the
    end; after the cool-off window the right password works again."""
    for _ in range(settings.LOGIN_FAILURES_PER_USER_AND_ADDRESS + 3):
        assert _login(client, "teacher_a", "wrong password 123").status_code == 200
    blocked = _login(client, "teacher_a")
    assert blocked.status_code == 200
    assert AuditEvent.objects.filter(action="auth.lockout").count() == 1
    # Cool-off: move the failures out of the window.
    AuthFailure.objects.update(at=timezone.now() - timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES + 1))
    assert _login(client, "teacher_a")["Location"].startswith("/accounts/verify/")


def _wrong_code(user):
    right = {totp_code(user, offset) for offset in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in right)


def _full_login(client, user):
    assert _login(client, user.username)["Location"].startswith("/accounts/verify/")
    assert client.post("/accounts/verify/", {"code": totp_code(user)})["Location"] == "/"
    return client


def _attack(username, addresses, settings):
    """Guess passwords from each address until that address is refused."""
    for address in addresses:
        attacker = Client(REMOTE_ADDR=address)
        for _ in range(settings.LOGIN_FAILURES_PER_USER_AND_ADDRESS + 2):
            attacker.post("/accounts/login/", {"username": username, "password": "guess guess guess"})
        assert _login(attacker, username).status_code == 200
        assert "_auth_user_id" not in attacker.session


def test_lockout_from_other_address_does_not_lock_out_the_user(teacher_a, settings):
    """S-2: failures from one address do not lock the user out from another;
    from the attacker's address even the right password is refused."""
    _attack("teacher_a", ["203.0.113.9"], settings)
    assert AuthFailure.objects.count() == settings.LOGIN_FAILURES_PER_USER_AND_ADDRESS
    assert _login(Client(REMOTE_ADDR="192.0.2.10"), "teacher_a")["Location"].startswith("/accounts/verify/")


def test_guessing_from_many_addresses_does_not_lock_out_the_known_device(teacher_a, settings):
    """S-2: guessing from four addresses passes the per-username limit, which
    then refuses an unknown browser even with the right password; the
    teacher's own browser, known from an earlier full login, still gets in."""
    own = _full_login(Client(REMOTE_ADDR="192.0.2.10"), teacher_a)
    own.post("/accounts/logout/")
    teacher_a.stafftotpdevice_set.update(last_t=-1)  # the same code may be used again below
    _attack("teacher_a", [f"203.0.113.{i}" for i in range(1, 5)], settings)
    assert AuthFailure.objects.count() >= settings.LOGIN_FAILURES_PER_USER
    unknown = Client(REMOTE_ADDR="192.0.2.11")
    assert _login(unknown, "teacher_a").status_code == 200
    assert "_auth_user_id" not in unknown.session
    same_address_unknown = Client(REMOTE_ADDR="192.0.2.10")
    assert _login(same_address_unknown, "teacher_a").status_code == 200
    _full_login(own, teacher_a)
    assert own.get("/").status_code == 200


def test_known_device_cookie_is_per_account_and_signed(teacher_a, director_a, settings):
    """S-2: the known-device cookie helps only the account that logged in on
    that browser, cannot be forged, and the limit per (username, address)
    still applies to it."""
    own = _full_login(Client(REMOTE_ADDR="192.0.2.10"), teacher_a)
    cookie = own.cookies["pa_known"]
    assert "teacher_a" not in cookie.value
    assert cookie["httponly"] and int(cookie["max-age"]) == 90 * 24 * 3600
    own.post("/accounts/logout/")
    _attack("director_a", [f"203.0.113.{i}" for i in range(1, 5)], settings)
    assert _login(own, "director_a").status_code == 200
    forged = Client(REMOTE_ADDR="192.0.2.12")
    forged.cookies["pa_known"] = cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB")
    _attack("teacher_a", [f"198.51.100.{i}" for i in range(1, 5)], settings)
    assert _login(forged, "teacher_a").status_code == 200
    # Guessing from the known browser's own address: its pair limit holds.
    for _ in range(settings.LOGIN_FAILURES_PER_USER_AND_ADDRESS):
        _login(own, "teacher_a", "guess guess guess")
    assert _login(own, "teacher_a").status_code == 200


def test_known_device_cookie_is_secure_in_production(client, teacher_a, settings):
    """S-19: the known-device cookie is Secure where the session cookie is."""
    settings.SESSION_COOKIE_SECURE = True
    _full_login(client, teacher_a)
    assert client.cookies["pa_known"]["secure"]


def test_right_password_does_not_reset_code_guessing(client, teacher_a, settings):
    """S-3: logging in with the right password again clears only password
    failures: 40 code guesses with password re-logins in between are still
    stopped at the limit, and then even the right password and code fail."""
    wrong = _wrong_code(teacher_a)
    for _ in range(40):
        _login(client, "teacher_a")
        client.post("/accounts/verify/", {"code": wrong})
    assert AuthFailure.objects.filter(kind="code").count() == settings.LOGIN_FAILURES_PER_USER_AND_ADDRESS
    assert _login(client, "teacher_a").status_code == 200
    assert client.post("/accounts/verify/", {"code": totp_code(teacher_a)}).status_code == 200
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="auth.lockout").count() == 1


def test_right_code_clears_code_failures(client, teacher_a, settings):
    """S-3: a right code clears the code failures of this address; a right
    password does not."""
    _login(client, "teacher_a")
    for _ in range(2):
        client.post("/accounts/verify/", {"code": _wrong_code(teacher_a)})
    _login(client, "teacher_a")
    assert AuthFailure.objects.filter(kind="code").count() == 2
    assert client.post("/accounts/verify/", {"code": totp_code(teacher_a)})["Location"] == "/"
    assert not AuthFailure.objects.exists()


def test_backup_code_works_once(client, db):
    """S-4: a backup code logs in once; the second use is refused."""
    user = User.objects.create_user("backup_user", password=PASSWORD)
    device = StaffTOTPDevice.new_for(user)
    device.confirmed = True
    device.save()
    codes = BackupCodeDevice.objects.create(user=user, name="backup", confirmed=True).replace_codes()
    _login(client, "backup_user")
    assert client.post("/accounts/verify/", {"code": codes[0]})["Location"] == "/"
    other = Client()
    _login(other, "backup_user")
    assert other.post("/accounts/verify/", {"code": codes[0]}).status_code == 200
    assert BackupCode.objects.filter(used_at__isnull=False).count() == 1


def test_argon2_is_the_password_hasher():
    """S-9: Argon2id hashes passwords (the test settings use MD5 for speed)."""
    import privacy_admin.settings as real

    assert real.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.django_db
def test_argon2id_hash_and_long_passphrase(settings):
    """S-9: a long passphrase is accepted and hashed with argon2id."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    passphrase = "het is een mooie dag om in de klas een lang wachtwoord te typen " * 2
    validate_password(passphrase)
    user = User.objects.create_user("longpass", password=passphrase)
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(passphrase)


def test_common_and_short_passwords_are_refused(db):
    """S-9: common and short passwords are refused."""
    for bad in ("password1234", "short"):
        with pytest.raises(ValidationError):
            validate_password(bad)


def test_password_reset_keeps_second_factor_and_ends_sessions(client, verified_client, teacher_a):
    """R-DIS-6, S-7: the reset mail carries a link only; the reset never removes
    the second factor, and ends the user's sessions."""
    other = verified_client(teacher_a)
    client.post("/accounts/password/reset/", {"email": teacher_a.email})
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "teacher_a" not in body and teacher_a.first_name not in body
    link = re.search(r"http://\S+", body).group(0).replace(django_settings.PORTAL_BASE_URL, "")
    form_page = client.get(link, follow=True)
    new = "een nieuw en lang wachtwoord voor school"
    response = client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert response["Location"] == "/accounts/password/reset/complete/"
    assert StaffTOTPDevice.objects.filter(user=teacher_a, confirmed=True).exists()
    # Ended, not merely invalid: no session row of the user is left.
    assert not StaffSession.objects.filter(user_id=teacher_a.pk).exists()
    assert other.get("/")["Location"].startswith("/accounts/login/")
    login = _login(Client(), "teacher_a", new)
    assert login["Location"].startswith("/accounts/verify/")


def test_step_up_asks_for_code_when_stale(verified_client, teacher_a, settings):
    """S-8: changing the second factor asks for a fresh code when the last check
    is older than STEP_UP_MINUTES."""
    from tests.conftest import age_session

    client = verified_client(teacher_a)
    age_session(client, pa_otp_at=settings.STEP_UP_MINUTES * 60 + 1)
    response = client.post("/accounts/security/backup-codes/", HTTP_REFERER="http://testserver/accounts/security/")
    assert response["Location"].startswith("/accounts/confirm/")
    assert not BackupCodeDevice.objects.filter(user=teacher_a).exists()
    confirm = client.post(response["Location"], {"code": totp_code(teacher_a)})
    assert confirm["Location"] == "http://testserver/accounts/security/"
    response = client.post("/accounts/security/backup-codes/")
    assert response.status_code == 200
    assert BackupCodeDevice.objects.get(user=teacher_a).unused_count() == 10


def test_logout_needs_post(verified_client, teacher_a):
    """S-15: logging out is a POST; a GET changes nothing."""
    client = verified_client(teacher_a)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert client.get("/")["Location"].startswith("/accounts/login/")
