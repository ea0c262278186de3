"""The register of recipients and processors, and the disclosure log
(R-DIS-1..7).

A Recipient is someone the school may give data to, with the legal basis,
the purpose and a whitelist of fields from the fixed catalogue
(disclosures/fields.py). A Disclosure is one act of giving data: who got
what, about which pupils, on what basis, asked by whom, approved by whom.
Disclosures are never edited after they are made; the retention engine
removes a pupil's DisclosurePupil rows when the disclosure term ends.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy_admin.models import Foundation, School
from privacy_admin.records import RetentionCategory


class LegalBasis(models.TextChoices):
    # R-DIS-7
    CONSENT = "consent", _("Consent")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")
    VITAL_INTEREST = "vital_interest", _("Vital interest")
    PUBLIC_TASK = "public_task", _("Public task")


class Recipient(models.Model):
    class Kind(models.TextChoices):
        STANDING = "standing", _("Standing recipient (administrative data for their task)")  # R-DIS-3
        CONSENT = "consent", _("Recipient with the parents' consent")  # R-DIS-1
        MANDATORY = "mandatory", _("Recipient of a mandatory disclosure")  # R-DIS-2
        PROCESSOR = "processor", _("Processor")  # R-DIS-5

    foundation = models.ForeignKey(Foundation, on_delete=models.CASCADE, related_name="recipients")
    # Empty: every school of the foundation (processors, CBS, Inspectie).
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="recipients")
    key = models.SlugField(_("key"), max_length=40, blank=True, help_text=_("Stable name for seeded recipients"))
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    purpose = models.TextField(_("purpose"))
    # Keys of disclosures.fields.CATALOGUE: the whitelist, nothing else leaves.
    fields = models.JSONField(_("allowed fields"), default=list, blank=True)
    # R-DIS-1: the consent category whose "yes" allows a consent-based disclosure.
    consent_category = models.ForeignKey(
        "consent.ConsentCategory", on_delete=models.PROTECT, null=True, blank=True, related_name="recipients"
    )
    # R-DIS-3 (Mondzorg voor Kids): only pupils with Pupil.mondzorg_registered.
    registered_pupils_only = models.BooleanField(_("only pupils registered for it by their parents"), default=False)
    # R-DIS-5: the processing agreement (verwerkersovereenkomst).
    agreement_signed_on = models.DateField(_("processing agreement signed"), null=True, blank=True)
    agreement_expires_on = models.DateField(_("processing agreement expires"), null=True, blank=True)
    agreement_filename = models.CharField(_("agreement document"), max_length=200, blank=True)
    agreement_content_type = models.CharField(max_length=100, blank=True)
    agreement_content = models.TextField(blank=True, help_text="base64")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["foundation", "school", "key"], condition=~models.Q(key=""), name="recipient_key_unique"
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        """The whitelist holds catalogue keys only, and a processor's at most
        name, birth date and year group (R-DIS-5)."""
        from disclosures import fields as catalogue

        errors = {}
        if not isinstance(self.fields, list) or catalogue.unknown(self.fields):
            errors["fields"] = _("The allowed fields must come from the catalogue of dossier fields.")
        elif self.kind == self.Kind.PROCESSOR and set(self.fields) - set(catalogue.PROCESSOR_FIELDS):
            errors["fields"] = _("A processor receives at most name, birth date and year group.")
        if self.kind == self.Kind.CONSENT and self.consent_category_id is None:
            errors["consent_category"] = _("A recipient with consent needs the consent question it depends on.")
        if self.kind == self.Kind.CONSENT and self.legal_basis != LegalBasis.CONSENT:
            errors["legal_basis"] = _("A recipient with consent has consent as its legal basis.")
        if errors:
            raise ValidationError(errors)

    # R-DIS-5: the processing agreement (verwerkersovereenkomst).
    AGREEMENT_WARN_DAYS = 60

    def agreement_state(self, today=None):
        """The state of a processor's agreement: ok, expiring (within
        AGREEMENT_WARN_DAYS), expired, or missing (not signed, or no document);
        None for a recipient that is not a processor."""
        if self.kind != self.Kind.PROCESSOR:
            return None
        today = today or timezone.localdate()
        if self.agreement_signed_on is None or not self.agreement_content:
            return "missing"
        if self.agreement_expires_on is not None and self.agreement_expires_on < today:
            return "expired"
        if self.agreement_expires_on is not None and self.agreement_expires_on <= today + datetime.timedelta(
            days=self.AGREEMENT_WARN_DAYS
        ):
            return "expiring"
        return "ok"

    @property
    def field_labels(self):
        from disclosures import fields as catalogue

        return catalogue.labels(self.fields)


class Disclosure(models.Model):
    class Kind(models.TextChoices):
        STANDING_EXPORT = "standing", _("Export to a standing recipient")  # R-DIS-3
        CONSENT = "consent", _("Disclosure with consent")  # R-DIS-1
        PROCESSOR = "processor", _("Export to a processor")  # R-DIS-5
        TRANSFER = "transfer", _("Transfer to another school (onderwijskundig rapport)")  # R-DIS-2
        INSPECTIE = "inspectie", _("Request of the Inspectie van het Onderwijs")  # R-DIS-2, U-2
        EMERGENCY = "emergency", _("Emergency")  # R-DIS-2
        LEERPLICHT = "leerplicht", _("Report to the leerplichtambtenaar")  # R-DIS-2
        CHILD_ABUSE = "child_abuse", _("Suspected child abuse")  # R-DIS-2
        NCO = "nco", _("NCO export to CBS")  # R-DIS-4

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the director")
        REFUSED = "refused", _("Refused")
        DISCLOSED = "disclosed", _("Disclosed")

    class Method(models.TextChoices):
        CSV = "csv", _("CSV file")
        PDF = "pdf", _("PDF document")
        INSPECTION = "inspection", _("Inspected at school")
        PHONE = "phone", _("By telephone")
        SECURE_LINK = "secure_link", _("Secure file transfer")
        IN_PERSON = "in_person", _("In person")

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="disclosures")
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="disclosures")
    # Who exactly, where the register entry is generic (the receiving school,
    # the hospital, the inspector's name).
    recipient_detail = models.CharField(_("recipient (details)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    purpose = models.TextField(_("purpose"))
    fields = models.JSONField(_("fields"), default=list)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    disclosed_at = models.DateTimeField(_("disclosed"), null=True, blank=True)
    # Break-glass (emergency): the director reviews afterwards.
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.TextField(_("review"), blank=True)
    # Suspected child abuse: visible to the director and IB only.
    restricted = models.BooleanField(_("restricted"), default=False)
    # Number of pupils, also for a bulk export (NCO) where it is the main fact.
    pupil_count = models.PositiveIntegerField(_("number of pupils"), default=0)

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["school", "status"])]

    def __str__(self):
        return f"disclosure #{self.pk}"

    @property
    def field_labels(self):
        from disclosures import fields as catalogue

        return catalogue.labels(self.fields)

    @property
    def is_disclosed(self):
        return self.status == self.Status.DISCLOSED

    @property
    def awaits_review(self):
        return self.kind == self.Kind.EMERGENCY and self.is_disclosed and self.reviewed_at is None


class DisclosurePupil(models.Model):
    """A pupil a disclosure was about: what the pupil's Verstrekkingen tab and
    the parents see (R-DIS-7)."""

    retention_category = RetentionCategory.DISCLOSURES

    disclosure = models.ForeignKey(Disclosure, on_delete=models.CASCADE, related_name="pupils")
    pupil = models.ForeignKey("students.Pupil", on_delete=models.CASCADE, related_name="disclosures")
    # The transfer report: the parents' view, added to what goes with it.
    parent_view = models.TextField(_("the parents' view"), blank=True)

    class Meta:
        verbose_name = _("pupil of a disclosure")
        constraints = [models.UniqueConstraint(fields=["disclosure", "pupil"], name="disclosure_pupil_unique")]

    def __str__(self):
        return f"disclosure #{self.disclosure_id} pupil"
