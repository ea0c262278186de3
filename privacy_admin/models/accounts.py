"""Staff accounts and their second factors (R-ACC-4, R-ACC-5, S-3, S-4).

django-otp's own TOTP device keeps its secret in clear text and its static
device keeps backup codes in clear text; both are replaced here by devices of
our own: the TOTP secret is encrypted at rest (crypto.EncryptedTextField) and
backup codes are stored only as SHA-256 digests. Backup codes are 50 random bits
each, so a fast digest is enough: there is nothing to guess offline.
"""

import hashlib
import secrets
import time
from base64 import b32encode
from binascii import unhexlify
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin
from django_otp.oath import TOTP

from privacy_admin.crypto import EncryptedTextField
from privacy_admin.roles import capabilities_for

# One step either side of now (30 seconds each): a code is accepted from 30 s
# before its own window opens until 30 s after it closes, about 90 s in all.
# A code two steps old is refused, and so is any code at or before the last
# accepted step (no replay). Documented in the README (S-3).
TOTP_TOLERANCE_STEPS = 1
TOTP_STEP_SECONDS = 30
BACKUP_CODE_COUNT = 10
_BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class User(AbstractUser):
    """A staff member's personal account. No shared accounts (R-ACC-4):
    one account per person, named after the person."""

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")

    def current_memberships(self):
        return self.memberships.current().select_related("school")

    def memberships_today(self):
        """Current memberships, read once per request: the user object lives
        for one request, so a revoked role still stops on the next (S-14)."""
        today = timezone.localdate()
        cached = getattr(self, "_memberships_today", None)
        if cached is None or cached[0] != today:
            cached = (today, list(self.current_memberships()), list(self.foundation_memberships.all()))
            self._memberships_today = cached
        return cached[1]

    def foundation_roles_today(self):
        self.memberships_today()
        return self._memberships_today[2]

    def capabilities(self, school=None):
        caps = set()
        for membership in self.memberships_today():
            if school is None or membership.school_id == getattr(school, "pk", school):
                caps |= capabilities_for(membership.role)
        for fm in self.foundation_roles_today():
            caps |= capabilities_for(fm.role)
        return caps

    def has_capability(self, capability, school=None):
        return self.is_active and capability in self.capabilities(school)

    def schools_with(self, capability):
        """Schools where the user holds `capability` through a current membership."""
        from privacy_admin.models.org import School

        ids = [m.school_id for m in self.memberships_today() if capability in capabilities_for(m.role)]
        return School.objects.filter(pk__in=ids)

    def totp_device(self):
        return StaffTOTPDevice.objects.filter(user=self, confirmed=True).first()


class StaffTOTPDevice(ThrottlingMixin, Device):
    secret_hex = EncryptedTextField(_("secret"))
    last_t = models.BigIntegerField(default=-1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")

    @classmethod
    def new_for(cls, user):
        return cls(user=user, name="authenticator", confirmed=False, secret_hex=secrets.token_hex(20))

    @property
    def bin_key(self):
        return unhexlify(self.secret_hex.encode())

    @property
    def base32_secret(self):
        return b32encode(self.bin_key).decode()

    @property
    def config_url(self):
        issuer = settings.OTP_TOTP_ISSUER
        label = quote(f"{issuer}:{self.user.get_username()}")
        params = urlencode({"secret": self.base32_secret, "issuer": issuer, "digits": 6, "period": TOTP_STEP_SECONDS})
        return f"otpauth://totp/{label}?{params}"

    def get_throttle_factor(self):
        return settings.OTP_THROTTLE_FACTOR

    def verify_token(self, token):
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        token = str(token).strip().replace(" ", "")
        # isascii: "²²²²²²" is isdigit() but no int() (S-16).
        if not (token.isascii() and token.isdigit() and len(token) == 6):
            self.throttle_increment()
            return False
        totp = TOTP(self.bin_key, TOTP_STEP_SECONDS, 0, 6, 0)
        totp.time = time.time()
        if totp.verify(int(token), TOTP_TOLERANCE_STEPS, self.last_t + 1):
            # Claim the step atomically: a parallel request with the same code
            # must not also pass (replay, S-3).
            claimed = (
                type(self)
                .objects.filter(pk=self.pk, last_t__lt=totp.t())
                .update(last_t=totp.t(), throttling_failure_count=0, throttling_failure_timestamp=None)
            )
            if claimed == 1:
                self.last_t = totp.t()
                return True
        self.throttle_increment()
        return False


def hash_backup_code(code):
    normalized = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(normalized.encode()).hexdigest()


class BackupCodeDevice(ThrottlingMixin, Device):
    class Meta(Device.Meta):
        verbose_name = _("backup codes")

    def get_throttle_factor(self):
        return settings.OTP_THROTTLE_FACTOR

    @transaction.atomic
    def replace_codes(self):
        """New set of codes; returns the clear codes, which are shown once and
        never stored."""
        self.codes.all().delete()
        clear = []
        for _i in range(BACKUP_CODE_COUNT):
            raw = "".join(secrets.choice(_BACKUP_ALPHABET) for _j in range(10))
            clear.append(f"{raw[:5]}-{raw[5:]}")
        BackupCode.objects.bulk_create(BackupCode(device=self, code_hash=hash_backup_code(c)) for c in clear)
        return clear

    def unused_count(self):
        return self.codes.filter(used_at=None).count()

    def verify_token(self, token):
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        used = BackupCode.objects.filter(device=self, code_hash=hash_backup_code(str(token)), used_at=None).update(
            used_at=timezone.now()
        )
        if used == 1:
            self.throttle_reset()
            return True
        self.throttle_increment()
        return False


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["device", "code_hash"])]

    def __str__(self):
        return f"backup code {self.pk}"
