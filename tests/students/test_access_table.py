"""The authorisation matrix (S-10, Normenkader ID.01): one table of URL ×
role × method with the expected answer, default deny. A URL of the URLconf
that is missing here fails the test, so a new page cannot ship unlisted.

Roles are the cast of tests/conftest.py. The substitute and the support
member have no assignment or involvement here, so every pupil is outside
their grant: 404, the same as a pupil that does not exist (S-11). Expired
grants and other schools are the same 404 (S-14); tests/students/test_policy.py
covers grants that are in force.
"""

import datetime

import pytest
from django.urls import reverse

from breaches.models import Breach
from consent.models import ConsentCategory, Publication, PublicationPupil
from consent.services import categories_seed
from privacy_admin.models import Membership
from students.models import Document, Guardian, GuardianLink, SupportNeed
from tests.conftest import make_staff
from tests.disclosures import access as disclosures_access
from tests.disclosures import access_reports as disclosures_reports_access
from tests.retention import access as retention_access
from tests.rights import access as rights_access
from tests.statement import access as statement_access
from tests.students.access_roles import DOSSIER_ROLES, FULL_A, ROLES, every, only
from tests.test_gate import URLS

# Later apps keep their rows beside their own tests.
PARTS = (retention_access, disclosures_access, disclosures_reports_access, rights_access, statement_access)


