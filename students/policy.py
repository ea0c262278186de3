"""The access policy: who may see and change which pupil's dossier, and on
what ground (R-ACC-1..3, S-11..S-14). The one way in.

Every view, list, search, count, export and task gets pupils through
`visible_pupils()` or `dossier_access()`. A pupil of another school, outside
an assignment, or that does not exist is the same 404 (S-11). Grants are
checked against today's date on every request, so an expired one stops at
once (S-14).
"""

from dataclasses import dataclass, field

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from privacy_admin.roles import SchoolRole, capabilities_for
from students.models import Assignment, Involvement, Pupil

ADMIN_TYPES = ("contact", "enrolment_event", "attendance", "funding")
SUBSTANTIVE_TYPES = ("support", "health", "progress", "conversation", "agreement", "document")
RECORD_TYPES = ADMIN_TYPES + SUBSTANTIVE_TYPES
# What an assignment can cover: never health data, which temporary teachers do
# not need (S-13).
ASSIGNABLE_TYPES = tuple(t for t in RECORD_TYPES if t != "health")
INVOLVED_PERMISSION = "students.view_dossier_as_involved"


@dataclass(frozen=True)
class DossierAccess:
    pupil: Pupil
    ground: str
    view_types: frozenset = field(default_factory=frozenset)
    edit_types: frozenset = field(default_factory=frozenset)
    edit_core: bool = False  # name, birth date, group, guardians, enrolment
    sees_bsn: bool = False
    sees_health: bool = False

    def can_view(self, record_type):
        if record_type == "health" and not self.sees_health:
            return False
        return record_type in self.view_types

    def can_edit(self, record_type):
        return self.can_view(record_type) and record_type in self.edit_types

    @property
    def sees_substantive(self):
        return any(self.can_view(t) for t in SUBSTANTIVE_TYPES)

    @property
    def sees_admin(self):
        return any(self.can_view(t) for t in ADMIN_TYPES)


def _current_memberships(user, today):
    if today == timezone.localdate():
        return user.memberships_today()
    return list(user.memberships.current(today).select_related("school"))


def _full_access_school_ids(memberships):
    return {m.school_id for m in memberships if "dossier.all_pupils" in capabilities_for(m.role)}


def _schools_with_role(user, role, today):
    return [m.school_id for m in _current_memberships(user, today) if m.role == role]


def _assignments(user, today):
    """Current assignments, at schools where the user is a temporary teacher
    today: an expired membership ends them too (S-14)."""
    return Assignment.objects.filter(
        user=user,
        valid_from__lte=today,
        valid_until__gte=today,
        school_id__in=_schools_with_role(user, SchoolRole.TEMP_TEACHER, today),
    )


def _involved_pupil_ids(user):
    """Pupils the user holds the django-guardian involvement permission for."""
    from django.contrib.contenttypes.models import ContentType
    from guardian.models import UserObjectPermission

    rows = UserObjectPermission.objects.filter(
        user=user,
        permission__codename=INVOLVED_PERMISSION.split(".")[1],
        content_type=ContentType.objects.get_for_model(Pupil),
    ).values_list("object_pk", flat=True)
    return [int(pk) for pk in rows]


def _involvements(user, today):
    """Current involvements backed by the guardian permission, at schools where
    the user is a support-team member today."""
    return Involvement.objects.filter(
        user=user,
        valid_from__lte=today,
        valid_until__gte=today,
        pupil__school_id__in=_schools_with_role(user, SchoolRole.SUPPORT, today),
        pupil_id__in=_involved_pupil_ids(user),
    )


def visible_pupils(user, today=None):
    """Every pupil the user may open: the same filter for lists, search,
    counts and exports as for the dossier itself (S-12)."""
    if not (user.is_authenticated and user.is_active):
        return Pupil.objects.none()
    today = today or timezone.localdate()
    memberships = _current_memberships(user, today)
    roles = {m.role for m in memberships}
    condition = Q(school_id__in=_full_access_school_ids(memberships))
    if SchoolRole.TEMP_TEACHER in roles:
        assignments = _assignments(user, today)
        condition |= Q(
            group__in=assignments.exclude(group=None).values("group"), school_id__in=assignments.values("school_id")
        )
        condition |= Q(assignments__in=assignments)
    if SchoolRole.SUPPORT in roles:
        condition |= Q(involvements__in=_involvements(user, today))
    return Pupil.objects.filter(condition).distinct()


def dossier_access(user, pupil_id, today=None):
    """The user's access to one pupil's dossier, with its ground; 404 when
    there is none, the same as for a pupil that does not exist (S-11)."""
    today = today or timezone.localdate()
    pupil = visible_pupils(user, today).select_related("school", "group").filter(pk=pupil_id).first()
    if pupil is None:
        raise Http404
    memberships = [m for m in _current_memberships(user, today) if m.school_id == pupil.school_id]
    caps = set()
    for m in memberships:
        caps |= capabilities_for(m.role)

    full = [m for m in memberships if "dossier.all_pupils" in capabilities_for(m.role)]
    if full:
        return DossierAccess(
            pupil=pupil,
            ground=f"{full[0].get_role_display()} {pupil.school.brin}",
            view_types=frozenset(RECORD_TYPES),
            edit_types=frozenset(RECORD_TYPES),
            edit_core=True,
            sees_bsn="pupil.bsn" in caps,
            sees_health="pupil.health" in caps,
        )

    involvement = _involvements(user, today).filter(pupil=pupil).order_by("-valid_until").first()
    if involvement is not None:
        return DossierAccess(
            pupil=pupil,
            ground=f"betrokkenheid #{involvement.pk}",
            view_types=frozenset(RECORD_TYPES),
            edit_types=frozenset(),
            sees_health="pupil.health" in caps,
        )

    assignment = (
        _assignments(user, today)
        .filter(Q(group_id=pupil.group_id, group__isnull=False) | Q(pupils=pupil), school_id=pupil.school_id)
        .order_by("-valid_until")
        .first()
    )
    if assignment is not None:
        allowed = frozenset(t for t in assignment.record_types if t in ASSIGNABLE_TYPES)
        return DossierAccess(
            pupil=pupil,
            ground=f"opdracht #{assignment.pk} tot {assignment.valid_until:%Y-%m-%d}",
            view_types=allowed,
            edit_types=allowed,
        )
    raise Http404


def record_for(access, model, record_id):
    """A record of the pupil in `access`: 404 if it belongs to another pupil."""
    record = model.objects.filter(pk=record_id, pupil=access.pupil).first()
    if record is None:
        raise Http404
    return record
