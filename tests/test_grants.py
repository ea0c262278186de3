"""Assignments of temporary teachers and involvements of support staff:
the grants of R-ACC-2 and R-ACC-3, their screens, their audit (S-22), their
end (S-14) and the hourly job that records expiry (S-28)."""

import datetime
import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from guardian.shortcuts import remove_perm

from privacy_admin.models import AuditEvent, Group, JobRun, Membership
from privacy_admin.models.org import current_school_year
from privacy_admin.roles import SchoolRole
from students import grants
from students.models import Assignment, Involvement, Pupil
from students.policy import INVOLVED_PERMISSION, RECORD_TYPES, dossier_access, visible_pupils
from students.tasks import expire_grants
from tests.conftest import make_staff

ASSIGNMENTS_URL = "/beheer/opdrachten/"
INVOLVEMENTS_URL = "/beheer/betrokkenheid/"


def today():
    return timezone.localdate()


def _pupil(school, group, first_name, last_name):
    return Pupil.objects.create(
        school=school,
        group=group,
        first_name=first_name,
        last_name=last_name,
        birth_date=datetime.date(2016, 3, 14),
        sex="M",
    )


@pytest.fixture
def group6_a(school_a):
    return Group.objects.create(school=school_a, school_year=current_school_year(), grade=6, name="Groep 6")


@pytest.fixture
def pupil5(school_a, group5_a):
    return _pupil(school_a, group5_a, "Daan", "Jansen")


@pytest.fixture
def pupil6(school_a, group6_a):
    return _pupil(school_a, group6_a, "Sanne", "Bakker")


@pytest.fixture
def director_b(school_b):
    return make_staff("director_b", school=school_b, role=SchoolRole.DIRECTOR)


@pytest.fixture
def substitute(substitute_a):
    """The substitute of the cast, with the role kept beyond Friday so that
    only the assignment's own dates decide in these tests."""
    Membership.objects.filter(user=substitute_a).update(valid_until=today() + timedelta(days=60))
    return substitute_a


def _assign(director, substitute, school, *, group=None, pupils=(), record_types=("attendance", "progress"), **dates):
    return grants.assignment_create(
        user=substitute,
        school=school,
        group=group,
        pupils=pupils,
        record_types=list(record_types),
        valid_from=dates.get("valid_from", today()),
        valid_until=dates.get("valid_until", today() + timedelta(days=3)),
        acting_user=director,
    )


def _involve(director, support, pupil, **dates):
    return grants.involvement_create(
        user=support,
        pupil=pupil,
        reason="reading support",
        valid_from=dates.get("valid_from", today()),
        valid_until=dates.get("valid_until", today() + timedelta(days=30)),
        acting_user=director,
    )


# --- The policy with grants (R-ACC-2, R-ACC-3) ---------------------------------


def test_substitute_sees_assigned_group_only_within_dates_and_types(director_a, substitute, pupil5, pupil6, group5_a):
    """R-ACC-2, S-12: with an assignment on group 5 the substitute sees that
    group's pupil, may edit only the record types given, and sees nothing of
    another group, in the list as in the dossier."""
    start, end = today(), today() + timedelta(days=3)
    _assign(director_a, substitute, group5_a.school, group=group5_a, valid_from=start, valid_until=end)

    assert list(visible_pupils(substitute)) == [pupil5]
    access = dossier_access(substitute, pupil5.pk)
    assert access.can_edit("attendance") and access.can_edit("progress")
    assert not access.can_view("conversation") and not access.can_edit("contact")
    assert not access.can_view("health") and not access.sees_bsn and not access.edit_core
    with pytest.raises(Http404):
        dossier_access(substitute, pupil6.pk)


