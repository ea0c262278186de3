"""S-24: no password, code or secret reaches any log output, e-mail, audit
row or job record. Sentinel values are planted and every output searched."""

import logging
import re

from django.core import mail
from django.test import Client
from django_otp.oath import totp

from privacy_admin.models import AuditEvent, JobRun, StaffTOTPDevice, User
from privacy_admin.tasks import expired_memberships, security_housekeeping

SENTINEL_PASSWORD = "SENTINEL-pw-7f3a9c-lange-zin"


def test_no_secret_reaches_any_output(db, caplog, capfd, django_capture_on_commit_callbacks):
    """S-24, R-DIS-6: walk enrolment, bad and good logins, backup codes and a
    password reset; then search logs, stdout/stderr, mails and audit rows."""
    caplog.set_level(logging.DEBUG)
    user = User.objects.create_user("sentinel_user", password=SENTINEL_PASSWORD, email="sentinel@example.org")
    client = Client()
    client.post("/accounts/login/", {"username": "sentinel_user", "password": SENTINEL_PASSWORD})
    client.post("/accounts/login/", {"username": "sentinel_user", "password": SENTINEL_PASSWORD + "x"})
    page = client.get("/accounts/setup/").content.decode()
    secret_b32 = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    device = StaffTOTPDevice.objects.get(user=user)
    secret_hex = device.secret_hex
    code = f"{totp(device.bin_key):06d}"
    client.post("/accounts/setup/", {"code": "999999" if code != "999999" else "111111"})
    response = client.post("/accounts/setup/", {"code": code})
    backup_codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", response.content.decode())
    assert backup_codes
    second = Client()
    second.post("/accounts/login/", {"username": "sentinel_user", "password": SENTINEL_PASSWORD})
    second.post("/accounts/verify/", {"code": backup_codes[0]})
    second.post("/accounts/verify/", {"code": backup_codes[0]})
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/accounts/password/reset/", {"email": "sentinel@example.org"})
    security_housekeeping.delay()
    expired_memberships.delay()

    secrets = [SENTINEL_PASSWORD, secret_b32, secret_hex, code, *backup_codes]
    captured = capfd.readouterr()
    outputs = {
        "log": caplog.text,
        "stdout": captured.out,
        "stderr": captured.err,
        "mail": "\n".join(m.subject + m.body for m in mail.outbox),
        "audit": str(list(AuditEvent.objects.values())),
        "jobs": str(list(JobRun.objects.values())),
    }
    assert mail.outbox, "the reset mail was expected"
    for where, text in outputs.items():
        for secret in secrets:
            assert secret not in text, f"a secret reached {where}"
            assert secret.lower() not in text.lower(), f"a secret reached {where}"
