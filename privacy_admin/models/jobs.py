"""A record of every background job run, shown to the application admin."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    class Outcome(models.TextChoices):
        RUNNING = "running", _("running")
        OK = "ok", _("succeeded")
        FAILED = "failed", _("failed")

    name = models.CharField(_("job"), max_length=100, db_index=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    # Exception class name only: messages can carry data.
    error = models.CharField(_("error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("job run")
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.name} {self.started_at:%Y-%m-%d %H:%M}"
