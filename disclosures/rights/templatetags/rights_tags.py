"""The director's open parents' requests near or past their deadline, for
the dashboard (R-RGT-3): `{% load rights_tags %}{% rights_overdue %}`. An
inclusion tag, so the core's home view needs no import of this app."""

import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from disclosures.rights import deadlines
from disclosures.rights.policy import HANDLE, handled_requests

register = template.Library()


@register.inclusion_tag("rights/_overdue.html", takes_context=True)
def rights_overdue(context):
    user = context["request"].user
    handles = user.has_capability(HANDLE)
    rows = []
    if handles:
        today = timezone.localdate()
        horizon = today + datetime.timedelta(days=deadlines.WARN_DAYS[0])
        found = handled_requests(user).open().filter(due_on__lte=horizon).select_related("pupil").order_by("due_on")
        rows = [{"r": r, "left": r.days_left(today)} for r in found]
    return {"handles": handles, "rows": rows}


@register.filter
def days_left_text(parent_request):
    """R-RGT-3 on the page: "12 days left", "due today", "3 days overdue";
    for an answered request, when it was answered."""
    if not parent_request.is_open:
        return _("answered on %(date)s") % {"date": timezone.localtime(parent_request.answered_at).strftime("%d-%m-%Y")}
    left = parent_request.days_left()
    if left > 0:
        return ngettext("%(n)s day left", "%(n)s days left", left) % {"n": left}
    if left == 0:
        return _("due today")
    return ngettext("%(n)s day overdue", "%(n)s days overdue", -left) % {"n": -left}
