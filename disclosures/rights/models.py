"""Parents' requests (R-RGT-1..4): to view the dossier, or to correct or
remove data in it, with the legal deadline (R-RGT-3), the viewing appointment
with a staff member present (R-RGT-1), the decision, and the corrections
made.

Both models are kept like the disclosure log (RetentionCategory.REQUESTS,
5 years after unenrolment, S-26): they are evidence of what the school did
with a parent's request. Free texts (what the parent points at, reasons,
decisions) may touch on substantive or health data, so they are encrypted at
rest (S-25). A correction points at the dossier record by type and id, not
by a foreign key: a record removed on request, or purged when its own term
ends, must not be held back by the record of its correction.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from disclosures.rights import deadlines
from privacy_admin.crypto import EncryptedTextField
from privacy_admin.records import RetentionCategory


class Part(models.TextChoices):
    """What in the dossier a correction or removal is about: the dossier's
    own record types (students.policy.RECORD_TYPES) and its core data."""

    PUPIL = "pupil", _("The child's personal data (name, birth date, group)")
    GUARDIAN = "guardian", _("Details of the parents/guardians")
    CONTACT = "contact", _("Address and contact data")
    ENROLMENT_EVENT = "enrolment_event", _("Enrolment and unenrolment")
    ATTENDANCE = "attendance", _("Attendance and absence")
    FUNDING = "funding", _("Funding data")
    SUPPORT = "support", _("Support needs")
    HEALTH = "health", _("Health data")
    PROGRESS = "progress", _("Progress and results")
    CONVERSATION = "conversation", _("Conversation reports")
    AGREEMENT = "agreement", _("Agreements")
    DOCUMENT = "document", _("Documents")
    OTHER = "other", _("Something else")


class ParentRequestQuerySet(models.QuerySet):
    def open(self):
        """Not answered yet: the deadline still runs (or has passed)."""
        return self.filter(answered_at__isnull=True)

    def overdue(self, today=None):
        return self.open().filter(due_on__lt=today or timezone.localdate())


class ParentRequest(models.Model):
    retention_category = RetentionCategory.REQUESTS

    class Kind(models.TextChoices):
        VIEW = "view", _("View the dossier")
        CORRECT = "correct", _("Correct data")
        REMOVE = "remove", _("Remove data")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        SCHEDULED = "scheduled", _("Appointment made")
        VIEWED = "viewed", _("Viewing held")
        DONE = "done", _("Carried out")
        REFUSED = "refused", _("Refused")

    class RefusalGround(models.TextChoices):
        # R-RGT-4 (BW art. 1:377c): the only grounds to refuse a parent
        # without parental authority.
        CHILD_INTEREST = "child_interest", _("Giving the information would be against the child's interest")
        NOT_FOR_AUTHORITY = (
            "not_for_authority",
            _("The same information would not be given to the parent with parental authority"),
        )

    pupil = models.ForeignKey("students.Pupil", on_delete=models.CASCADE, related_name="parent_requests")
    # The Guardian row the parent signed in with; the address replies go to.
    guardian = models.ForeignKey(
        "students.Guardian", on_delete=models.SET_NULL, null=True, related_name="parent_requests"
    )
    # As it stood when the request came in: decides the refusal grounds (R-RGT-4).
    requester_has_authority = models.BooleanField(_("requester has parental authority"))
    kind = models.CharField(_("request"), max_length=10, choices=Kind.choices)
    part = models.CharField(_("part of the dossier"), max_length=20, choices=Part.choices, blank=True)
    what = EncryptedTextField(_("what is wrong"), blank=True)
    reason = EncryptedTextField(_("why"), blank=True)
    language = models.CharField(max_length=8, default="nl")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED)

    received_at = models.DateTimeField(_("received"))
    received_on = models.DateField(_("received on"))
    extension_months = models.PositiveSmallIntegerField(_("extension (months)"), default=0)
    extension_reason = EncryptedTextField(_("reason for the extension"), blank=True)
    extended_at = models.DateTimeField(null=True, blank=True)
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Always deadlines.due_date(received_on, extension_months); a column so
    # that lists and the warning job can filter on it.
    due_on = models.DateField(_("deadline"))
    # Set by the first answer: the appointment, the carried-out correction or
    # the refusal. A request without it is open and counts against the deadline.
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    appointment_at = models.DateTimeField(_("appointment"), null=True, blank=True)
    appointment_place = models.CharField(_("place"), max_length=200, blank=True)
    present_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rights_viewings",
        verbose_name=_("staff member present"),
    )
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)
    viewing_held_on = models.DateField(_("viewing held on"), null=True, blank=True)
    attendees = models.CharField(_("who attended"), max_length=300, blank=True)
    viewing_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    decision = EncryptedTextField(_("decision and motivation"), blank=True)
    refusal_ground = models.CharField(
        _("ground for refusal (R-RGT-4)"), max_length=20, choices=RefusalGround.choices, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    # S-28: each warning is claimed by a conditional UPDATE of its column, so
    # it goes out once however often the job runs. Cleared by an extension.
    warned_7_at = models.DateTimeField(null=True, blank=True)
    warned_2_at = models.DateTimeField(null=True, blank=True)

    objects = ParentRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("parent's request")
        verbose_name_plural = _("parents' requests")
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["answered_at", "due_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(extension_months__lte=deadlines.MAX_EXTENSION_MONTHS),
                name="parent_request_extension_at_most_two_months",
            )
        ]

    def __str__(self):
        return f"request #{self.pk}"

    @property
    def number(self):
        return f"V-{self.received_on:%Y}-{self.pk:04d}"

    @property
    def is_open(self):
        return self.answered_at is None

    def days_left(self, today=None):
        return deadlines.days_left(self.due_on, today or timezone.localdate())

    @property
    def overdue(self):
        return self.is_open and self.days_left() < 0

    def can_extend(self, today=None):
        """Open, and its deadline may still be extended (R-RGT-3)."""
        return self.is_open and deadlines.may_extend(
            self.received_on, self.extension_months, today or timezone.localdate()
        )

    def appointment_refusal(self, at, now=None):
        """Why a viewing appointment at `at` (aware) cannot be made, or "".

        The appointment is the request's answer (it sets `answered_at`), so it
        must lie within the current deadline (R-RGT-3): one later would stop
        the clock and get round both the one-month term and the one-time
        extension. Extend first, with a reason, then plan within the new term.
        Once the deadline has passed no date can be in time; the viewing is
        then still planned (the parent keeps the right, R-RGT-1), and the
        request stays on the overdue list until it is, and is marked "after
        the deadline"."""
        now = now or timezone.now()
        today = timezone.localdate(now)
        if at <= now:
            return gettext("The appointment lies in the past.")
        if today > self.due_on or timezone.localdate(at) <= self.due_on:
            return ""
        values = {"date": self.due_on.strftime("%d-%m-%Y")}
        if self.can_extend(today):
            return (
                gettext(
                    "The appointment must be on or before %(date)s, the deadline of this request. To plan it "
                    "later, first extend the deadline (once, by up to two months, with a reason for the "
                    "parent), then plan the appointment within the new term."
                )
                % values
            )
        return (
            gettext(
                "The appointment must be on or before %(date)s, the deadline of this request. The deadline "
                "can no longer be extended."
            )
            % values
        )

    @property
    def appointment_after_deadline(self):
        return self.appointment_at is not None and timezone.localdate(self.appointment_at) > self.due_on


class DossierCorrection(models.Model):
    """One change or removal made in the dossier on a parent's request
    (R-RGT-2). A change keeps the old and the new value of each changed field
    here (the dossier's records have no history of their own); a removal keeps
    only what kind of record was removed and when, never its content, or the
    removal would not be one."""

    retention_category = RetentionCategory.REQUESTS

    class Action(models.TextChoices):
        CHANGED = "changed", _("corrected")
        REMOVED = "removed", _("removed")

    request = models.ForeignKey(ParentRequest, on_delete=models.CASCADE, related_name="corrections")
    part = models.CharField(_("part of the dossier"), max_length=20, choices=Part.choices)
    record_id = models.PositiveIntegerField()
    record_label = models.CharField(_("record"), max_length=200, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    # [{"field": name, "label": label, "old": text, "new": text}], as JSON text.
    changes = EncryptedTextField(blank=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    applied_at = models.DateTimeField()

    class Meta:
        verbose_name = _("correction on request")
        verbose_name_plural = _("corrections on request")
        ordering = ["applied_at", "pk"]

    def __str__(self):
        return f"correction #{self.pk}"

    def change_rows(self):
        import json

        return json.loads(self.changes) if self.changes else []
