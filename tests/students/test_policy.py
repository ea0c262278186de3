"""The access policy directly: grounds and the edge cases of grants
(R-ACC-1..3, S-12, S-13, S-14)."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone
from guardian.shortcuts import assign_perm

from privacy_admin.models import Membership
from privacy_admin.roles import SchoolRole
from students.models import Assignment, Involvement
from students.policy import INVOLVED_PERMISSION, dossier_access, visible_pupils
from tests.conftest import make_staff

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def _involve(user, pupil, *, perm=True, until=TODAY + 30 * DAY):
    Involvement.objects.create(
        user=user, pupil=pupil, reason="leesbegeleiding", valid_from=TODAY - DAY, valid_until=until
    )
    if perm:
        assign_perm(INVOLVED_PERMISSION, user, pupil)


def test_full_access_roles_see_all_pupils_of_their_school(teacher_a, pupil_a5, pupil_a6, pupil_b):
    """R-ACC-1: a teacher sees and edits every pupil of the school, none of another."""
    assert set(visible_pupils(teacher_a)) == {pupil_a5, pupil_a6}
    access = dossier_access(teacher_a, pupil_a6.pk)
    assert access.can_edit("conversation") and access.edit_core
    with pytest.raises(Http404):
        dossier_access(teacher_a, pupil_b.pk)


def test_assignment_limits_types_and_never_health(substitute_a, pupil_a5, pupil_a6, school_a, group5_a):
    """R-ACC-2, S-13: within the assignment only its record types; health is
    never assignable; other groups stay invisible (S-12)."""
    Assignment.objects.create(
        user=substitute_a, school=school_a, group=group5_a, record_types=["attendance", "health"],
        valid_from=TODAY - DAY, valid_until=TODAY + DAY,
    )  # fmt: skip
    assert list(visible_pupils(substitute_a)) == [pupil_a5]
    access = dossier_access(substitute_a, pupil_a5.pk)
    assert access.can_edit("attendance") and not access.can_view("health") and not access.sees_health
    assert not access.can_view("conversation") and not access.edit_core
    assert access.ground.startswith("opdracht #")


def test_support_needs_current_involvement_and_permission(support_a, pupil_a5):
    """R-ACC-3, S-12: an involvement without the guardian permission shows
    nothing, in the list as in the dossier."""
    _involve(support_a, pupil_a5, perm=False)
    assert list(visible_pupils(support_a)) == []
    with pytest.raises(Http404):
        dossier_access(support_a, pupil_a5.pk)
    assign_perm(INVOLVED_PERMISSION, support_a, pupil_a5)
    assert list(visible_pupils(support_a)) == [pupil_a5]
    access = dossier_access(support_a, pupil_a5.pk)
    assert access.sees_substantive and not access.sees_bsn
    assert access.ground.startswith("betrokkenheid #")


def test_expired_support_role_ends_involvement_even_with_role_elsewhere(support_a, pupil_a5, school_b):
    """S-14, R-ACC-3: a support role at school A that expired ends A's
    involvements, even when the person is a support member at school B."""
    _involve(support_a, pupil_a5)
    Membership.objects.create(user=support_a, school=school_b, role=SchoolRole.SUPPORT)
    Membership.objects.filter(user=support_a, school=pupil_a5.school).update(valid_until=TODAY - DAY)
    support_a._memberships_today = None
    assert list(visible_pupils(support_a)) == []
    with pytest.raises(Http404):
        dossier_access(support_a, pupil_a5.pk)


def test_expired_assignment_is_404_next_call(substitute_a, pupil_a5, school_a, group5_a):
    """S-14: an assignment past its end date grants nothing."""
    Assignment.objects.create(
        user=substitute_a, school=school_a, group=group5_a, record_types=["attendance"],
        valid_from=TODAY - 5 * DAY, valid_until=TODAY - DAY,
    )  # fmt: skip
    with pytest.raises(Http404):
        dossier_access(substitute_a, pupil_a5.pk)


def test_no_dossier_for_foundation_roles(fg, pupil_a5, db):
    """R-ACC-1 (by omission): the FG and bestuurder have no dossier access."""
    assert list(visible_pupils(fg)) == []


def test_inactive_user_sees_nothing(school_a, pupil_a5):
    """S-14: a deactivated account sees no pupil."""
    user = make_staff("gone_teacher", school=school_a, role=SchoolRole.TEACHER)
    user.is_active = False
    assert list(visible_pupils(user)) == []