def test_substitute_sees_nothing_before_or_after_the_assignment(director_a, substitute, pupil5, group5_a):
    """R-ACC-2, S-14: the day before the first day and the day after the last
    day the same pupil is a 404 and absent from every list."""
    start, end = today(), today() + timedelta(days=3)
    _assign(director_a, substitute, group5_a.school, group=group5_a, valid_from=start, valid_until=end)

    assert dossier_access(substitute, pupil5.pk, today=end).pupil == pupil5
    for day in (start - timedelta(days=1), end + timedelta(days=1)):
        assert not visible_pupils(substitute, today=day).exists()
        with pytest.raises(Http404):
            dossier_access(substitute, pupil5.pk, today=day)


def test_assignment_of_named_pupils(director_a, substitute, school_a, pupil5, pupil6):
    """R-ACC-2: an assignment of named pupils gives those pupils and no others."""
    _assign(director_a, substitute, school_a, pupils=[pupil6], record_types=["conversation"])
    assert list(visible_pupils(substitute)) == [pupil6]
    assert dossier_access(substitute, pupil6.pk).can_edit("conversation")
    with pytest.raises(Http404):
        dossier_access(substitute, pupil5.pk)


def test_ending_an_assignment_stops_access_on_the_next_call(director_a, substitute, pupil5, group5_a):
    """S-14, S-22: ending an assignment makes yesterday its last day; the very
    next call is a 404, and the end is audited once."""
    assignment = _assign(director_a, substitute, group5_a.school, group=group5_a)
    assert dossier_access(substitute, pupil5.pk)

    assert grants.assignment_end(assignment, acting_user=director_a) is True
    with pytest.raises(Http404):
        dossier_access(substitute, pupil5.pk)
    assert not visible_pupils(substitute).exists()
    assignment.refresh_from_db()
    assert assignment.valid_until == today() - timedelta(days=1)
    assert assignment.ended_recorded_at is not None
    assert grants.assignment_end(assignment, acting_user=director_a) is False
    assert AuditEvent.objects.filter(action="grant.assignment_ended").count() == 1


def test_support_member_needs_involvement_and_permission(director_a, support_a, pupil5):
    """R-ACC-3: a support-team member sees the whole dossier only with a
    current involvement and the guardian object permission; either alone is
    not enough."""
    with pytest.raises(Http404):
        dossier_access(support_a, pupil5.pk)

    involvement = _involve(director_a, support_a, pupil5)
    assert support_a.has_perm(INVOLVED_PERMISSION, pupil5)
    access = dossier_access(support_a, pupil5.pk)
    assert access.view_types == frozenset(RECORD_TYPES)
    assert access.sees_substantive and access.can_view("health")
    assert not access.can_edit("conversation") and not access.edit_core
    assert access.ground == f"betrokkenheid #{involvement.pk}"

    # The permission without a current involvement is not enough ...
    Involvement.objects.filter(pk=involvement.pk).update(valid_until=today() - timedelta(days=1))
    with pytest.raises(Http404):
        dossier_access(support_a, pupil5.pk)
    # ... nor the involvement without the permission.
    Involvement.objects.filter(pk=involvement.pk).update(valid_until=today() + timedelta(days=30))
    remove_perm(INVOLVED_PERMISSION, support_a, pupil5)
    with pytest.raises(Http404):
        dossier_access(support_a, pupil5.pk)


def test_involvement_end_removes_involvement_and_permission(director_a, support_a, pupil5):
    """R-ACC-3, S-14, S-22: ending an involvement ends the date and removes the
    guardian permission in one audited act; the next call is a 404."""
    involvement = _involve(director_a, support_a, pupil5)
    assert grants.involvement_end(involvement, acting_user=director_a) is True

    involvement.refresh_from_db()
    assert involvement.valid_until < today() and involvement.ended_recorded_at is not None
    assert not support_a.has_perm(INVOLVED_PERMISSION, pupil5)
    assert not visible_pupils(support_a).exists()
    with pytest.raises(Http404):
        dossier_access(support_a, pupil5.pk)
    event = AuditEvent.objects.get(action="grant.involvement_ended")
    assert event.pupil_id == pupil5.pk and event.details["permission_removed"] is True


