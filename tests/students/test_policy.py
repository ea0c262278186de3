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


def test_assignment_shows_only_its_record_types(verified_client, substitute_a, pupil_a5, school_a, group5_a):
    """R-ACC-2, S-12: a substitute assigned progress only sees no parents'
    contact data, no enrolment, no attendance on the dossier page."""
    from students.models import Guardian, GuardianLink

    guardian = Guardian.objects.create(last_name="Vijfje", email="ouder.vijfje@example.org")
    GuardianLink.objects.create(pupil=pupil_a5, guardian=guardian)
    Assignment.objects.create(
        user=substitute_a, school=school_a, group=group5_a, record_types=["progress"],
        valid_from=TODAY - DAY, valid_until=TODAY + DAY,
    )  # fmt: skip
    page = verified_client(substitute_a).get(f"/leerlingen/{pupil_a5.pk}/").content.decode()
    assert "ouder.vijfje@example.org" not in page
    assert "Enrolment" not in page and "Attendance and absence" not in page


def test_conversation_attachment_needs_conversation_right(verified_client, substitute_a, pupil_a5, school_a, group5_a):
    """R-ACC-2, S-11: an attachment of a conversation report is not served to
    someone who may see loose documents but not conversation reports."""
    from students.models import ConversationReport, Document

    report = ConversationReport.objects.create(pupil=pupil_a5, date=TODAY, participants="x", report="y")
    document = Document.objects.create(
        pupil=pupil_a5,
        conversation=report,
        filename="a.pdf",
        content_type="application/pdf",
        size=5,
        content="JVBERi0=",
    )
    Assignment.objects.create(
        user=substitute_a, school=school_a, group=group5_a, record_types=["document"],
        valid_from=TODAY - DAY, valid_until=TODAY + DAY,
    )  # fmt: skip
    response = verified_client(substitute_a).get(f"/leerlingen/{pupil_a5.pk}/documenten/{document.pk}/")
    assert response.status_code == 404


def test_pupil_edit_form_never_shows_the_bsn(verified_client, director_a, pupil_a5):
    """S-21, S-13: the edit form does not pre-fill the BSN (showing it is an
    audited act of its own); leaving it empty keeps the recorded BSN."""
    client = verified_client(director_a)
    assert pupil_a5.bsn not in client.get(f"/leerlingen/{pupil_a5.pk}/gegevens/").content.decode()
    response = client.post(
        f"/leerlingen/{pupil_a5.pk}/gegevens/",
        {"first_name": "Anna", "last_name": "Vijfje", "birth_date": "2017-03-14", "sex": "V", "bsn": ""},
    )
    assert response.status_code == 302
    pupil_a5.refresh_from_db()
    assert pupil_a5.bsn and pupil_a5.sex == "V"
