"""Pupils and their dossiers (R-DOS-1..6, R-ORG-3).

The dossier has an administrative part (contact, enrolment, attendance,
funding: R-DOS-4) and a substantive part (support needs, health, progress,
conversation reports, agreements, documents: R-DOS-5). Every model linked to a
pupil declares its retention category (S-26). BSN, health notes, substantive
texts and documents are encrypted at rest (S-25); a BSN is found through a
keyed hash, never by decrypting rows.
"""

import hashlib
import hmac

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from privacy_admin.crypto import EncryptedTextField
from privacy_admin.models import Group, School
from privacy_admin.records import RetentionCategory
from students.validators import normalize_bsn


def bsn_lookup_hash(bsn):
    return hmac.new(settings.LOOKUP_HASH_KEY.encode(), normalize_bsn(bsn).encode(), hashlib.sha256).hexdigest()


class Sex(models.TextChoices):
    MALE = "M", _("boy")
    FEMALE = "V", _("girl")
    OTHER = "X", _("other / unknown")


class Destination(models.TextChoices):
    REGULAR = "regular", _("regular primary school")
    SPECIAL = "special", _("special education (SO/SBO)")
    SECONDARY = "secondary", _("secondary school")
    ABROAD = "abroad", _("abroad")
    OTHER = "other", _("other")


class PupilQuerySet(models.QuerySet):
    def with_bsn(self, bsn):
        return self.filter(bsn_hash=bsn_lookup_hash(bsn))


class Pupil(models.Model):
    retention_category = RetentionCategory.CONTACT

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="pupils")
    group = models.ForeignKey(
        Group, on_delete=models.SET_NULL, null=True, blank=True, related_name="pupils", verbose_name=_("group")
    )
    pupil_ref = models.CharField(_("pupil number"), max_length=40, blank=True)
    first_name = models.CharField(_("first name"), max_length=100)
    name_prefix = models.CharField(_("prefix (tussenvoegsel)"), max_length=20, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    bsn = EncryptedTextField(_("BSN"), blank=True)
    bsn_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    year_group = models.PositiveSmallIntegerField(
        _("year group (leerjaar)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    # R-DIS-3: only children their parents registered go to Mondzorg voor Kids.
    mondzorg_registered = models.BooleanField(_("registered for Mondzorg voor Kids"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PupilQuerySet.as_manager()

    class Meta:
        verbose_name = _("pupil")
        verbose_name_plural = _("pupils")
        ordering = ["last_name", "first_name"]
        permissions = [("view_dossier_as_involved", "View the whole dossier as an involved support-team member")]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "pupil_ref"], condition=~models.Q(pupil_ref=""), name="pupil_ref_unique_per_school"
            ),
            models.UniqueConstraint(
                fields=["school", "bsn_hash"], condition=~models.Q(bsn_hash=""), name="pupil_bsn_unique_per_school"
            ),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        return " ".join(part for part in (self.first_name, self.name_prefix, self.last_name) if part)

    def set_bsn(self, bsn):
        bsn = normalize_bsn(bsn)
        self.bsn = bsn
        self.bsn_hash = bsn_lookup_hash(bsn) if bsn else ""


class Guardian(models.Model):
    """A parent or guardian (ouder/verzorger, R-ORG-3)."""

    retention_category = RetentionCategory.CONTACT

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=150)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    street = models.CharField(_("street"), max_length=150, blank=True)
    house_number = models.CharField(_("house number"), max_length=12, blank=True)
    postcode = models.CharField(_("postcode"), max_length=7, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    bsn = EncryptedTextField(_("BSN"), blank=True)
    bsn_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    class Meta:
        verbose_name = _("parent/guardian")
        verbose_name_plural = _("parents/guardians")
        # The parents' portal finds a parent by e-mail address, case-insensitively
        # (email__iexact: UPPER(email) = UPPER(...)), on every request: without
        # this index each one reads every guardian row (docs/operations.md).
        indexes = [models.Index(Upper("email"), name="guardian_email_upper")]

    def __str__(self):
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def set_bsn(self, bsn):
        bsn = normalize_bsn(bsn)
        self.bsn = bsn
        self.bsn_hash = bsn_lookup_hash(bsn) if bsn else ""


class GuardianLink(models.Model):
    retention_category = RetentionCategory.CONTACT

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="guardian_links")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="pupil_links")
    has_authority = models.BooleanField(_("parental authority (ouderlijk gezag)"), default=True)
    relation = models.CharField(_("relation"), max_length=40, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pupil", "guardian"], name="guardian_link_unique")]

    def __str__(self):
        return f"{self.guardian} → {self.pupil}"


class Enrolment(models.Model):
    """Application, enrolment and unenrolment (R-DOS-1, R-DOS-4); the
    unenrolment date and destination drive the retention terms (R-RET-5)."""

    retention_category = RetentionCategory.ENROLMENT

    pupil = models.OneToOneField(Pupil, on_delete=models.CASCADE, related_name="enrolment")
    application_date = models.DateField(_("application date"))
    placement_guarantee = models.BooleanField(_("placement guarantee"), default=True)
    enrolled_on = models.DateField(_("enrolment date"), null=True, blank=True)
    left_on = models.DateField(_("unenrolment date"), null=True, blank=True)
    destination = models.CharField(_("destination"), max_length=16, choices=Destination.choices, blank=True)
    destination_school = models.CharField(_("destination school"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(left_on__isnull=True)
                | models.Q(enrolled_on__isnull=True)
                | models.Q(left_on__gte=models.F("enrolled_on")),
                name="enrolment_left_after_enrolled",
            )
        ]

    def __str__(self):
        return f"enrolment {self.pk}"


class Address(models.Model):
    """Address and contact history of the pupil; the newest is current."""

    retention_category = RetentionCategory.CONTACT

    class Source(models.TextChoices):
        MANUAL = "manual", _("entered by staff")
        BRP = "brp", _("BRP via DUO")
        IMPORT = "import", _("import")

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="addresses")
    street = models.CharField(_("street"), max_length=150)
    house_number = models.CharField(_("house number"), max_length=12)
    postcode = models.CharField(_("postcode"), max_length=7)
    city = models.CharField(_("city"), max_length=100)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    valid_from = models.DateField(_("valid from"))
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_from", "-pk"]

    def __str__(self):
        return f"address {self.pk}"


class EnrolmentEvent(models.Model):
    retention_category = RetentionCategory.ENROLMENT

    class Kind(models.TextChoices):
        APPLICATION = "application", _("application (aanmelding)")
        ENROLMENT = "enrolment", _("enrolment (inschrijving)")
        GROUP_CHANGE = "group_change", _("group change")
        UNENROLMENT = "unenrolment", _("unenrolment (uitschrijving)")

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="enrolment_events")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"{self.kind} {self.date}"