def test_ending_one_of_two_involvements_keeps_the_permission(director_a, support_a, pupil5):
    """R-ACC-3: two involvements with the same pupil share one guardian row;
    ending one leaves the other working."""
    first = _involve(director_a, support_a, pupil5)
    _involve(director_a, support_a, pupil5, valid_until=today() + timedelta(days=90))
    grants.involvement_end(first, acting_user=director_a)
    assert support_a.has_perm(INVOLVED_PERMISSION, pupil5)
    assert dossier_access(support_a, pupil5.pk).pupil == pupil5


def test_actions_validate_their_input(director_a, substitute, support_a, teacher_a, school_a, school_b, pupil5):
    """R-ACC-2, R-ACC-3: the actions refuse a wrong assignee, foreign or
    missing objects, unknown record types and impossible dates, and create
    nothing."""
    other_group = Group.objects.create(school=school_b, school_year=current_school_year(), grade=5, name="Groep 5")
    cases = [
        ({"user": teacher_a}, "user"),
        ({"group": other_group}, "group"),
        ({"pupils": [_pupil(school_b, other_group, "Eva", "Visser")]}, "pupils"),
        ({"group": None, "pupils": []}, "__all__"),
        ({"record_types": []}, "record_types"),
        ({"record_types": ["attendance", "salary"]}, "record_types"),
        ({"valid_from": today() + timedelta(days=5), "valid_until": today() + timedelta(days=4)}, "valid_until"),
        ({"valid_from": today() - timedelta(days=9), "valid_until": today() - timedelta(days=1)}, "valid_until"),
    ]
    for changes, field in cases:
        kwargs = {
            "user": substitute,
            "school": school_a,
            "group": pupil5.group,
            "pupils": [],
            "record_types": ["attendance"],
            "valid_from": today(),
            "valid_until": today() + timedelta(days=1),
            "acting_user": director_a,
        } | changes
        with pytest.raises(ValidationError) as raised:
            grants.assignment_create(**kwargs)
        assert field in raised.value.message_dict, (changes, raised.value.message_dict)
    with pytest.raises(ValidationError) as raised:
        _involve(director_a, substitute, pupil5)
    assert "user" in raised.value.message_dict
    assert not Assignment.objects.exists() and not Involvement.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="grant.").exists()


def test_actions_refuse_a_manager_of_another_school(director_b, substitute, support_a, school_a, group5_a, pupil5):
    """S-11: a director of school B cannot create grants at school A, even
    when calling the action directly."""
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        _assign(director_b, substitute, school_a, group=group5_a)
    with pytest.raises(PermissionDenied):
        _involve(director_b, support_a, pupil5)


def test_every_record_type_has_a_readable_label():
    """R-ACC-2: the screen names every record type in words."""
    assert set(grants.RECORD_TYPE_LABELS) == set(RECORD_TYPES)


# --- The screens ------------------------------------------------------------------


@pytest.mark.parametrize(
    "who,expected",
    [
        ("anonymous", 302),
        ("password_only", 302),
        ("teacher_a", 403),
        ("substitute_a", 403),
        ("support_a", 403),
        ("teacher_b", 403),
        ("director_a", 200),
        ("app_admin_a", 200),
    ],
)
@pytest.mark.parametrize("url", [ASSIGNMENTS_URL, INVOLVEMENTS_URL])
def test_grant_pages_by_level(request, client, verified_client, password_only_client, who, expected, url):
    """S-10: anonymous to the login, password only to the second factor, any
    role without grants.manage 403, the director and the application admin 200."""
    if who == "anonymous":
        response = client.get(url)
        assert response["Location"].startswith("/accounts/login/")
    elif who == "password_only":
        response = password_only_client(request.getfixturevalue("teacher_a")).get(url)
        assert response["Location"].startswith("/accounts/verify/")
    else:
        response = verified_client(request.getfixturevalue(who)).get(url)
    assert response.status_code == expected