# name: (kwargs, {role: status of GET}); kwargs name fixtures by "@name".
PUPIL = {"pupil_id": "@pupil"}
TABLE = {
    # Public or login steps: reachable, but a verified session is sent on.
    "login": ({}, every(302)),
    "logout": ({}, every(405)),
    "healthz": ({}, every(200)),
    "set_language": ({}, every(302)),
    "otp_verify": ({}, every(302)),
    "otp_setup": ({}, every(302)),
    "lock": ({}, every(302)),
    "step_up": ({}, every(200)),
    "password_reset": ({}, every(200)),
    "password_reset_done": ({}, every(200)),
    "password_reset_confirm": ({"uidb64": "MQ", "token": "x-y"}, every(200)),
    "password_reset_complete": ({}, every(200)),
    # Every staff member
    "home": ({}, every(200)),
    "password_change": ({}, every(200)),
    "account_security": ({}, every(200)),
    "session_end": ({"ref": "0" * 20}, every(405)),
    "sessions_end_others": ({}, every(405)),
    "backup_codes_new": ({}, every(405)),
    "second_factor_replace": ({}, every(405)),
    # Application admin and director
    "staff_list": ({}, only({"app_admin_a"}, deny=403)),
    "staff_invite": ({}, only({"app_admin_a"}, deny=403)),
    "staff_detail": (
        {"user_id": "@teacher_a"},
        {**only({"app_admin_a"}, deny=403), "app_admin_a": 200},
    ),
    "staff_role_revoke": ({"user_id": "@teacher_a", "membership_id": "@membership"}, every(405)),
    "staff_set_active": ({"user_id": "@teacher_a"}, every(405)),
    "staff_second_factor_reset": ({"user_id": "@teacher_a"}, every(405)),
    "role_matrix": ({}, only({"director_a", "app_admin_a", "fg"}, deny=403)),
    "job_runs": ({}, only({"app_admin_a"}, deny=403)),
    "audit_log": ({}, only({"director_a", "app_admin_a", "fg"}, deny=403)),
    "grant_assignments": ({}, only({"director_a", "app_admin_a"}, deny=403)),
    "grant_assignment_end": ({"assignment_id": 1}, every(405)),
    "grant_involvements": ({}, only({"director_a", "app_admin_a"}, deny=403)),
    "grant_involvement_end": ({"involvement_id": 1}, every(405)),
    "brp_import": ({}, only({"app_admin_a"}, deny=403)),
    "brp_import_confirm": ({}, every(405)),
    # Consent: the dossier tab, the group matrix, categories (director, admin)
    "dossier_consent": (PUPIL, only(FULL_A)),
    "dossier_consent_entry": (PUPIL, every(405)),
    "consent_matrix": ({"group_id": "@group5_a"}, {**only(FULL_A), "fg": 403}),
    "consent_categories": ({}, only({"director_a", "app_admin_a"}, deny=403)),
    "consent_category_add": ({"school_id": "@school_a"}, only({"director_a", "app_admin_a"}, deny=403)),
    "consent_category_edit": ({"category_id": "@category"}, only({"director_a", "app_admin_a"}, deny=403)),
    "consent_reminder_date": ({"school_id": "@school_a"}, only({"director_a", "app_admin_a"}, deny=403)),
    "parent_invite": ({**PUPIL, "link_id": "@link"}, every(405)),
    # The parents' portal: its own realm, a staff session opens nothing there.
    "parent_home": ({}, every(302)),
    "parent_login": ({}, every(200)),
    "parent_login_code": ({}, every(302)),
    "parent_logout": ({}, every(302)),
    "parent_preferences": (PUPIL, every(302)),
    # Publications (R-CON-4, R-CON-5)
    "publication_list": ({}, only(FULL_A | {"teacher_b"}, deny=403)),
    "publication_new": ({}, only(FULL_A | {"teacher_b"}, deny=403)),
    "publication_detail": ({"publication_id": "@publication"}, only(FULL_A)),
    "publication_edit": ({"publication_id": "@publication"}, only(FULL_A)),
    "publication_one_off": ({"publication_id": "@publication", "appearance_id": "@appearance"}, every(405)),
    "publication_publish": ({"publication_id": "@publication"}, every(405)),
    "publication_take_down": ({"publication_id": "@publication"}, every(405)),
    # Pupils and dossiers
    "pupil_search": ({}, only(DOSSIER_ROLES, deny=403)),
    "pupil_find_by_bsn": ({}, every(405)),
    "application_new": ({}, only(FULL_A | {"teacher_b"}, deny=403)),
    "group_list": ({}, only(DOSSIER_ROLES, deny=403)),
    "group_detail": ({"group_id": "@group5_a"}, {**only(FULL_A), "fg": 403}),
    "dossier": (PUPIL, only(FULL_A)),
    "dossier_substantive": (PUPIL, only(FULL_A)),
    "dossier_bsn": (PUPIL, only({"director_a", "app_admin_a"})),
    "dossier_log": (PUPIL, only({"director_a", "app_admin_a"})),
    "pupil_edit": (PUPIL, only(FULL_A)),
    "enrolment_edit": (PUPIL, only(FULL_A)),
    "paper_dossier_edit": (PUPIL, only(FULL_A)),
    "guardian_add": (PUPIL, only(FULL_A)),
    "guardian_edit": ({**PUPIL, "link_id": "@link"}, only(FULL_A)),
    "document_add": (PUPIL, only(FULL_A)),
    "document_download": ({**PUPIL, "document_id": "@document"}, only(FULL_A)),
    "record_add": ({**PUPIL, "record_type": "support"}, only(FULL_A)),
    "record_edit": ({**PUPIL, "record_type": "support", "record_id": "@support_need"}, only(FULL_A)),
    # Data breaches (R-BRK-1..4): every staff member reports and sees their
    # own; the director their school's; the FG all and keeps the register.
    "breach_report": ({}, every(200)),
    "breach_mine": ({}, every(200)),
    "breach_register": ({}, every(200)),
    "breach_export": ({}, only({"fg"}, deny=403)),
    "breach_detail": ({"breach_id": "@breach"}, only({"teacher_a", "director_a", "fg"})),
    "breach_step": ({"breach_id": "@breach", "step": "decide"}, only({"fg"}, deny=403)),
    "breach_ap_form": ({"breach_id": "@breach"}, only({"fg"}, deny=403)),
    "breach_letter": ({"breach_id": "@breach"}, only({"fg"}, deny=403)),
}
for _part in PARTS:
    TABLE.update(_part.TABLE)
# Django's admin: only a verified superuser; all of the cast are sent to its login.
ADMIN_PREFIX = "admin:"


@pytest.fixture
def world(request, school_a, group5_a, pupil_a5, teacher_a, app_admin_a, director_a):
    link_guardian = Guardian.objects.create(last_name="Ouder")
    link = GuardianLink.objects.create(pupil=pupil_a5, guardian=link_guardian)
    need = SupportNeed.objects.create(pupil=pupil_a5, since=datetime.date(2024, 1, 1), description="x")
    document = Document.objects.create(
        pupil=pupil_a5, filename="a.pdf", content_type="application/pdf", size=5, content="JVBERi0="
    )
    cast = {role: request.getfixturevalue(role) for role in ROLES}
    categories_seed(school_a)
    website = ConsentCategory.objects.get(school=school_a, key="website")
    publication = Publication.objects.create(
        school=school_a, channel=website, date=datetime.date(2025, 6, 1), description="Sportdag", created_by=teacher_a
    )
    appearance = PublicationPupil.objects.create(publication=publication, pupil=pupil_a5)
    breach = Breach.objects.create(
        foundation=school_a.foundation,
        school=school_a,
        reporter=teacher_a,
        aware_at=datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC),
        what_happened="x",
        data_concerned="y",
    )
    objects = {
        "breach": breach.pk,
        "school_a": school_a.pk,
        "category": website.pk,
        "publication": publication.pk,
        "appearance": appearance.pk,
        "pupil": pupil_a5.pk,
        "teacher_a": teacher_a.pk,
        "membership": Membership.objects.get(user=teacher_a).pk,
        "group5_a": group5_a.pk,
        "link": link.pk,
        "support_need": need.pk,
        "document": document.pk,
        "cast": cast,
    }
    for part in PARTS:
        part.world(request, objects)
    return objects


