"""Organisation and roles (R-ORG-1, R-ORG-2), personal accounts (R-ACC-4),
sessions that can be seen and ended (S-7), and the application admin's pages."""

import datetime
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from privacy_admin.models import AuditEvent, Membership, School, StaffSession, StaffTOTPDevice, User
from privacy_admin.roles import ROLE_CAPABILITIES, FoundationRole, SchoolRole
from tests.conftest import PASSWORD, make_staff


def test_roles_of_the_privacy_statement_exist():
    """R-ORG-2: the school roles and the foundation roles, each mapped to capabilities."""
    assert set(SchoolRole.values) == {
        "applicatiebeheerder",
        "directeur",
        "administratief",
        "intern_begeleider",
        "leerkracht",
        "tijdelijke_leerkracht",
        "ondersteuningsteam",
    }
    assert set(FoundationRole.values) == {"fg", "bestuurder", "fg_plaatsvervanger"}
    assert set(ROLE_CAPABILITIES) == set(SchoolRole) | set(FoundationRole)


def test_full_access_roles_per_statement():
    """R-ACC-1..3 (mapping): the five full-access roles; substitutes and
    support members get narrower capabilities."""
    full = {r for r, caps in ROLE_CAPABILITIES.items() if "dossier.all_pupils" in caps}
    assert full == {
        SchoolRole.APP_ADMIN,
        SchoolRole.DIRECTOR,
        SchoolRole.ADMINISTRATION,
        SchoolRole.IB,
        SchoolRole.TEACHER,
    }
    assert "dossier.assigned_tasks" in ROLE_CAPABILITIES[SchoolRole.TEMP_TEACHER]
    assert "dossier.involved_pupils" in ROLE_CAPABILITIES[SchoolRole.SUPPORT]


def test_one_person_different_roles_at_two_schools(school_a, school_b):
    """R-ORG-1, R-ORG-2: one installation, one foundation, several schools; a
    person can be admin at one school and teacher at another, and a capability
    counts only at the school of the membership that carries it."""
    user = make_staff("two_schools", school=school_a, role=SchoolRole.APP_ADMIN)
    Membership.objects.create(user=user, school=school_b, role=SchoolRole.TEACHER)
    assert user.has_capability("staff.manage", school_a)
    assert not user.has_capability("staff.manage", school_b)
    assert list(user.schools_with("staff.manage")) == [school_a]
    assert school_a.foundation == school_b.foundation


def test_expired_membership_stops_at_once(school_a, verified_client):
    """S-14, R-ACC-2: a membership past its end date grants nothing on the next request."""
    user = make_staff("expired_admin", school=school_a, role=SchoolRole.APP_ADMIN)
    client = verified_client(user)
    assert client.get("/beheer/medewerkers/").status_code == 200
    Membership.objects.filter(user=user).update(valid_until=timezone.localdate() - timedelta(days=1))
    assert client.get("/beheer/medewerkers/").status_code == 403


def test_role_matrix_visible_to_admin(verified_client, app_admin_a, teacher_a):
    """R-ORG-2: the role → capability table is data the application admin can see."""
    response = verified_client(app_admin_a).get("/beheer/rollen/")
    assert response.status_code == 200
    assert "staff.manage" in response.content.decode()
    assert verified_client(teacher_a).get("/beheer/rollen/").status_code == 403


def test_admin_creates_personal_account_with_link_only_mail(
    verified_client, app_admin_a, school_a, django_capture_on_commit_callbacks
):
    """R-ACC-4, R-DIS-6: the admin makes a personal account; the new staff member
    gets a mail with a link and no personal data; the grant is audited."""
    client = verified_client(app_admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/beheer/medewerkers/nieuw/",
            {
                "username": "nieuwe.juf",
                "first_name": "Nina",
                "last_name": "Nieuw",
                "email": "nina@example.org",
                "school": school_a.pk,
                "role": SchoolRole.TEACHER,
            },
        )
    assert response.status_code == 302
    user = User.objects.get(username="nieuwe.juf")
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "Nina" not in body and "Nieuw" not in body and "nieuwe.juf" not in body
    assert "/accounts/password/reset/" in body
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {"user.created", "role.granted"}