def test_teacher_cannot_end_grants(verified_client, teacher_a, director_a, substitute, support_a, group5_a, pupil5):
    """S-10: the end buttons are as closed to a teacher as the pages."""
    assignment = _assign(director_a, substitute, group5_a.school, group=group5_a)
    involvement = _involve(director_a, support_a, pupil5)
    client = verified_client(teacher_a)
    assert client.post(f"{ASSIGNMENTS_URL}{assignment.pk}/beeindigen/").status_code == 403
    assert client.post(f"{INVOLVEMENTS_URL}{involvement.pk}/beeindigen/").status_code == 403
    assert client.post(ASSIGNMENTS_URL, {"user": substitute.pk}).status_code == 403
    assert not Assignment.objects.filter(ended_recorded_at__isnull=False).exists()


def test_director_creates_and_ends_an_assignment(verified_client, director_a, substitute, group5_a, pupil5, pupil6):
    """R-ACC-2, S-14, S-22: the director creates an assignment through the
    screen and ends it; both are audited with ids, dates and record types but
    no pupil names, and the substitute's access stops at once."""
    client = verified_client(director_a)
    response = client.post(
        ASSIGNMENTS_URL,
        {
            "user": substitute.pk,
            "group": group5_a.pk,
            "pupils": [pupil6.pk],
            "record_types": ["attendance", "conversation"],
            "valid_from": today().isoformat(),
            "valid_until": (today() + timedelta(days=4)).isoformat(),
        },
    )
    assert response.status_code == 302 and response["Location"] == ASSIGNMENTS_URL
    assignment = Assignment.objects.get()
    assert assignment.created_by == director_a and assignment.record_types == ["attendance", "conversation"]
    assert {p.pk for p in visible_pupils(substitute)} == {pupil5.pk, pupil6.pk}
    created = AuditEvent.objects.get(action="grant.assignment_created")
    assert created.actor_id == director_a.pk and created.school_id == group5_a.school_id
    assert created.details["pupil_ids"] == [pupil6.pk] and created.details["group_id"] == group5_a.pk
    for name in ("Daan", "Jansen", "Sanne", "Bakker"):
        assert name not in json.dumps(created.details)

    page = client.get(ASSIGNMENTS_URL)
    assert f"{ASSIGNMENTS_URL}{assignment.pk}/beeindigen/" in page.content.decode()
    assert "Conversation reports" in page.content.decode()

    response = client.post(f"{ASSIGNMENTS_URL}{assignment.pk}/beeindigen/")
    assert response.status_code == 302
    ended = AuditEvent.objects.get(action="grant.assignment_ended")
    assert ended.actor_id == director_a.pk
    assert ended.details["valid_until"] == str(today() - timedelta(days=1))
    with pytest.raises(Http404):
        dossier_access(substitute, pupil5.pk)
    assert client.get(f"{ASSIGNMENTS_URL}{assignment.pk}/beeindigen/").status_code == 405


