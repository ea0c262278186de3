"""The breaches app's charts and counts for the home page: incidents per
month by state, the time from noticing an incident to the decision about
notifying the AP (R-BRK-2), and the open incidents of a director's school.

Inclusion tags, so the core's home view imports nothing of this app.
Incidents come only through breaches.policy.visible_breaches, the filter of
the register, and each number links to the register filtered the same way
(?school=, ?month=, ?state=), so it lists exactly the incidents counted
(S-12). A month is the month the incident was noticed (aware_at) in local
time, as the register's month filter reads it. One query per chart.
"""

import statistics
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from breaches.models import Breach
from breaches.policy import visible_breaches
from privacy_admin.charts import (
    HALF_WIDTH,
    bar_chart,
    last_months,
    local_month_key,
    month_key,
    month_label,
    month_start,
)
from privacy_admin.roles import SchoolRole

register = template.Library()

MONTHS = 12


def _register_url(**params):
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{reverse('breach_register')}?{query}"


def breach_month_data(breaches, today=None):
    """{(month key, state): count} and {month key: [hours to decision]} of the
    incidents noticed in the last MONTHS months."""
    keys = last_months(today or timezone.localdate(), MONTHS)
    counts, hours = {}, {}
    rows = breaches.filter(aware_at__gte=month_start(*keys[0])).values_list("aware_at", "state", "decided_at")
    for aware_at, state, decided_at in rows:
        key = local_month_key(aware_at)
        counts[(key, state)] = counts.get((key, state), 0) + 1
        if decided_at is not None:
            hours.setdefault(key, []).append(max((decided_at - aware_at).total_seconds(), 0) / 3600)
    return keys, counts, hours


def breach_charts(breaches, *, chart_id, scope_label, school=None, today=None):
    """The two charts for one set of visible incidents; links carry `school`."""
    keys, counts, hours = breach_month_data(breaches, today)
    school_id = school.pk if school is not None else None
    categories = [(month_key(y, m), month_label(y, m)) for y, m in keys]
    states = list(Breach.State.choices)
    links = {}
    for key, _label in categories:
        links[(key, None)] = _register_url(school=school_id, month=key)
        for state, _state_label in states:
            links[(key, state)] = _register_url(school=school_id, month=key, state=state)
    per_month = bar_chart(
        chart_id=f"{chart_id}-months",
        title=_("Data breaches per month (%(scope)s)") % {"scope": scope_label},
        description=_("Incidents per month in which they were noticed, over the last %(n)s months, by their state now.")
        % {"n": MONTHS},
        categories=categories,
        series=[(state, label) for state, label in states],
        values=counts,
        links=links,
        value_label=_("Incidents"),
        category_label=_("Month noticed"),
        category_heading=_("Month"),
        width=HALF_WIDTH,
    )
    medians = {(key, "hours"): round(statistics.median(values), 1) for key, values in hours.items()}
    decided = {key: len(values) for key, values in hours.items()}
    decision = bar_chart(
        chart_id=f"{chart_id}-decision",
        title=_("Hours from noticing to the decision (%(scope)s)") % {"scope": scope_label},
        description=_(
            "Per month noticed, the median number of hours from noticing an incident to the decision whether "
            "to notify the AP, over the incidents decided so far. The AP's limit is 72 hours."
        ),
        categories=categories,
        series=[("hours", _("Median hours to the decision"))],
        values=medians,
        links={(key, "hours"): links[(key, None)] for key, _label in categories},
        value_label=_("Hours"),
        category_label=_("Month noticed"),
        category_heading=_("Month"),
        width=HALF_WIDTH,
    )
    return {"per_month": per_month, "decision": decision, "decided": decided}


def director_schools(user):
    return [m.school for m in user.memberships_today() if m.role == SchoolRole.DIRECTOR]


@register.inclusion_tag("dashboard/breaches_charts.html", takes_context=True)
def breach_overview(context, scope):
    """scope "foundation": every incident the user sees as FG, deputy or
    bestuurder, as the register lists them. scope "school": per school where
    the user is director, that school's incidents and how many are open."""
    user = context["request"].user
    panels = []
    visible = visible_breaches(user)
    if scope == "foundation" and user.foundation_roles_today():
        panels.append(
            {
                "heading": _("Data breaches across the foundation"),
                "charts": breach_charts(visible, chart_id="chart-breaches-foundation", scope_label=_("foundation")),
                "register_url": reverse("breach_register"),
            }
        )
    elif scope == "school":
        for school in director_schools(user):
            of_school = visible.filter(school=school)
            panels.append(
                {
                    "heading": _("Data breaches at %(school)s") % {"school": school.name},
                    "school": school,
                    "open": of_school.open().count(),
                    "open_url": _register_url(school=school.pk, state="open"),
                    "charts": breach_charts(
                        of_school, chart_id=f"chart-breaches-{school.pk}", scope_label=school.name, school=school
                    ),
                    "register_url": _register_url(school=school.pk),
                }
            )
    return {"panels": panels}
