"""Who may do what with the statement on the staff side; the public pages
need nobody.

The director and the application admin (`disclosures.register` or
`staff.manage` through a membership of that school) edit their school's
texts. The FG (a foundation role with `breach.manage` or
`foundation.overview`) compares versions of every school of the foundation.
A school outside one's reach is a 404, the same as one that does not exist.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from privacy_admin.models import School
from privacy_admin.roles import capabilities_for

TEXT_CAPABILITIES = frozenset({"disclosures.register", "staff.manage"})
OVERSIGHT_CAPABILITIES = frozenset({"breach.manage", "foundation.overview"})


def text_schools(user):
    ids = {m.school_id for m in user.memberships_today() if capabilities_for(m.role) & TEXT_CAPABILITIES}
    return School.objects.filter(pk__in=ids).select_related("foundation").order_by("name")


def oversight_schools(user):
    foundation_ids = {
        fm.foundation_id for fm in user.foundation_roles_today() if capabilities_for(fm.role) & OVERSIGHT_CAPABILITIES
    }
    return School.objects.filter(Q(foundation_id__in=foundation_ids)).select_related("foundation").order_by("name")


def require_statement_staff(user):
    """403 for staff who have nothing to do with the statement's staff pages."""
    if not (user.is_active and user.capabilities() & (TEXT_CAPABILITIES | OVERSIGHT_CAPABILITIES)):
        raise PermissionDenied


def school_for_texts(user, school_id):
    if not (user.is_active and user.capabilities() & TEXT_CAPABILITIES):
        raise PermissionDenied
    school = text_schools(user).filter(pk=school_id).first()
    if school is None:
        raise Http404
    return school


def school_for_diff(user, school_id):
    if not (user.is_active and user.capabilities() & OVERSIGHT_CAPABILITIES):
        raise PermissionDenied
    school = oversight_schools(user).filter(pk=school_id).first()
    if school is None:
        raise Http404
    return school
