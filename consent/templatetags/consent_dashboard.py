"""The consent app's panels of the home page: publications a teacher must take
down, and the consent coverage per category of each group, as charts.

Inclusion tags, so the core's home view imports nothing of this app. The
coverage counts the pupils the consent matrix of the group lists (the same
query: visible_pupils of the group, for a user with all pupils of the school
in view) and the effective answers of consent.services, so each number is the
number of rows the matrix shows (S-12). A constant number of queries, however
many pupils and groups.
"""

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from consent import services
from consent.forms_staff import ui_language
from consent.models import ConsentCategory
from consent.publications import publication_schools
from privacy_admin.charts import HALF_WIDTH, bar_chart
from privacy_admin.models import Group
from privacy_admin.roles import SchoolRole, capabilities_for
from students.policy import visible_pupils

register = template.Library()

FULL_ACCESS = "dossier.all_pupils"
YES, NO, NONE = "yes", "no", "none"


def coverage_school_ids(user, scope):
    """Schools whose coverage this section shows. "director": where the user
    is director; "teacher": the other schools where the user has all pupils
    in view (a director who also teaches there sees it once)."""
    memberships = user.memberships_today()
    director = {m.school_id for m in memberships if m.role == SchoolRole.DIRECTOR}
    if scope == "director":
        return director
    full = {m.school_id for m in memberships if FULL_ACCESS in capabilities_for(m.role)}
    return full - director


def _bucket(category, state):
    """yes / no / none for one pupil and category. For an objection (NCO) a
    parent's answer "no" is the objection; with no answer the pupil takes
    part, but it is still counted as no answer here."""
    if state.state in ("given",) or (state.state == "no_objection" and state.answers):
        return YES
    if state.state in ("refused", "objected"):
        return NO
    return NONE


def consent_coverage(user, school_ids):
    """[{group, pupils, chart, matrix_url, counts}] for the groups of
    `school_ids` with pupils the user may see; counts[(category_id, bucket)]."""
    if not school_ids:
        return []
    pupils = list(
        visible_pupils(user)
        .filter(school_id__in=school_ids, group__isnull=False)
        .only("pk", "school_id", "group_id")
        .order_by("pk")
    )
    if not pupils:
        return []
    categories = list(ConsentCategory.objects.filter(school_id__in=school_ids, active=True))
    groups = Group.objects.filter(pk__in={p.group_id for p in pupils}).select_related("school")
    effective = services.effective_answers(pupils, categories)
    language = ui_language()
    by_group = {}
    for pupil in pupils:
        by_group.setdefault(pupil.group_id, []).append(pupil)
    result = []
    for group in groups.order_by("school__name", "grade", "name"):
        members = by_group[group.pk]
        own = [c for c in categories if c.school_id == group.school_id]
        counts = {}
        for category in own:
            for pupil in members:
                key = (category.pk, _bucket(category, effective[(pupil.pk, category.pk)]))
                counts[key] = counts.get(key, 0) + 1
        matrix_url = reverse("consent_matrix", args=[group.pk])
        rows = []
        for category in own:
            label = category.label(language)
            if category.kind == ConsentCategory.Kind.OBJECTION:
                label = _("%(label)s (objection)") % {"label": label}
            rows.append((str(category.pk), label))
        values = {(str(c), bucket): n for (c, bucket), n in counts.items()}
        links = {(key, series): matrix_url for key, _label in rows for series in (YES, NO, NONE, None)}
        chart = bar_chart(
            chart_id=f"chart-consent-{group.pk}",
            title=_("Consent in %(group)s (%(school)s)") % {"group": group.name, "school": group.school.name},
            description=_(
                "Per category, the share of the %(n)s pupils of the group whose parents answered yes, "
                "answered no, or gave no answer. For an objection, no is the objection."
            )
            % {"n": len(members)},
            categories=rows,
            series=[(YES, _("Yes"), "chart-yes"), (NO, _("No"), "chart-no"), (NONE, _("No answer"), "chart-none")],
            values=values,
            links=links,
            horizontal=True,
            percent=True,
            value_label=_("Share of the pupils of the group"),
            category_heading=_("Category"),
            width=HALF_WIDTH,
        )
        result.append(
            {"group": group, "pupils": len(members), "chart": chart, "matrix_url": matrix_url, "counts": counts}
        )
    return result


@register.inclusion_tag("dashboard/consent_coverage.html", takes_context=True)
def consent_coverage_charts(context, scope):
    user = context["request"].user
    return {"groups": consent_coverage(user, coverage_school_ids(user, scope)), "scope": scope}


@register.inclusion_tag("dashboard/consent_takedowns.html", takes_context=True)
def consent_takedowns(context):
    """Live publications of this user that show a pupil no longer cleared
    (R-CON-4), at schools the user still works at: the publication list's
    own filter."""
    user = context["request"].user
    school_ids = set(publication_schools(user).values_list("pk", flat=True))
    rows = []
    if school_ids:
        rows = [
            {"publication": p, "blocked": len(blocked)}
            for p, blocked in services.takedown_list(user)
            if p.school_id in school_ids
        ]
    return {"rows": rows, "shown": bool(school_ids)}
