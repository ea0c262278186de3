"""Sessions we can list and end per user (S-7), and counted login failures (S-2)."""

from django.contrib.sessions.base_session import AbstractBaseSession, BaseSessionManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffSession(AbstractBaseSession):
    """Django's database session plus the owner, so a user's sessions can be
    listed and ended together (password change, deactivation)."""

    user_id = models.BigIntegerField(null=True, db_index=True)
    user_agent = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    signed_in_at = models.DateTimeField(null=True, blank=True)

    objects = BaseSessionManager()

    class Meta:
        verbose_name = _("session")

    @classmethod
    def get_session_store_class(cls):
        from privacy_admin.sessions import SessionStore

        return SessionStore


class AuthFailure(models.Model):
    """One failed password or code attempt. Counted over a sliding window; rows
    older than the window no longer count, which is the automatic cool-off."""

    class Kind(models.TextChoices):
        PASSWORD = "password", _("password")
        CODE = "code", _("one-time code")

    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # SHA-256 of the typed username, lower-cased (see throttle._norm).
    username = models.CharField(max_length=64, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)

    def __str__(self):
        return f"{self.kind} failure at {self.at:%Y-%m-%d %H:%M}"
