"""Data breaches (datalekken): the report, the FG's workflow and the register
(R-BRK-1..4, AVG art. 33 and 34).

Free texts may name pupils, so they are encrypted at rest (S-25). The 72-hour
clock runs from `aware_at`, in real hours: the deadline is computed in UTC, so
a change to or from summer time does not move it by an hour. The history of
an incident is append-only (BreachEvent rows are only ever created), and each
escalation step is a unique row per breach, so it goes out once (S-28).
"""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy_admin.crypto import EncryptedTextField
from privacy_admin.models import Foundation, School

AP_DEADLINE = datetime.timedelta(hours=72)

# Upper bounds of the approximate counts (R-BRK-4). A typo such as
# 99999999999999999999 must be a field error, not a database overflow (S-16):
# SQLite stores 64 bits, PostgreSQL's integer column 32. A million people is
# far beyond every pupil and parent of a foundation of primary schools; records
# can far outnumber people (every attendance row of every year), so they get a
# hundred times more, still well within 32 bits.
MAX_PEOPLE = 1_000_000
MAX_RECORDS = 100_000_000


class BreachQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(state=Breach.State.CLOSED)

    def undecided(self):
        return self.filter(state__in=(Breach.State.REPORTED, Breach.State.ASSESSING))


class Breach(models.Model):
    class State(models.TextChoices):
        REPORTED = "reported", _("Reported")
        ASSESSING = "assessing", _("Being assessed")
        DECIDED = "decided", _("Decided")
        AP_NOTIFIED = "ap_notified", _("AP notified")
        PEOPLE_TOLD = "people_told", _("People concerned dealt with")
        CLOSED = "closed", _("Closed")

    class Effect(models.TextChoices):
        READ = "read", _("Read")
        COPIED = "copied", _("Copied")
        CHANGED = "changed", _("Changed")
        DELETED = "deleted", _("Deleted")
        LOST = "lost", _("Lost")

    class DataCategory(models.TextChoices):
        CONTACT = "contact", _("Name, address and contact data")
        BSN = "bsn", _("BSN (citizen service number)")
        HEALTH = "health", _("Health data")
        SPECIAL = "special", _("Other special categories (religion, ethnicity, ...)")
        PUPIL_FILE = "pupil_file", _("Pupil file: progress, support, conversations")
        PHOTOS = "photos", _("Photos or videos")
        LOGIN = "login", _("Login data")
        OTHER = "other", _("Other")

    class Severity(models.TextChoices):
        LOW = "low", _("Low: no likely risk")
        RISK = "risk", _("Risk: notify the AP")
        HIGH = "high", _("High risk: also tell the people concerned")

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="breaches")
    # Empty for an incident that concerns the whole foundation.
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, null=True, blank=True, related_name="breaches", verbose_name=_("school")
    )
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="breach_reports")
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    aware_at = models.DateTimeField(_("noticed at"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.REPORTED)
    # The report (two minutes for any staff member)
    what_happened = EncryptedTextField(_("what happened"))
    data_concerned = EncryptedTextField(_("data or system concerned"))
    approx_pupils = models.PositiveIntegerField(
        _("roughly how many pupils"), null=True, blank=True, validators=[MaxValueValidator(MAX_PEOPLE)]
    )
    ongoing = models.BooleanField(_("still going on"), default=False)
    # R-BRK-4, filled in by the FG
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    discovered_how = EncryptedTextField(_("how it was discovered"), blank=True)
    effects = models.JSONField(_("what happened to the data"), default=list, blank=True)
    data_categories = models.JSONField(_("data categories"), default=list, blank=True)
    approx_records = models.PositiveIntegerField(
        _("approximate number of records"), null=True, blank=True, validators=[MaxValueValidator(MAX_RECORDS)]
    )
    approx_people = models.PositiveIntegerField(
        _("approximate number of people"), null=True, blank=True, validators=[MaxValueValidator(MAX_PEOPLE)]
    )
    groups_affected = EncryptedTextField(_("groups of people affected"), blank=True)
    measures_before = EncryptedTextField(_("measures in place before (e.g. encryption)"), blank=True)
    consequences = EncryptedTextField(_("possible consequences"), blank=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, blank=True)
    severity_explanation = EncryptedTextField(_("explanation of the severity"), blank=True)
    measures_taken = EncryptedTextField(_("measures taken"), blank=True)
    # Decision and notification (R-BRK-2, R-BRK-3)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    ap_notify = models.BooleanField(_("notify the AP"), null=True)
    ap_notify_reason = EncryptedTextField(_("why (not) notify the AP"), blank=True)
    ap_notified_at = models.DateTimeField(_("AP notified at"), null=True, blank=True)
    ap_reference = models.CharField(_("AP reference"), max_length=40, blank=True)
    late_reason = EncryptedTextField(_("reason for notifying after 72 hours"), blank=True)
    people_told = models.BooleanField(_("people concerned told"), null=True)
    people_told_at = models.DateTimeField(_("people concerned told at"), null=True, blank=True)
    people_told_whom = EncryptedTextField(_("who was told, and how"), blank=True)
    people_told_reason = EncryptedTextField(_("why (not) tell the people concerned"), blank=True)
    lessons_learned = EncryptedTextField(_("lessons learned"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = BreachQuerySet.as_manager()

    class Meta:
        verbose_name = _("data breach")
        verbose_name_plural = _("data breaches")
        ordering = ["-aware_at", "-pk"]
        indexes = [models.Index(fields=["state", "aware_at"])]

    def __str__(self):
        return f"DL-{self.pk}"

    @property
    def number(self):
        return f"DL-{self.pk:04d}"

    @property
    def deadline(self):
        """72 real hours after becoming aware (R-BRK-2), in UTC: adding hours
        to a local wall-clock time would be an hour off across a DST change."""
        return deadline_for(self.aware_at)

    def is_late(self, at):
        return at > self.deadline

    def remaining(self, now=None):
        return self.deadline - (now or timezone.now())

    @property
    def ap_notified_status(self):
        return self.ap_notified_at is not None


def deadline_for(aware_at):
    return aware_at.astimezone(datetime.UTC) + AP_DEADLINE


class BreachEvent(models.Model):
    """Append-only history of an incident: every state change and edit, by
    whom and when. Rows are created by breaches.services and never changed."""

    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.breach} {self.action}"

    # The history's words for the stored keys (breaches.services: a report,
    # a workflow step, or an escalation step "escalation_<step>").
    ACTION_LABELS = {
        "reported": _("reported"),
        "assess": _("assessed"),
        "decide": _("decided"),
        "ap": _("AP notification recorded"),
        "people": _("informing the people concerned recorded"),
        "close": _("closed"),
    }

    @property
    def action_label(self):
        if self.action.startswith("escalation_"):
            return _("reminder after %(step)s") % {"step": self.action.removeprefix("escalation_")}
        return self.ACTION_LABELS.get(self.action, self.action)

    @property
    def from_label(self):
        return _state_label(self.from_state)

    @property
    def to_label(self):
        return _state_label(self.to_state)


def _state_label(state):
    return Breach.State(state).label if state in Breach.State.values else state


class Escalation(models.Model):
    """One row per escalation step per breach: the unique constraint is the
    claim, so a step is sent once however often the job runs (S-28)."""

    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, related_name="escalations")
    step = models.CharField(max_length=16)
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["breach", "step"], name="escalation_once_per_step")]

    def __str__(self):
        return f"{self.breach} {self.step}"


DEFAULT_LETTER = _(
    "Dear parent(s),\n\n"
    "On {aware_date} we discovered that personal data of pupils of {school} may have been seen "
    "or lost by people who should not have access to it.\n\n"
    "What happened: {what_happened}\n\n"
    "What this may mean for you: {consequences}\n\n"
    "What we did about it: {measures_taken}\n\n"
    "If you have questions, contact our data protection officer, {fg_name} ({fg_email}).\n\n"
    "Kind regards,\n\nThe director of {school}"
)


class ParentLetterTemplate(models.Model):
    """The school's own text for the notice to parents (R-BRK-3). Placeholders:
    {school} {aware_date} {what_happened} {consequences} {measures_taken}
    {fg_name} {fg_email}. Without a row the foundation's default is used."""

    school = models.OneToOneField(School, on_delete=models.CASCADE, related_name="breach_letter")
    body = models.TextField(_("letter to parents"))

    class Meta:
        verbose_name = _("breach letter template")

    def __str__(self):
        return f"{self.school}"
