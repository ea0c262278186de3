"""Organisation and roles (R-ORG-1, R-ORG-2), personal accounts (R-ACC-4),
sessions that can be seen and ended (S-7), and the application admin's pages."""

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
    assert set(FoundationRole.values) == {"fg", "bestuurder"}
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


def test_deactivation_in_django_admin_ends_sessions(verified_client, teacher_a):
    """S-7: deactivating through /admin/ also ends every session at once."""
    root = make_staff("root3")
    root.is_superuser = root.is_staff = True
    root.save()
    victim = verified_client(teacher_a)
    client = verified_client(root)
    page = client.get(f"/admin/privacy_admin/user/{teacher_a.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("groups", "user_permissions")}
    data.update(
        {
            "is_active": "",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        }
    )
    data.pop("last_login", None)
    data.pop("date_joined", None)
    response = client.post(f"/admin/privacy_admin/user/{teacher_a.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    teacher_a.refresh_from_db()
    assert not teacher_a.is_active
    assert victim.get("/")["Location"].startswith("/accounts/login/")
    assert AuditEvent.objects.filter(action="user.deactivated").exists()
