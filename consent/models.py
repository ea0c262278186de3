"""Consent (toestemming): categories per school with versioned question texts,
an append-only history of answers per pupil, category and parent, and
publications checked against it (R-CON-1..8).

The effective answer for a pupil is derived, never stored: given only when at
least one parent with parental authority gave it and none refused (R-CON-6).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from privacy_admin.models import School
from privacy_admin.records import RetentionCategory
from students.models import Document, Guardian, Pupil


class ConsentCategory(models.Model):
    """What parents are asked about, per school (R-CON-8)."""

    class Kind(models.TextChoices):
        CONSENT = "consent", _("consent (no answer is no)")
        OBJECTION = "objection", _("objection (no answer is no objection)")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="consent_categories")
    key = models.SlugField(_("key"), max_length=40)
    label_nl = models.CharField(_("name (Dutch)"), max_length=100)
    label_en = models.CharField(_("name (English)"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CONSENT)
    # R-CON-4: the standing consent covers only the parent app; every other
    # channel also needs a one-off written consent per publication.
    is_parent_app = models.BooleanField(_("this is the parent app (Parro)"), default=False)
    is_publication_channel = models.BooleanField(_("photos and videos are published here"), default=True)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["school", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["school", "key"], name="consent_category_key_unique")]

    def __str__(self):
        return self.label_nl

    def label(self, language="nl"):
        return self.label_en if language == "en" else self.label_nl

    def current_version(self):
        return self.versions.order_by("-number").first()


class QuestionVersion(models.Model):
    """The exact wording parents answered (R-CON-7). Never edited: a changed
    text is a new version, and answers keep pointing at theirs."""

    category = models.ForeignKey(ConsentCategory, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text_nl = models.TextField(_("question (Dutch)"))
    text_en = models.TextField(_("question (English)"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["category", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["category", "number"], name="question_version_unique"),
        ]

    def __str__(self):
        return f"{self.category.key} v{self.number}"

    def text(self, language="nl"):
        return self.text_en if language == "en" else self.text_nl


class ConsentAnswer(models.Model):
    """One answer of one parent for one child and category: the history is
    append-only, the newest row per (pupil, category, guardian) counts."""

    retention_category = RetentionCategory.CONSENT

    class Value(models.TextChoices):
        GIVEN = "given", _("given")
        REFUSED = "refused", _("refused")

    class Channel(models.TextChoices):
        PAPER = "paper", _("paper form")
        PORTAL = "portal", _("parents' portal")
        PHONE = "phone", _("by phone, through staff")

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="consent_answers")
    category = models.ForeignKey(ConsentCategory, on_delete=models.PROTECT, related_name="answers")
    guardian = models.ForeignKey(Guardian, on_delete=models.PROTECT, related_name="consent_answers")
    value = models.CharField(_("answer"), max_length=8, choices=Value.choices)
    version = models.ForeignKey(QuestionVersion, on_delete=models.PROTECT, related_name="answers")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scan = models.ForeignKey(Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(_("when"), db_index=True)
    # The number of the school's privacy statement version that was public
    # when the answer was given (privacy_admin.published; the statement app
    # sits to the right of consent, so a number rather than a foreign key).
    statement_version = models.PositiveIntegerField(_("privacy statement version"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["pupil", "category", "guardian", "-at"])]

    def __str__(self):
        return f"answer {self.pk}"


class ConsentSettings(models.Model):
    """Per school: the first school day, when the yearly reminder goes out (R-CON-3)."""

    school = models.OneToOneField(School, on_delete=models.CASCADE, related_name="consent_settings")
    reminder_month = models.PositiveSmallIntegerField(_("reminder month"), default=9)
    reminder_day = models.PositiveSmallIntegerField(_("reminder day"), default=1)

    def __str__(self):
        return f"consent settings {self.school_id}"


class Reminder(models.Model):
    """One yearly reminder to one parent address for one school year: the
    unique constraint makes it once, however often the job runs (S-28)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")

    school = models.ForeignKey(School, on_delete=models.CASCADE)
    school_year = models.CharField(max_length=9)
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "school_year", "guardian"], name="reminder_once_per_year"),
        ]

    def __str__(self):
        return f"reminder {self.pk}"


class ParentLoginCode(models.Model):
    """A one-time code for the parents' portal: short-lived, stored hashed,
    attempts counted (U-4)."""

    email = models.EmailField(db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"login code {self.pk}"


class Publication(models.Model):
    """Photos or videos to be published on one channel (R-CON-4, R-CON-5)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")
        TAKEN_DOWN = "taken_down", _("taken down")

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="publications")
    channel = models.ForeignKey(ConsentCategory, on_delete=models.PROTECT, related_name="publications")
    date = models.DateField(_("date"))
    description = models.CharField(_("description"), max_length=200)
    caption = models.CharField(_("caption"), max_length=500, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    taken_down_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"publication {self.pk}"


class PublicationPupil(models.Model):
    """A pupil who appears in a publication, with the one-off written consent
    for this publication where one was given (R-CON-4)."""

    retention_category = RetentionCategory.CONSENT

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="appearances")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="publication_appearances")
    one_off_consent_at = models.DateTimeField(null=True, blank=True)
    one_off_consent_by = models.ForeignKey(Guardian, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    one_off_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    one_off_scan = models.ForeignKey(Document, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["publication", "pupil"], name="publication_pupil_unique"),
        ]

    def __str__(self):
        return f"appearance {self.pk}"
