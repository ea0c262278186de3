"""The students app's panels of the home page: the groups a staff member works
with, grants of their own that end soon, the assignments of temporary teachers
that end soon (for the director), and the number of pupil dossiers of the
director's school.

Inclusion tags, so the core's home view imports nothing of this app. Every
panel reads pupils and groups through students.policy, the same filter as the
lists its numbers link to (S-12): the count of a group is the number of rows
its group page shows.
"""

from datetime import timedelta

from django import template
from django.db.models import Count, Q
from django.utils import timezone

from privacy_admin.models import Membership
from privacy_admin.roles import SchoolRole
from students.grants import managed_assignments
from students.models import Assignment, Involvement, Pupil
from students.policy import visible_pupils
from students.views import _visible_groups

register = template.Library()

# Grants and temporary roles ending within this many days are shown as tasks.
ENDING_SOON_DAYS = 14


def _ending_window(today=None):
    today = today or timezone.localdate()
    return today, today + timedelta(days=ENDING_SOON_DAYS)


def groups_with_counts(user):
    """The groups of the group list, with the pupils of each the user may see:
    the same query as students.views.group_list."""
    pupils = visible_pupils(user)
    return _visible_groups(user).annotate(visible_count=Count("pupils", filter=Q(pupils__in=pupils), distinct=True))


@register.inclusion_tag("dashboard/students_groups.html", takes_context=True)
def teacher_groups(context):
    user = context["request"].user
    return {"groups": list(groups_with_counts(user))}


def own_grants_ending(user, today=None):
    """The user's own assignments, involvements and temporary roles that are
    in force today and end within ENDING_SOON_DAYS."""
    today, until = _ending_window(today)
    current = Q(valid_from__lte=today, valid_until__gte=today, valid_until__lte=until)
    assignments = (
        Assignment.objects.filter(current, user=user).select_related("group", "school").order_by("valid_until")
    )
    involvements = Involvement.objects.filter(current, user=user).select_related("pupil").order_by("valid_until")
    roles = (
        Membership.objects.current(today)
        .filter(user=user, valid_until__lte=until)
        .select_related("school")
        .order_by("valid_until")
    )
    return {"assignments": list(assignments), "involvements": list(involvements), "roles": list(roles)}


@register.inclusion_tag("dashboard/students_own_grants.html", takes_context=True)
def own_grants_expiring(context):
    user = context["request"].user
    return {**own_grants_ending(user), "days": ENDING_SOON_DAYS}


def assignments_ending(user, today=None):
    """Assignments of temporary teachers at the schools where the user manages
    grants that are in force and end within ENDING_SOON_DAYS."""
    today, until = _ending_window(today)
    return list(
        managed_assignments(user)
        .filter(valid_from__lte=today, valid_until__gte=today, valid_until__lte=until, ended_recorded_at=None)
        .select_related("user", "group", "school")
        .order_by("valid_until", "pk")
    )


@register.inclusion_tag("dashboard/students_assignments.html", takes_context=True)
def assignments_expiring(context):
    user = context["request"].user
    return {
        "assignments": assignments_ending(user) if user.has_capability("grants.manage") else [],
        "manage": user.has_capability("grants.manage"),
        "days": ENDING_SOON_DAYS,
    }


def director_school_ids(user):
    return sorted({m.school_id for m in user.memberships_today() if m.role == SchoolRole.DIRECTOR})


def school_pupil_counts(user):
    """Per school where the user is director: the pupil dossiers the user may
    open there (those who left included, as in the pupil search). Returns
    ([{school, count}], total the pupil search lists)."""
    school_ids = director_school_ids(user)
    visible = visible_pupils(user)
    counts = dict(
        Pupil.objects.filter(pk__in=visible.values("pk"), school_id__in=school_ids)
        .values_list("school_id")
        .annotate(n=Count("pk"))
        .values_list("school_id", "n")
    )
    schools = {m.school_id: m.school for m in user.memberships_today() if m.school_id in school_ids}
    rows = [{"school": schools[pk], "count": counts.get(pk, 0)} for pk in school_ids]
    return rows, visible.count()


@register.inclusion_tag("dashboard/students_pupils.html", takes_context=True)
def school_pupils(context):
    user = context["request"].user
    rows, total = school_pupil_counts(user)
    # The pupil search lists every pupil the user may open; its count is the
    # school's only when the user sees no pupil of another school.
    for row in rows:
        row["search_matches"] = row["count"] == total
    return {"rows": rows}
