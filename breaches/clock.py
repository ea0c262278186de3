"""The 72-hour countdown as text, rendered on the server (no JavaScript)."""

from django.utils import timezone
from django.utils.translation import gettext as _


def _hours_minutes(delta):
    minutes = int(abs(delta).total_seconds() // 60)
    return minutes // 60, minutes % 60


def countdown(breach, now=None):
    """(css class, text) for the AP deadline of `breach`."""
    now = now or timezone.now()
    if breach.ap_notified_at:
        return "clock-done", _("AP notified")
    if breach.decided_at and not breach.ap_notify:
        return "clock-done", _("Decided: no notification to the AP")
    left = breach.deadline - now
    hours, minutes = _hours_minutes(left)
    if left.total_seconds() < 0:
        return "clock-late", _("Deadline passed %(h)d h %(m)d min ago") % {"h": hours, "m": minutes}
    css = "clock-urgent" if hours < 12 else "clock-running"
    return css, _("%(h)d h %(m)d min left") % {"h": hours, "m": minutes}
