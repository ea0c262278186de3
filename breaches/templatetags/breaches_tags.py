"""The FG's open incidents on the dashboard, with their clocks (R-BRK-1, R-BRK-2).
An inclusion tag, so the core's home view needs no import of this app."""

from django import template

from breaches.clock import countdown
from breaches.policy import visible_breaches

register = template.Library()


@register.inclusion_tag("breaches/_dashboard.html", takes_context=True)
def breach_dashboard(context):
    user = context["request"].user
    rows = []
    if user.has_capability("breach.manage"):
        for breach in visible_breaches(user).open().select_related("school").order_by("aware_at"):
            css, text = countdown(breach)
            rows.append({"breach": breach, "clock_class": css, "clock": text})
    return {"rows": rows, "manage": user.has_capability("breach.manage")}
