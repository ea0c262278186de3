"""The append-only audit log (S-21, S-22, S-23).

Rows are never updated by the application, and deleted only when the audit
log's own retention term has passed (retention/auditterm.py), oldest first,
after an AuditCheckpoint that carries the chain forward; on PostgreSQL
triggers refuse every other UPDATE and DELETE (migrations 0002, 0003, 0005). Each row carries an HMAC over its own
fields and the previous row's HMAC, keyed by AUDIT_HMAC_KEY from outside the
database, and the chain head carries an HMAC over the last link, so
`manage.py verify_audit_log` names the first altered or missing row even after
someone with database rights went around the triggers. Rows hold ids and
labels, never the content of a dossier field.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    # Plain ids, not foreign keys: deleting a user or school must never need to
    # touch (UPDATE) the log.
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    pupil_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    school_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ground = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hmac = models.CharField(max_length=64)
    hmac = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-seq"]

    def __str__(self):
        return f"#{self.seq} {self.action}"


class AuditChainHead(models.Model):
    """The last link of the chain. Locked while a row is appended, which
    serialises writers, and lets the verifier notice rows cut off the end.
    `head_hmac` covers (last_seq, last_hmac) under AUDIT_HMAC_KEY: without the
    key the head cannot be wound back to match a shortened log."""

    last_seq = models.BigIntegerField(default=0)
    last_hmac = models.CharField(max_length=64, default="0" * 64)
    head_hmac = models.CharField(max_length=64, blank=True, default="")

    def __str__(self):
        return f"audit head at {self.last_seq}"


class AuditCheckpoint(models.Model):
    """Where the audit log's retention term cut the oldest rows off (S-23).

    Written in the transaction that deletes rows `from_seq`..`through_seq`,
    before it deletes them: it keeps the HMAC of the last removed row, so the
    first remaining row still proves its link, plus the count and time range
    removed (no content). Checkpoints chain to each other through `prev_hmac`
    and carry an HMAC of their own under AUDIT_HMAC_KEY, so one cannot be
    forged, altered or dropped to hide rows removed by other means. Kept for
    good: they hold numbers and times only."""

    from_seq = models.BigIntegerField()
    through_seq = models.BigIntegerField(unique=True)
    through_hmac = models.CharField(max_length=64)
    rows = models.BigIntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    made_at = models.DateTimeField()
    prev_hmac = models.CharField(max_length=64)
    hmac = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit log checkpoint")
        verbose_name_plural = _("audit log checkpoints")
        ordering = ["through_seq"]

    def __str__(self):
        return f"audit checkpoint through #{self.through_seq}"