def test_director_creates_and_ends_an_involvement(verified_client, director_a, support_a, pupil5):
    """R-ACC-3, S-14, S-22: the director records an involvement through the
    screen (row and guardian permission) and ends it (both gone), audited."""
    client = verified_client(director_a)
    response = client.post(
        INVOLVEMENTS_URL,
        {
            "user": support_a.pk,
            "pupil": pupil5.pk,
            "reason": "reading support",
            "valid_from": today().isoformat(),
            "valid_until": (today() + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302
    involvement = Involvement.objects.get()
    assert support_a.has_perm(INVOLVED_PERMISSION, pupil5)
    assert dossier_access(support_a, pupil5.pk).sees_substantive
    created = AuditEvent.objects.get(action="grant.involvement_created")
    assert created.pupil_id == pupil5.pk and "reading" not in json.dumps(created.details)

    assert f"{INVOLVEMENTS_URL}{involvement.pk}/beeindigen/" in client.get(INVOLVEMENTS_URL).content.decode()
    assert client.post(f"{INVOLVEMENTS_URL}{involvement.pk}/beeindigen/").status_code == 302
    assert not support_a.has_perm(INVOLVED_PERMISSION, pupil5)
    assert AuditEvent.objects.filter(action="grant.involvement_ended", actor_id=director_a.pk).count() == 1
    with pytest.raises(Http404):
        dossier_access(support_a, pupil5.pk)


def test_other_school_gets_404_and_an_empty_list(
    verified_client, director_a, director_b, substitute, support_a, group5_a, pupil5
):
    """S-11, S-12: the director of school B does not see school A's grants in
    the lists, and ending one is the same 404 as ending one that does not exist."""
    assignment = _assign(director_a, substitute, group5_a.school, group=group5_a)
    involvement = _involve(director_a, support_a, pupil5)
    client = verified_client(director_b)

    for url, obj in ((ASSIGNMENTS_URL, assignment), (INVOLVEMENTS_URL, involvement)):
        page = client.get(url).content.decode()
        assert f"{url}{obj.pk}/beeindigen/" not in page
        assert "Substitute_A" not in page and "Support_A" not in page and "Jansen" not in page
        assert client.post(f"{url}{obj.pk}/beeindigen/").status_code == 404
        assert client.post(f"{url}999999/beeindigen/").status_code == 404
    assignment.refresh_from_db()
    involvement.refresh_from_db()
    assert assignment.ended_recorded_at is None and involvement.ended_recorded_at is None
    assert support_a.has_perm(INVOLVED_PERMISSION, pupil5)


def test_other_schools_staff_and_pupils_cannot_be_chosen(
    verified_client, director_a, substitute, school_b, group5_a, pupil5
):
    """S-11, S-12: school A's director cannot name a pupil or a group of school B,
    nor a temporary teacher of school B."""
    group_b = Group.objects.create(school=school_b, school_year=current_school_year(), grade=5, name="Groep 5")
    pupil_b = _pupil(school_b, group_b, "Eva", "Visser")
    substitute_b = make_staff("substitute_b", school=school_b, role=SchoolRole.TEMP_TEACHER)
    client = verified_client(director_a)
    form_page = client.get(ASSIGNMENTS_URL).content.decode()
    assert "Visser" not in form_page and "substitute_b" not in form_page
    base = {
        "user": substitute.pk,
        "group": group5_a.pk,
        "record_types": ["attendance"],
        "valid_from": today().isoformat(),
        "valid_until": (today() + timedelta(days=1)).isoformat(),
    }
    for changes in ({"pupils": [pupil_b.pk]}, {"group": group_b.pk}, {"user": substitute_b.pk}):
        response = client.post(ASSIGNMENTS_URL, base | changes)
        assert response.status_code == 200, changes
        assert response.context["form"].errors
    assert not Assignment.objects.exists()


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"valid_until": (timezone.localdate() - timedelta(days=3)).isoformat()}, "valid_until"),
        ({"user": "teacher"}, "user"),
        ({"group": "", "pupils": []}, None),
        ({"record_types": []}, "record_types"),
    ],
)
def test_bad_assignment_form_rerenders_with_errors(
    verified_client, director_a, substitute, teacher_a, group5_a, changes, field
):
    """R-ACC-2: an end before the start, an assignee who is not a temporary
    teacher, neither group nor pupils, or no record type: the form comes back
    with the error and the input kept, and nothing is created or audited."""
    data = {
        "user": substitute.pk,
        "group": group5_a.pk,
        "record_types": ["attendance"],
        "valid_from": today().isoformat(),
        "valid_until": (today() + timedelta(days=1)).isoformat(),
    } | changes
    if data["user"] == "teacher":
        data["user"] = teacher_a.pk
    response = verified_client(director_a).post(ASSIGNMENTS_URL, data)
    assert response.status_code == 200
    form = response.context["form"]
    errors = form.errors.get(field) if field else form.non_field_errors()
    assert errors, form.errors
    html = response.content.decode()
    assert 'role="alert"' in html
    assert f'value="{data["valid_from"]}"' in html
    assert not Assignment.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="grant.").exists()