def test_invite_form_errors_keep_input(verified_client, app_admin_a, school_a, teacher_a):
    """A bad form re-renders with errors and stores nothing."""
    client = verified_client(app_admin_a)
    response = client.post(
        "/beheer/medewerkers/nieuw/",
        {
            "username": "teacher_a",
            "first_name": "Dup",
            "last_name": "Licate",
            "email": "not-an-email",
            "school": school_a.pk,
            "role": SchoolRole.TEMP_TEACHER,
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"username", "email", "valid_until"} <= set(errors)
    assert 'value="Dup"' in response.content.decode()
    assert User.objects.filter(first_name="Dup").count() == 0


def test_admin_cannot_reach_other_schools_staff(verified_client, app_admin_a, teacher_b):
    """S-11: staff of another school are a 404, the same as a missing account."""
    client = verified_client(app_admin_a)
    assert client.get(f"/beheer/medewerkers/{teacher_b.pk}/").status_code == 404
    assert client.get("/beheer/medewerkers/999999/").status_code == 404
    names = client.get("/beheer/medewerkers/").content.decode()
    assert "teacher_b" not in names


def test_role_grant_and_revoke_are_audited(verified_client, app_admin_a, teacher_a, school_a):
    """S-22: role changes are audited."""
    client = verified_client(app_admin_a)
    response = client.post(f"/beheer/medewerkers/{teacher_a.pk}/", {"school": school_a.pk, "role": SchoolRole.IB})
    assert response.status_code == 302
    membership = Membership.objects.get(user=teacher_a, role=SchoolRole.IB)
    client.post(f"/beheer/medewerkers/{teacher_a.pk}/rollen/{membership.pk}/intrekken/")
    assert not Membership.objects.filter(pk=membership.pk).exists()
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["role.granted", "role.revoked"]


def _real_login(user):
    from tests.conftest import totp_code

    client = Client()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    client.post("/accounts/verify/", {"code": totp_code(user)})
    return client


def test_deactivating_a_user_ends_all_sessions(verified_client, app_admin_a, teacher_a):
    """S-7: deactivating a user ends every session of that user at once."""
    victim_sessions = [verified_client(teacher_a), verified_client(teacher_a)]
    assert StaffSession.objects.filter(user_id=teacher_a.pk).count() == 2
    admin = verified_client(app_admin_a)
    response = admin.post(f"/beheer/medewerkers/{teacher_a.pk}/actief/", {"active": "0"})
    assert response.status_code == 302
    assert StaffSession.objects.filter(user_id=teacher_a.pk).count() == 0
    for client in victim_sessions:
        assert client.get("/")["Location"].startswith("/accounts/login/")
    assert AuditEvent.objects.filter(action="user.deactivated").exists()
    assert AuditEvent.objects.filter(action="session.ended").exists()


def test_password_change_ends_other_sessions(verified_client, teacher_a):
    """S-7: a password change ends the user's other sessions, keeps this one."""
    other = verified_client(teacher_a)
    client = verified_client(teacher_a)
    new = "een ander lang wachtwoord voor de klas"
    response = client.post(
        "/accounts/password/change/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/")["Location"].startswith("/accounts/login/")
    # Ended, not merely invalid: only this session's row is left.
    remaining = StaffSession.objects.filter(user_id=teacher_a.pk).values_list("session_key", flat=True)
    assert list(remaining) == [client.cookies["sessionid"].value]
    assert other.cookies["sessionid"].value not in remaining


def test_user_sees_and_ends_own_sessions(verified_client, teacher_a):
    """S-7: staff see their sessions and end one; session keys never leave the server."""
    other = verified_client(teacher_a)
    client = verified_client(teacher_a)
    page = client.get("/accounts/security/").content.decode()
    other_key = other.cookies["sessionid"].value
    assert other_key not in page and client.cookies["sessionid"].value not in page
    from privacy_admin.views.account import session_ref

    client.post(f"/accounts/security/sessions/{session_ref(other_key)}/end/")
    assert other.get("/")["Location"].startswith("/accounts/login/")
    assert client.get("/").status_code == 200


def test_admin_resets_second_factor(verified_client, app_admin_a, teacher_a, django_capture_on_commit_callbacks):
    """R-ACC-5, S-22: the admin resets a lost second factor; the user enrols anew
    at the next login; audited; the mail carries a link only."""
    client = verified_client(app_admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/beheer/medewerkers/{teacher_a.pk}/tweestaps-reset/")
    assert not StaffTOTPDevice.objects.filter(user=teacher_a).exists()
    assert AuditEvent.objects.filter(action="second_factor.reset").exists()
    assert "teacher" not in mail.outbox[-1].body.lower()
    fresh = Client()
    response = fresh.post("/accounts/login/", {"username": "teacher_a", "password": PASSWORD})
    assert response["Location"].startswith("/accounts/setup/")


def test_django_admin_only_for_verified_superuser(verified_client, app_admin_a, db):
    """S-1: /admin/ sits behind the same gate, and only a superuser gets in."""
    assert verified_client(app_admin_a).get("/admin/").status_code == 302
    root = make_staff("root")
    root.is_superuser = root.is_staff = True
    root.save()
    assert verified_client(root).get("/admin/").status_code == 200


@pytest.mark.django_db
def test_school_brin_validated(foundation):
    """R-ORG-1: a school has a BRIN code of two digits and two capitals."""
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        School(foundation=foundation, brin="ABCD", name="x").full_clean()


def test_foundation_role_changes_in_django_admin_are_audited(verified_client, foundation, teacher_a):
    """S-22, R-ORG-2: granting and revoking a foundation role (FG) in /admin/ is audited."""
    root = make_staff("root2")
    root.is_superuser = root.is_staff = True
    root.save()
    client = verified_client(root)
    response = client.post(
        "/admin/privacy_admin/foundationmembership/add/",
        {"user": teacher_a.pk, "foundation": foundation.pk, "role": FoundationRole.FG},
    )
    assert response.status_code == 302
    membership = teacher_a.foundation_memberships.get()
    client.post(f"/admin/privacy_admin/foundationmembership/{membership.pk}/delete/", {"post": "yes"})
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["role.granted", "role.revoked"]


def _root(name):
    root = make_staff(name)
    root.is_superuser = root.is_staff = True
    root.save()
    return root


def _admin_change(client, user, **changes):
    """Post Django admin's change form for `user` with `changes` applied."""
    # A join date the form's two fields repeat exactly (no microseconds).
    joined = datetime.datetime(2026, 1, 1, tzinfo=timezone.get_current_timezone())
    User.objects.filter(pk=user.pk).update(date_joined=joined)
    page = client.get(f"/admin/privacy_admin/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("groups", "user_permissions")}
    for flag in ("is_active", "is_staff", "is_superuser"):
        data[flag] = "on" if data.get(flag) else ""
    data.update(
        {
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            # What a browser posts back from the form's hidden initial inputs.
            "initial-date_joined_0": "2026-01-01",
            "initial-date_joined_1": "00:00:00",
        }
    )
    data.pop("last_login", None)
    data.pop("date_joined", None)
    data.update({k: ("on" if v is True else "" if v is False else v) for k, v in changes.items()})
    response = client.post(f"/admin/privacy_admin/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    return response


def test_deactivation_in_django_admin_ends_sessions(verified_client, teacher_a):
    """S-7: deactivating through /admin/ also ends every session at once."""
    root = _root("root3")
    victim = verified_client(teacher_a)
    client = verified_client(root)
    _admin_change(client, teacher_a, is_active=False)
    assert not teacher_a.is_active
    assert victim.get("/")["Location"].startswith("/accounts/login/")
    assert AuditEvent.objects.filter(action="user.deactivated").exists()
    assert not StaffSession.objects.filter(user_id=teacher_a.pk).exists()


def test_user_changes_in_django_admin_are_audited(verified_client, teacher_a):
    """S-22: in /admin/, making someone a superuser or staff member, and
    reactivating an account, are audited; the audit names the fields changed,
    never their values (only what the two flags became)."""
    client = verified_client(_root("root4"))
    _admin_change(client, teacher_a, is_superuser=True, is_staff=True, last_name="Nieuwenhuis")
    assert teacher_a.is_superuser and teacher_a.is_staff
    event = AuditEvent.objects.get(action="user.changed")
    assert event.object_id == str(teacher_a.pk)
    assert event.details == {
        "fields": ["is_staff", "is_superuser", "last_name"],
        "is_staff": True,
        "is_superuser": True,
    }
    assert "Nieuwenhuis" not in str(list(AuditEvent.objects.values_list("details", flat=True)))
    _admin_change(client, teacher_a, is_active=False)
    _admin_change(client, teacher_a, is_active=True)
    assert teacher_a.is_active
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["user.deactivated", "user.activated"]
    assert AuditEvent.objects.filter(action="user.changed").count() == 1


def test_user_created_in_django_admin_is_audited(verified_client, db):
    """S-22: an account created in /admin/ is audited."""
    client = verified_client(_root("root5"))
    response = client.post(
        "/admin/privacy_admin/user/add/",
        {"username": "via_admin", "usable_password": "false", "password1": "", "password2": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="via_admin")
    assert AuditEvent.objects.filter(action="user.created", object_id=str(user.pk)).exists()


def test_password_set_in_django_admin_is_audited_and_ends_sessions(verified_client, teacher_a):
    """S-7, S-22: a password set through the admin's password form is audited
    and ends every session of the user."""
    victim = verified_client(teacher_a)
    root = _root("root6")
    client = verified_client(root)
    new = "een nieuw wachtwoord van de beheerder"
    response = client.post(
        f"/admin/privacy_admin/user/{teacher_a.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    teacher_a.refresh_from_db()
    assert teacher_a.check_password(new)
    assert not StaffSession.objects.filter(user_id=teacher_a.pk).exists()
    assert victim.get("/")["Location"].startswith("/accounts/login/")
    event = AuditEvent.objects.get(action="user.password_changed")
    assert (event.actor_id, event.object_id) == (root.pk, str(teacher_a.pk))
    ended = AuditEvent.objects.get(action="session.ended")
    assert ended.actor_id == root.pk and ended.details == {"count": 1, "reason": "password_changed"}
    # A form that does not validate changes and audits nothing.
    client.post(f"/admin/privacy_admin/user/{teacher_a.pk}/password/", {"password1": "a", "password2": "b"})
    assert AuditEvent.objects.filter(action="user.password_changed").count() == 1


# --- Destructive acts reach no further than the admin's schools -----------------


@pytest.fixture
def beyond_school_a(school_a, school_b, foundation):
    """Accounts with a role at school A that reach further: a superuser, an FG,
    a teacher of A and B, one who starts at B next month."""
    root = make_staff("root_at_a", school=school_a, role=SchoolRole.TEACHER)
    root.is_superuser = root.is_staff = True
    root.save()
    fg_too = make_staff(
        "fg_at_a", school=school_a, role=SchoolRole.IB, foundation=foundation, foundation_role=FoundationRole.FG
    )
    both = make_staff("teacher_a_and_b", school=school_a, role=SchoolRole.TEACHER)
    Membership.objects.create(user=both, school=school_b, role=SchoolRole.TEACHER)
    later = make_staff("later_at_b", school=school_a, role=SchoolRole.TEACHER)
    Membership.objects.create(
        user=later, school=school_b, role=SchoolRole.TEACHER, valid_from=timezone.localdate() + timedelta(days=30)
    )
    return [root, fg_too, both, later]


def test_admin_cannot_deactivate_or_reset_accounts_beyond_their_schools(verified_client, app_admin_a, beyond_school_a):
    """S-11, R-ORG-2: a school's application admin cannot deactivate, activate
    or reset the second factor of a superuser, an FG or bestuurder, or someone
    who (also) works at a school they do not manage: 403 with a message; the
    page offers no such buttons."""
    client = verified_client(app_admin_a)
    for person in beyond_school_a:
        assert client.get(f"/beheer/medewerkers/{person.pk}/").status_code == 200
        page = client.get(f"/beheer/medewerkers/{person.pk}/").content.decode()
        assert f"/beheer/medewerkers/{person.pk}/actief/" not in page
        assert f"/beheer/medewerkers/{person.pk}/tweestaps-reset/" not in page
        for active in ("0", "1"):
            response = client.post(f"/beheer/medewerkers/{person.pk}/actief/", {"active": active})
            assert response.status_code == 403, person.username
            messages = [str(m) for m in response.context["messages"]]
            assert any("technical administrator" in m or "technisch beheerder" in m for m in messages)
        assert client.post(f"/beheer/medewerkers/{person.pk}/tweestaps-reset/").status_code == 403
        person.refresh_from_db()
        assert person.is_active and StaffTOTPDevice.objects.filter(user=person).exists()
    assert not AuditEvent.objects.filter(
        action__in=["user.deactivated", "user.activated", "second_factor.reset"]
    ).exists()


def test_admin_may_deactivate_someone_whose_other_role_ended(verified_client, app_admin_a, teacher_a, school_b):
    """S-11: a membership at another school that has ended does not protect
    the account."""
    Membership.objects.create(
        user=teacher_a, school=school_b, role=SchoolRole.TEACHER, valid_until=timezone.localdate() - timedelta(days=1)
    )
    client = verified_client(app_admin_a)
    assert (
        f"/beheer/medewerkers/{teacher_a.pk}/actief/"
        in client.get(f"/beheer/medewerkers/{teacher_a.pk}/").content.decode()
    )
    assert client.post(f"/beheer/medewerkers/{teacher_a.pk}/actief/", {"active": "0"}).status_code == 302
    teacher_a.refresh_from_db()
    assert not teacher_a.is_active
