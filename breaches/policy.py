"""The one way in to a breach (STYLE 1, S-11, S-12).

FG, deputy and bestuurder see every incident of their foundation; a director
sees the incidents of their school; every staff member sees their own reports.
Anything else is a 404, the same as an incident that does not exist.
"""

from django.db.models import Q
from django.http import Http404

from breaches.models import Breach
from privacy_admin.roles import SchoolRole, capabilities_for


def visible_breaches(user):
    if not user.is_authenticated or not user.is_active:
        return Breach.objects.none()
    foundation_ids = [fm.foundation_id for fm in user.foundation_roles_today()]
    director_school_ids = [m.school_id for m in user.memberships_today() if m.role == SchoolRole.DIRECTOR]
    condition = Q(reporter=user)
    if foundation_ids:
        condition |= Q(foundation_id__in=foundation_ids)
    if director_school_ids:
        condition |= Q(school_id__in=director_school_ids)
    return Breach.objects.filter(condition)


def breach_access(user, breach_id):
    breach = visible_breaches(user).filter(pk=breach_id).select_related("school", "reporter").first()
    if breach is None:
        raise Http404
    return breach


def managing_foundation_ids(user):
    """Foundations whose register the user keeps (FG or deputy there): the
    capability counts in its own foundation only."""
    return {fm.foundation_id for fm in user.foundation_roles_today() if "breach.manage" in capabilities_for(fm.role)}


def managed_breach(user, breach_id):
    """A breach the user may work on: visible, and in a foundation whose
    register the user keeps."""
    breach = breach_access(user, breach_id)
    if breach.foundation_id not in managing_foundation_ids(user):
        raise Http404
    return breach
