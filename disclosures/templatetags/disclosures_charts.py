"""The disclosures app's chart for the home page: disclosures made per month
by legal basis (R-DIS-7, U-2), for the director and the IB of a school and
for the FG across the foundation.

An inclusion tag, so the core's home view imports nothing of this app. The
disclosures counted are those disclosures.policy.visible_disclosures lets
the user read, so a restricted one (suspected child abuse) counts for the
director and the IB, who may open it, and not for anyone else (S-12). A month
is the month of `disclosed_at` in local time. One query per chart.

Each number links to the disclosure log filtered by ?status=disclosed,
?month=YYYY-MM (of disclosed_at, local time) and ?legal_basis= as soon as the
log's filter form offers those filters (LOG_FILTERS); until then the card
links to the log as a whole.
"""

from urllib.parse import urlencode

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from disclosures.models import Disclosure, LegalBasis
from disclosures.policy import foundation_ids, membership_school_ids, visible_disclosures
from privacy_admin.charts import bar_chart, last_months, local_month_key, month_key, month_label, month_start

register = template.Library()

MONTHS = 12
LOG_URL_NAME = "disclosure_list"
# The filters of the disclosure log a number of this chart needs. The numbers
# link to the log once its filter form has them all; until then only the
# chart's card links to the log, unfiltered.
LOG_FILTERS = {"status", "month", "legal_basis"}


def _log_url():
    try:
        return reverse(LOG_URL_NAME)
    except NoReverseMatch:
        return ""


def _log_filters_ready():
    try:
        from disclosures.forms import LogFilterForm
    except ImportError:
        return False
    return LOG_FILTERS <= set(LogFilterForm.base_fields)


def disclosure_counts(disclosures, today=None):
    """(month keys, {(YYYY-MM, legal basis): count}) of the disclosures made
    in the last MONTHS months."""
    keys = last_months(today or timezone.localdate(), MONTHS)
    counts = {}
    rows = disclosures.filter(status=Disclosure.Status.DISCLOSED, disclosed_at__gte=month_start(*keys[0])).values_list(
        "disclosed_at", "legal_basis"
    )
    for disclosed_at, basis in rows:
        key = (local_month_key(disclosed_at), basis)
        counts[key] = counts.get(key, 0) + 1
    return keys, counts


def disclosure_chart(disclosures, *, chart_id, scope_label, school_id=None, today=None):
    keys, counts = disclosure_counts(disclosures, today)
    categories = [(month_key(y, m), month_label(y, m)) for y, m in keys]
    log = _log_url()
    links = {}
    if log and _log_filters_ready():
        extra = {"school": school_id} if school_id else {}
        for key, _label in categories:
            base = {**extra, "status": Disclosure.Status.DISCLOSED, "month": key}
            links[(key, None)] = f"{log}?{urlencode(base)}"
            for basis, _basis_label in LegalBasis.choices:
                links[(key, basis)] = f"{log}?{urlencode({**base, 'legal_basis': basis})}"
    return bar_chart(
        chart_id=chart_id,
        title=_("Disclosures per month (%(scope)s)") % {"scope": scope_label},
        description=_("Data given to third parties per month over the last %(n)s months, by legal basis.")
        % {"n": MONTHS},
        categories=categories,
        series=list(LegalBasis.choices),
        values=counts,
        links=links,
        value_label=_("Disclosures"),
        category_label=_("Month disclosed"),
        category_heading=_("Month"),
    )


@register.inclusion_tag("dashboard/disclosures_chart.html", takes_context=True)
def disclosures_per_month(context, scope):
    """scope "school": the schools where the user is director or IB (who may
    read restricted records); scope "foundation": every school of the
    foundation where the user is FG."""
    user = context["request"].user
    visible = visible_disclosures(user)
    chart = None
    if scope == "school":
        school_ids = membership_school_ids(user, "disclosures.restricted")
        if school_ids:
            chart = disclosure_chart(
                visible.filter(school_id__in=school_ids),
                chart_id="chart-disclosures-school",
                scope_label=_("school"),
                # The log lists all of the user's schools; one school is named.
                school_id=next(iter(school_ids)) if len(school_ids) == 1 else None,
            )
    elif scope == "foundation":
        foundations = foundation_ids(user, "disclosures.view")
        if foundations:
            chart = disclosure_chart(
                visible.filter(school__foundation_id__in=foundations),
                chart_id="chart-disclosures-foundation",
                scope_label=_("foundation"),
            )
    return {"chart": chart, "log_url": _log_url()}