def test_every_url_is_in_the_table():
    """S-10: a URL missing from the matrix fails here."""
    names = {name for name, _path in URLS if name and not name.startswith(ADMIN_PREFIX)}
    admin_names = {name for name, path in URLS if path.startswith("/admin/")}
    missing = names - set(TABLE) - admin_names
    assert missing == set(), f"add these URLs to the access table: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(TABLE))
def test_access_matrix(name, world, verified_client):
    """S-10, S-11, S-12, R-ACC-1..3: each role gets exactly the answer in the
    table; another school's pupil is the same 404 as a missing one."""
    kwargs_spec, expected = TABLE[name]
    kwargs = {k: (world[v[1:]] if isinstance(v, str) and v.startswith("@") else v) for k, v in kwargs_spec.items()}
    url = reverse(name, kwargs=kwargs)
    got = {role: verified_client(world["cast"][role]).get(url).status_code for role in ROLES}
    assert got == expected, name


def test_admin_site_only_for_superuser(world, verified_client):
    """S-10: every role of the cast is turned away from /admin/."""
    for role in ROLES:
        assert verified_client(world["cast"][role]).get("/admin/").status_code == 302
    root = make_staff("table_root")
    root.is_superuser = root.is_staff = True
    root.save()
    assert verified_client(root).get("/admin/").status_code == 200


# The method dimension: what each role gets when it POSTs (an empty form) to
# the URLs that only take POST. 302 and 200 are the view's own answers (done,
# or a form with errors); 403 a role without the capability; 404 an object
# outside the role's reach.
POST_TABLE = {
    "logout": every(302),
    "session_end": every(404),
    "sessions_end_others": every(302),
    "backup_codes_new": every(200),
    "second_factor_replace": every(302),
    "staff_role_revoke": only({"app_admin_a"}, ok=302, deny=403),
    "staff_set_active": only({"app_admin_a"}, ok=302, deny=403),
    "staff_second_factor_reset": only({"app_admin_a"}, ok=302, deny=403),
    "grant_assignment_end": only({"director_a", "app_admin_a"}, ok=404, deny=403),
    "grant_involvement_end": only({"director_a", "app_admin_a"}, ok=404, deny=403),
    "brp_import_confirm": only({"app_admin_a"}, ok=302, deny=403),
    "pupil_find_by_bsn": only({"director_a", "app_admin_a"}, ok=302, deny=403),
    "dossier_consent_entry": only(FULL_A, ok=200),
    "parent_invite": only(FULL_A, ok=302),
    "publication_one_off": only(FULL_A, ok=200),
    "publication_publish": only(FULL_A, ok=302),
    "publication_take_down": only(FULL_A, ok=302),
}
for _part in PARTS:
    POST_TABLE.update(_part.POST_TABLE)


def test_every_post_only_url_is_in_the_post_table():
    """S-10: the method dimension covers every POST-only URL."""
    post_only = {name for name, (_kwargs, expected) in TABLE.items() if set(expected.values()) == {405}}
    assert post_only == set(POST_TABLE)


# The application admin goes last: its POSTs change teacher_a's account
# (deactivate, revoke, reset), which the other roles' answers do not depend on.
POST_ORDER = [role for role in ROLES if role != "app_admin_a"] + ["app_admin_a"]


@pytest.mark.parametrize("name", sorted(POST_TABLE))
def test_post_matrix(name, world, verified_client):
    """S-10, S-11, S-15: a POST by each role gets exactly the table's answer."""
    kwargs_spec, _get = TABLE[name]
    kwargs = {k: (world[v[1:]] if isinstance(v, str) and v.startswith("@") else v) for k, v in kwargs_spec.items()}
    url = reverse(name, kwargs=kwargs)
    got = {role: verified_client(world["cast"][role]).post(url, {}).status_code for role in POST_ORDER}
    assert got == POST_TABLE[name], name
