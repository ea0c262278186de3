"""The one way in to a parent's request (STYLE 1, S-11, S-12).

Staff: the director (`rights.handle`) sees and handles every request of
their school; the staff member named for a viewing opens that viewing's
overview and records it, while the dossier policy still gives them the
pupil. Parents: a signed-in parent sees only the requests filed with their
own address, for a child still linked to it. Anything else is a 404, the same
as a request that does not exist.
"""

from django.http import Http404

from consent.parents import parent_children
from disclosures.rights.models import ParentRequest
from privacy_admin.models import Membership, User
from privacy_admin.roles import ROLE_CAPABILITIES, SchoolRole
from students.policy import dossier_access

HANDLE = "rights.handle"
DECIDE = "requests.decide"
# Who may be named as present at a viewing: roles that see the whole dossier
# of every pupil of the school (R-ACC-1), so the overview is theirs to show.
PRESENT_ROLES = [role for role in SchoolRole if "dossier.all_pupils" in ROLE_CAPABILITIES[role]]
VIEWING_STATES = (ParentRequest.Status.SCHEDULED, ParentRequest.Status.VIEWED)
# The key of the dossier tab this app registers (apps.py).
REQUESTS_TAB = "requests"


def handled_requests(user):
    """Every request of the schools where the user handles parents' requests."""
    if not (user.is_authenticated and user.is_active):
        return ParentRequest.objects.none()
    return ParentRequest.objects.filter(pupil__school__in=user.schools_with(HANDLE))


def handled_request(user, request_id):
    found = (
        handled_requests(user)
        .select_related("pupil", "pupil__school", "guardian", "present_staff")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def may_decide(user, parent_request):
    return user.has_capability(DECIDE, parent_request.pupil.school_id)


def viewing_access(user, request_id):
    """(request, dossier access) for the overview and the record of a viewing:
    the director of the school, or the staff member named as present. Both
    still need access to the pupil's dossier today (S-14)."""
    found = (
        ParentRequest.objects.select_related("pupil", "pupil__school", "guardian", "present_staff")
        .filter(pk=request_id, kind=ParentRequest.Kind.VIEW, status__in=VIEWING_STATES)
        .first()
    )
    if found is None:
        raise Http404
    handler = user.has_capability(HANDLE, found.pupil.school_id)
    present = found.present_staff_id == user.pk
    if not (handler or present):
        raise Http404
    return found, dossier_access(user, found.pupil_id)


def may_open_dossier_requests(access):
    """The dossier's "Parents' requests" tab (R-RGT-2, R-ACC-1..3): for those
    who see and edit the whole dossier, not for a substitute's assignment or a
    support member's involvement. The view and the tab list both ask this, so
    a tab is never shown that would answer 404."""
    return access.edit_core


def my_viewings(user):
    """Viewings the user is named for, at schools where they work today."""
    school_ids = [m.school_id for m in user.memberships_today()]
    return ParentRequest.objects.filter(present_staff=user, pupil__school_id__in=school_ids)


def present_staff_choices(school):
    """Staff members of the school who may be named as present."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__in=Membership.objects.current().filter(school=school, role__in=PRESENT_ROLES),
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def handler_addresses(school_id):
    """E-mail addresses of those who handle the school's requests today."""
    roles = [role for role in SchoolRole if HANDLE in ROLE_CAPABILITIES[role]]
    return sorted(
        set(
            Membership.objects.current()
            .filter(school_id=school_id, role__in=roles, user__is_active=True)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


# --- Parents -------------------------------------------------------------------------


def parent_requests(email):
    """The requests filed with this address, for children still linked to it."""
    pupil_ids = [access.pupil.pk for access in parent_children(email)]
    return ParentRequest.objects.filter(guardian__email__iexact=email, pupil_id__in=pupil_ids).select_related(
        "pupil", "present_staff"
    )


def parent_request(email, request_id):
    found = parent_requests(email).filter(pk=request_id).first()
    if found is None:
        raise Http404
    return found