class AttendanceRecord(models.Model):
    retention_category = RetentionCategory.ATTENDANCE

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="attendance")
    date = models.DateField(_("date"))
    hours = models.DecimalField(
        _("hours absent"), max_digits=4, decimal_places=1, validators=[MinValueValidator(0), MaxValueValidator(12)]
    )
    authorised = models.BooleanField(_("authorised (geoorloofd)"), default=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"absence {self.date}"


class FundingRecord(models.Model):
    """Data needed for funding (bekostiging), part of the enrolment (R-DOS-4)."""

    retention_category = RetentionCategory.FUNDING

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="funding")
    reference_date = models.DateField(_("reference date (teldatum)"))
    indicator = models.CharField(_("indicator"), max_length=100)
    value = models.CharField(_("value"), max_length=100)

    class Meta:
        ordering = ["-reference_date", "-pk"]

    def __str__(self):
        return f"funding {self.reference_date}"


class SupportNeed(models.Model):
    retention_category = RetentionCategory.SUBSTANTIVE

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="support_needs")
    since = models.DateField(_("since"))
    description = EncryptedTextField(_("support need"))

    class Meta:
        ordering = ["-since", "-pk"]

    def __str__(self):
        return f"support need {self.pk}"


class HealthNote(models.Model):
    """Health data, only where needed for special guidance (AVG art. 9)."""

    retention_category = RetentionCategory.SUBSTANTIVE

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="health_notes")
    date = models.DateField(_("date"))
    note = EncryptedTextField(_("health note"))
    needed_for = EncryptedTextField(_("needed for which guidance or provision"))

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"health note {self.pk}"


class ProgressResult(models.Model):
    retention_category = RetentionCategory.SUBSTANTIVE

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="results")
    date = models.DateField(_("date"))
    test = models.CharField(_("test"), max_length=100)
    subject = models.CharField(_("subject"), max_length=100)
    score = models.CharField(_("score"), max_length=20)
    level = models.CharField(_("level"), max_length=20, blank=True)

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"result {self.pk}"


class ConversationReport(models.Model):
    retention_category = RetentionCategory.SUBSTANTIVE

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="conversations")
    date = models.DateField(_("date"))
    participants = EncryptedTextField(_("participants"))
    report = EncryptedTextField(_("report"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, editable=False)

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"conversation {self.pk}"


class Agreement(models.Model):
    retention_category = RetentionCategory.SUBSTANTIVE

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="agreements")
    date = models.DateField(_("date"))
    text = EncryptedTextField(_("agreement"))

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"agreement {self.pk}"


class Document(models.Model):
    """An uploaded file (S-20): type checked by content, size limited, kept
    encrypted in the database (never under static files), served only
    through the access check."""

    retention_category = RetentionCategory.SUBSTANTIVE

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="documents")
    conversation = models.ForeignKey(
        ConversationReport, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    filename = EncryptedTextField(_("file name"))
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    content = EncryptedTextField()  # base64 of the file, sealed like every other field
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)

    def __str__(self):
        return f"document {self.pk}"


class PaperDossier(models.Model):
    """The paper dossier holds only two documents (R-DOS-2)."""

    retention_category = RetentionCategory.ENROLMENT

    pupil = models.OneToOneField(Pupil, on_delete=models.CASCADE, related_name="paper_dossier")
    has_application_form = models.BooleanField(_("application/enrolment form present"), default=False)
    has_pupil_card = models.BooleanField(_("pupil card signed by a parent present"), default=False)
    location = models.CharField(_("where the paper dossier is kept"), max_length=200, blank=True)

    def __str__(self):
        return f"paper dossier {self.pk}"


class Assignment(models.Model):
    """R-ACC-2: what a trainee or short-term substitute may work on: a group or
    named pupils, which record types, from and until. Names pupils, so it
    goes with their substantive part (S-26)."""

    retention_category = RetentionCategory.SUBSTANTIVE

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    school = models.ForeignKey(School, on_delete=models.CASCADE)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, null=True, blank=True)
    pupils = models.ManyToManyField(Pupil, blank=True, related_name="assignments")
    record_types = models.JSONField(_("record types"), default=list)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    ended_recorded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"assignment #{self.pk}"


class Involvement(models.Model):
    """R-ACC-3: a support-team member's educational or pedagogical involvement
    with one pupil; mirrored as a django-guardian object permission. That a
    pupil has a support-team member is itself substantive (S-26)."""

    retention_category = RetentionCategory.SUBSTANTIVE

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="involvements")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="involvements")
    reason = models.CharField(_("involvement"), max_length=200)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    ended_recorded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"involvement #{self.pk}"