def test_bad_involvement_form_rerenders_with_errors(verified_client, director_a, support_a, substitute, pupil5):
    """R-ACC-3: an end before the start, or an assignee who is not in the
    support team, re-renders the form with its errors and creates nothing."""
    client = verified_client(director_a)
    base = {
        "user": support_a.pk,
        "pupil": pupil5.pk,
        "reason": "reading support",
        "valid_from": (today() + timedelta(days=5)).isoformat(),
        "valid_until": (today() + timedelta(days=2)).isoformat(),
    }
    response = client.post(INVOLVEMENTS_URL, base)
    assert response.status_code == 200 and "valid_until" in response.context["form"].errors
    assert "reading support" in response.content.decode()
    response = client.post(INVOLVEMENTS_URL, base | {"user": substitute.pk, "valid_until": base["valid_from"]})
    assert response.status_code == 200 and "user" in response.context["form"].errors
    assert not Involvement.objects.exists()
    assert not support_a.has_perm(INVOLVED_PERMISSION, pupil5)


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_grant_lists_use_a_constant_number_of_queries(
    verified_client, director_a, substitute, support_a, school_a, group5_a
):
    """STYLE 12: the lists cost the same number of queries at 2 and at 8 grants."""
    client = verified_client(director_a)
    pupils = [_pupil(school_a, group5_a, f"Kind{i}", f"Achternaam{i}") for i in range(8)]

    def add(n_from, n_to):
        for p in pupils[n_from:n_to]:
            _assign(director_a, substitute, school_a, pupils=[p])
            _involve(director_a, support_a, p)

    add(0, 2)
    small = (_count_queries(client, ASSIGNMENTS_URL), _count_queries(client, INVOLVEMENTS_URL))
    add(2, 8)
    large = (_count_queries(client, ASSIGNMENTS_URL), _count_queries(client, INVOLVEMENTS_URL))
    assert small == large


# --- The hourly job (S-28) ---------------------------------------------------------


def test_expire_grants_is_idempotent(director_a, substitute, support_a, group5_a, pupil5):
    """S-28, S-14, R-ACC-3: run twice, each expired grant is audited once, the
    guardian permission is gone, and both runs leave an 'ok' record."""
    assignment = _assign(director_a, substitute, group5_a.school, group=group5_a)
    involvement = _involve(director_a, support_a, pupil5)
    current = _assign(director_a, substitute, group5_a.school, pupils=[pupil5])
    ended_by_hand = _assign(director_a, substitute, group5_a.school, group=group5_a)
    grants.assignment_end(ended_by_hand, acting_user=director_a)
    yesterday = today() - timedelta(days=1)
    Assignment.objects.filter(pk=assignment.pk).update(valid_until=yesterday)
    Involvement.objects.filter(pk=involvement.pk).update(valid_until=yesterday)

    first = expire_grants.delay().get()
    second = expire_grants.delay().get()
    assert first == {"assignments_expired": 1, "involvements_expired": 1, "permissions_removed": 1}
    assert second == {"assignments_expired": 0, "involvements_expired": 0, "permissions_removed": 0}
    expired = AuditEvent.objects.filter(action="grant.expired")
    assert sorted(expired.values_list("object_type", "object_id")) == [
        ("students.assignment", str(assignment.pk)),
        ("students.involvement", str(involvement.pk)),
    ]
    assert not support_a.has_perm(INVOLVED_PERMISSION, pupil5)
    current.refresh_from_db()
    assert current.ended_recorded_at is None
    runs = list(JobRun.objects.filter(name="expire_grants").values_list("outcome", flat=True))
    assert runs == ["ok", "ok"]


def test_expire_grants_leaves_a_shared_permission(director_a, support_a, pupil5):
    """R-ACC-3, S-28: an expired involvement next to a current one with the
    same pupil leaves the guardian permission in place."""
    old = _involve(director_a, support_a, pupil5)
    _involve(director_a, support_a, pupil5)
    Involvement.objects.filter(pk=old.pk).update(valid_until=today() - timedelta(days=1))
    assert expire_grants.delay().get()["permissions_removed"] == 0
    assert support_a.has_perm(INVOLVED_PERMISSION, pupil5)
    assert dossier_access(support_a, pupil5.pk).pupil == pupil5
