"""The one way in to the retention screen, the purge runs and the legal holds
(STYLE 1, S-11). Anything outside the user's reach is a 404, the same as
something that does not exist.

- The retention screen (U-3): the schools where the user holds
  `retention.run` today (the application admin), and only those.
- Purge runs, their deletion records and certificates: those of the
  application admin's schools, and those of every school of a foundation
  where the user has a foundation role with `foundation.overview` or
  `breach.manage` (the FG and those beside it). A run over all schools at once
  (the command line without --school) is shown to the foundation roles only.
- Legal holds (R-RET-6): the director (`legal_hold.manage` at the pupil's
  school) reaches pupils through the dossier policy (students.policy); the FG
  (a foundation role with `legal_hold.manage`) has no dossier access, so its
  pupils are those of the foundation's schools, and it sees the hold, never
  the dossier.
"""

from django.db.models import Q
from django.http import Http404

from privacy_admin.models import School
from privacy_admin.roles import capabilities_for
from retention.models import LegalHold, PurgeRun
from students.models import Pupil
from students.policy import visible_pupils

RUN = "retention.run"
HOLD = "legal_hold.manage"
FOUNDATION_RUN_VIEWERS = {"foundation.overview", "breach.manage"}


def _active(user):
    return user.is_authenticated and user.is_active


def _foundation_ids(user, capabilities):
    """Foundations where the user holds one of `capabilities` through a
    foundation role today."""
    if not _active(user):
        return set()
    return {fm.foundation_id for fm in user.foundation_roles_today() if capabilities & capabilities_for(fm.role)}


def _school_ids(user, capability):
    """Schools where the user holds `capability` through a membership today."""
    if not _active(user):
        return set()
    return {m.school_id for m in user.memberships_today() if capability in capabilities_for(m.role)}


# --- the retention screen ---------------------------------------------------------


def retention_schools(user):
    return School.objects.filter(pk__in=_school_ids(user, RUN)).order_by("name")


def retention_school(user, school_id):
    school = retention_schools(user).filter(pk=school_id).first()
    if school is None:
        raise Http404
    return school


# --- purge runs -------------------------------------------------------------------


def may_view_runs(user):
    return bool(_school_ids(user, RUN) or _foundation_ids(user, FOUNDATION_RUN_VIEWERS))


def visible_runs(user):
    school_ids = _school_ids(user, RUN)
    foundation_ids = _foundation_ids(user, FOUNDATION_RUN_VIEWERS)
    condition = Q(pk__in=[])
    if school_ids:
        condition |= Q(school_id__in=school_ids)
    if foundation_ids:
        condition |= Q(school__foundation_id__in=foundation_ids)
        condition |= Q(school__isnull=True)
    return PurgeRun.objects.filter(condition)


def run_access(user, run_id):
    run = visible_runs(user).select_related("school", "school__foundation", "by").filter(pk=run_id).first()
    if run is None:
        raise Http404
    return run


# --- legal holds ------------------------------------------------------------------


def _director_school_ids(user):
    return _school_ids(user, HOLD)


def hold_schools(user):
    """Schools where the user may set and lift holds."""
    condition = Q(pk__in=_director_school_ids(user))
    foundation_ids = _foundation_ids(user, {HOLD})
    if foundation_ids:
        condition |= Q(foundation_id__in=foundation_ids)
    return School.objects.filter(condition).order_by("name")


def hold_pupils(user):
    """Pupils the user may put under a hold: the director's through the dossier
    policy, the FG's by the foundation (no dossier access comes with it)."""
    condition = Q(pk__in=visible_pupils(user).filter(school_id__in=_director_school_ids(user)).values("pk"))
    foundation_ids = _foundation_ids(user, {HOLD})
    if foundation_ids:
        condition |= Q(school__foundation_id__in=foundation_ids)
    return Pupil.objects.filter(condition)


def visible_holds(user):
    return LegalHold.objects.filter(pupil__in=hold_pupils(user))


def hold_access(user, hold_id):
    hold = (
        visible_holds(user)
        .select_related("pupil", "pupil__school", "pupil__group", "set_by", "lifted_by")
        .filter(pk=hold_id)
        .first()
    )
    if hold is None:
        raise Http404
    return hold
