"""Retention terms, legal holds and the record of every purge (R-RET-1..6).

Terms are configuration (R-RET-5): one RetentionRule per category, plus an
optional rule with condition "special" that applies instead when the pupil
left for special education (R-RET-4). The data migration seeds R-RET-1..4.

Our choice for consent history (category "consent"): 5 years after
unenrolment, like enrolment data. Consent answers are evidence of what the
parents allowed (R-CON-7); that evidence is needed as long as the enrolment
itself can still be questioned, and no longer.

PurgeRun and PurgeRecord hold counts, categories and rule descriptions only,
never removed content (R-RET-6).
"""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy_admin.crypto import EncryptedTextField
from privacy_admin.models import School
from privacy_admin.records import RetentionCategory


class RetentionRule(models.Model):
    class Condition(models.TextChoices):
        NONE = "", _("all pupils")
        SPECIAL = "special", _("left for special education")

    category = models.CharField(_("category"), max_length=16, choices=RetentionCategory.choices)
    years = models.PositiveSmallIntegerField(_("years"), default=0)
    months = models.PositiveSmallIntegerField(_("months"), default=0)
    permanent = models.BooleanField(_("kept permanently"), default=False)
    condition = models.CharField(_("condition"), max_length=16, choices=Condition.choices, blank=True, default="")

    class Meta:
        verbose_name = _("retention rule")
        ordering = ["category", "condition"]
        constraints = [models.UniqueConstraint(fields=["category", "condition"], name="retention_rule_unique")]

    def __str__(self):
        return self.description

    @property
    def total_months(self):
        return self.years * 12 + self.months

    @property
    def description(self):
        """Plain words for the deletion record; no personal data."""
        if self.permanent:
            term = "permanent"
        else:
            parts = []
            if self.years:
                parts.append(f"{self.years} year{'s' if self.years != 1 else ''}")
            if self.months or not parts:
                parts.append(f"{self.months} month{'s' if self.months != 1 else ''}")
            term = " ".join(parts) + " after unenrolment"
        suffix = " (left for special education)" if self.condition == self.Condition.SPECIAL else ""
        return f"{self.category}: {term}{suffix}"


class LegalHold(models.Model):
    """Stops every purge of the pupil until lifted (R-RET-6).

    It links to a pupil, so it must declare a category (S-26); enrolment is the
    nearest, but the engine never purges holds: they are the reason a purge
    did not happen and must outlive it."""

    retention_category = RetentionCategory.ENROLMENT

    pupil = models.ForeignKey("students.Pupil", on_delete=models.CASCADE, related_name="legal_holds")
    # A dispute or child-protection case: sensitive, so sealed (S-25).
    reason = EncryptedTextField(_("reason"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    set_at = models.DateTimeField(_("set at"))
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("legal hold")
        ordering = ["-set_at", "-pk"]

    def __str__(self):
        return f"legal hold #{self.pk}"

    @property
    def active(self):
        return self.lifted_at is None


class PurgeRun(models.Model):
    """One purge. A run confirmed on the application admin's screen is created
    "queued" and carried out by a Celery task (retention.tasks); the engine
    counts `done` up per batch, in the batch's own transaction, so the
    progress shown is exactly what is committed (U-3)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting for the background worker")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    # A run with no progress for this long is stalled: its worker stopped, or
    # the broker never delivered it (the nightly job picks queued runs up).
    STALLED_AFTER = datetime.timedelta(minutes=15)

    requested_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    as_of = models.DateField(_("as of"))
    school = models.ForeignKey(School, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RUNNING)
    # {"due": {category: pupils}, "purged": {category: pupils}, "held": n}
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    # Exception class name only: messages can carry data.
    error = models.CharField(_("error"), max_length=200, blank=True)
    # The category whose batch failed; earlier batches stay done (S-27).
    failed_category = models.CharField(
        _("failed in category"), max_length=16, choices=RetentionCategory.choices, blank=True
    )
    # Progress: pupils handled, counted once per category they are due in;
    # for a run of the audit log's term, audit events removed.
    total = models.PositiveIntegerField(_("to handle"), default=0)
    done = models.PositiveIntegerField(_("handled"), default=0)
    progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)

    class Meta:
        verbose_name = _("purge run")
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"purge {self.as_of}"

    @property
    def finished(self):
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def is_audit(self):
        """A run of the audit log's own term (retention.auditterm)."""
        return (
            isinstance(self.counts, dict)
            and "audit_events" in self.counts
            and not any((self.counts.get("due") or {}).values())
        )

    @property
    def percent(self):
        if self.total == 0:
            return 100 if self.finished else 0
        return min(100, self.done * 100 // self.total)

    def stalled(self, now=None):
        """Queued or running without progress for STALLED_AFTER."""
        if self.finished:
            return False
        last = self.progress_at or self.requested_at or self.started_at
        return last < (now or timezone.now()) - self.STALLED_AFTER


# The audit log's own term (retention.auditterm) leaves records too; "audit"
# is not a pupil category, so it is added here for the records' labels only.
AUDIT_CATEGORY = "audit"
RECORD_CATEGORIES = [*RetentionCategory.choices, (AUDIT_CATEGORY, _("Audit log"))]


class PurgeRecord(models.Model):
    """One committed batch: which category, on which rule, how many pupils and
    rows, when and by whom. Written in the batch's own transaction, so no row
    is ever removed without its record."""

    run = models.ForeignKey(PurgeRun, on_delete=models.PROTECT, related_name="records")
    category = models.CharField(_("category"), max_length=16, choices=RECORD_CATEGORIES)
    rule = models.CharField(_("rule"), max_length=200)
    pupils = models.PositiveIntegerField(_("pupils"))
    rows = models.PositiveIntegerField(_("rows"))
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("deletion record")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.category} {self.pupils}"


class RetentionLock(models.Model):
    """One row; `holder` non-empty while a purge runs (S-27). Taken by a
    conditional UPDATE, which is atomic on SQLite and PostgreSQL alike; the
    heartbeat is refreshed per batch so a lock left by a killed worker goes
    stale and the next run can take over."""

    holder = models.CharField(max_length=64, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"retention lock {'held' if self.holder else 'free'}"


class RetentionSettings(models.Model):
    class Mode(models.TextChoices):
        PROPOSE = "propose", _("propose (the application admin confirms)")
        AUTOMATIC = "automatic", _("automatic")

    school = models.OneToOneField(School, on_delete=models.CASCADE, related_name="retention_settings")
    mode = models.CharField(_("nightly purge"), max_length=16, choices=Mode.choices, default=Mode.PROPOSE)

    class Meta:
        verbose_name = _("retention settings")

    def __str__(self):
        return f"retention settings {self.school_id}"
