"""The retention app's panels of the home page: what is due today per school
and category for the application admin (U-3), and a forecast of the pupils
whose data falls due per month over the next 24 months, per category, for the
application admin (the director's home page shows none: its numbers would
link to a list only the application admin may open, S-12).

Inclusion tags, so the core's home view imports nothing of this app; like
the engine, this module knows no other app by name (the pupil model and the
unenrolment date come through retention.engine).

Due today is retention.engine.due(), as the retention screen counts it; each
number links to the screen's list of the pupils behind it. The forecast takes
every pupil who left once (one query, whatever their number), with whether
they still have data of each category, and counts them in the month of the
category's due date (engine.due_dates, so the unenrolment date goes last as
in the purge). A number of month M is the number of rows of the retention
screen's pupil list at the end of month M whose due date lies in month M.
Pupils under a legal hold are counted: their data falls due, the purge skips
them.
"""

import calendar
import datetime
from functools import reduce
from operator import or_

from django import template
from django.db.models import Exists, OuterRef, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from privacy_admin.charts import bar_chart, month_key, month_label, month_range
from privacy_admin.models import School
from privacy_admin.records import RetentionCategory
from privacy_admin.roles import capabilities_for
from retention import engine
from retention.models import RetentionRule

register = template.Library()

FORECAST_MONTHS = 24
RUN = "retention.run"


def _url(name, *args, query=""):
    """The retention screen's URL, or "" while it does not exist."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{query}" if query else url


def _rules():
    return {(rule.category, rule.condition): rule for rule in RetentionRule.objects.all()}


def admin_school_ids(user):
    return {m.school_id for m in user.memberships_today() if RUN in capabilities_for(m.role)}


# --- due today (the application admin) ---------------------------------------------


def due_today(user, today=None):
    """[{school, rows: [{category, label, due, held, url}], pupils, overview_url}]
    for the schools where the user runs purges."""
    today = today or timezone.localdate()
    result = []
    schools = list(School.objects.filter(pk__in=admin_school_ids(user)).order_by("name"))
    reports = engine.due_by_school(today, schools)
    for school in schools:
        report = reports[school.pk]
        rows = []
        for category in engine.CATEGORIES:
            due = len(report.pupils.get(category, []))
            held = len(report.held_by_category.get(category, []))
            if not (due or held):
                continue
            rows.append(
                {
                    "category": category,
                    "label": RetentionCategory(category).label,
                    "due": due,
                    "held": held,
                    "url": _url("retention_due_pupils", school.pk, category),
                }
            )
        result.append(
            {
                "school": school,
                "rows": rows,
                "pupils": len({pk for ids in report.pupils.values() for pk in ids}),
                "overview_url": _url("retention_overview"),
            }
        )
    return result


@register.inclusion_tag("dashboard/retention_due.html", takes_context=True)
def retention_due(context):
    user = context["request"].user
    return {"schools": due_today(user) if user.has_capability(RUN) else []}


# --- the forecast ------------------------------------------------------------------


def _has_data(category):
    """An expression: the pupil still has rows of `category`; None when no
    model holds that category."""
    exists = []
    for _kind, model, fields in engine.category_links(category):
        condition = reduce(or_, [Q(**{name: OuterRef("pk")}) for name in fields])
        exists.append(Exists(model._base_manager.filter(condition)))
    return reduce(or_, exists) if exists else None


def _forecast_categories(rules):
    """Categories with a term that ends (not permanent) and data to hold."""
    result = []
    for category in engine.CATEGORIES:
        terms = [rule for (cat, _condition), rule in rules.items() if cat == category]
        if any(not rule.permanent for rule in terms) and engine.category_links(category):
            result.append(category)
    return result


def forecast(school_ids, today=None):
    """(months, categories, {(school id, YYYY-MM, category): pupils}) for the
    months from today's on: pupils whose data of the category falls due after
    today, in the month it falls due."""
    today = today or timezone.localdate()
    months = month_range(today.year, today.month, FORECAST_MONTHS)
    last_year, last_month = months[-1]
    horizon = datetime.date(last_year, last_month, calendar.monthrange(last_year, last_month)[1])
    rules = _rules()
    categories = _forecast_categories(rules)
    counts = {}
    if not school_ids or not categories:
        return months, categories, counts
    flags = {f"has_{category}": _has_data(category) for category in categories}
    leavers = (
        engine.pupil_model()
        ._base_manager.filter(school_id__in=school_ids, **{f"{engine.LEFT_ON}__isnull": False})
        .annotate(**flags)
        .values_list("school_id", engine.LEFT_ON, engine.DESTINATION, *flags)
    )
    for school_id, left_on, destination, *has in leavers:
        dates = engine.due_dates(left_on, destination == engine.SPECIAL, rules)
        for category, present in zip(categories, has, strict=True):
            day = dates.get(category)
            if present and day is not None and today < day <= horizon:
                key = (school_id, month_key(day.year, day.month), category)
                counts[key] = counts.get(key, 0) + 1
    return months, categories, counts


def month_end(year, month):
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def forecast_charts(school_ids, today=None):
    """One chart per school; every number links to the retention screen's
    pupil list behind it."""
    months, categories, counts = forecast(school_ids, today)
    charts = []
    for school in School.objects.filter(pk__in=school_ids).order_by("name"):
        values, links = {}, {}
        for (school_id, key, category), n in counts.items():
            if school_id == school.pk:
                values[(key, category)] = n
        for year, month in months:
            as_of = f"as_of={month_end(year, month).isoformat()}"
            for category in categories:
                url = _url("retention_due_pupils", school.pk, category, query=as_of)
                if url:
                    links[(month_key(year, month), category)] = url
        charts.append(
            bar_chart(
                chart_id=f"chart-retention-{school.pk}",
                title=_("Data falling due per month (%(school)s)") % {"school": school.name},
                description=_(
                    "Per month over the next %(n)s months, the pupils who left whose data of each category "
                    "falls due under the retention terms (counted from the unenrolment date). Pupils under a "
                    "legal hold are counted too; the purge skips them."
                )
                % {"n": FORECAST_MONTHS},
                categories=[(month_key(y, m), month_label(y, m)) for y, m in months],
                series=[(category, RetentionCategory(category).label) for category in categories],
                values=values,
                links=links,
                value_label=_("Pupils"),
                category_label=_("Month due"),
                category_heading=_("Month"),
            )
        )
    return charts


@register.inclusion_tag("dashboard/retention_forecast.html", takes_context=True)
def retention_forecast(context):
    """The forecast for the schools where the user runs purges."""
    return {"charts": forecast_charts(admin_school_ids(context["request"].user))}
