"""The school's own texts around the generated statement, and the published
versions of the statement.

A StatementVersion holds the statement exactly as it was published, in both
languages (the rendered HTML of its sections), so an old version reads the
same for ever, whatever the configuration says now. `digest` is the SHA-256
of that content; `source_digest` is the SHA-256 of what it was generated from
(the configuration facts and the templates), which lets a caller see that
nothing changed without rendering anything. Neither model holds pupil data.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from privacy_admin.models import School

TEXT_MAX_LENGTH = 5000


class StatementText(models.Model):
    """The introduction and closing text a school writes around the generated
    sections, in Dutch and English. Edited by the director or the application
    admin; every change is audited and makes a new version."""

    school = models.OneToOneField(School, on_delete=models.CASCADE, related_name="statement_text")
    intro_nl = models.TextField(_("introduction (Dutch)"), blank=True, max_length=TEXT_MAX_LENGTH)
    intro_en = models.TextField(_("introduction (English)"), blank=True, max_length=TEXT_MAX_LENGTH)
    closing_nl = models.TextField(_("closing text (Dutch)"), blank=True, max_length=TEXT_MAX_LENGTH)
    closing_en = models.TextField(_("closing text (English)"), blank=True, max_length=TEXT_MAX_LENGTH)
    updated_at = models.DateTimeField(_("changed"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("privacy statement texts")
        verbose_name_plural = _("privacy statement texts")

    def __str__(self):
        return f"statement texts {self.school_id}"


class StatementVersion(models.Model):
    """One published version: never changed after it is made."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="statement_versions")
    number = models.PositiveIntegerField(_("version"))
    published_at = models.DateTimeField(_("published"))
    content_nl = models.TextField()
    content_en = models.TextField()
    digest = models.CharField(max_length=64)
    source_digest = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("privacy statement version")
        verbose_name_plural = _("privacy statement versions")
        ordering = ["school", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["school", "number"], name="statement_version_unique"),
        ]

    def __str__(self):
        return f"statement {self.school_id} v{self.number}"

    def content(self, language):
        return self.content_en if language == "en" else self.content_nl
