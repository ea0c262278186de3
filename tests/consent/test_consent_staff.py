"""The staff consent pages through HTTP: the Toestemming tab with its history
and the paper form entry, the group matrix, and the categories per school
(R-CON-1, R-CON-3, R-CON-6, R-CON-7, R-CON-8, S-11, S-12, S-16)."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from guardian.shortcuts import assign_perm
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from consent.models import ConsentAnswer, ConsentCategory, ConsentSettings, QuestionVersion
from consent.services import answer_record, question_text_change
from consent.views_staff import consent_managed_schools
from privacy_admin.models import AuditEvent
from students.models import Assignment, Document, Guardian, GuardianLink, Involvement
from students.policy import INVOLVED_PERMISSION
from tests.conftest import make_staff
from tests.students.conftest import make_pupil

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
ROLES = ("director_a", "app_admin_a", "teacher_a", "substitute_a", "support_a", "teacher_b", "fg")


@pytest.fixture
def verified_client(verified_client):
    """Verified clients that ask for English, so the assertions read the
    English texts whatever the Dutch catalogue holds."""

    def make(user):
        client = verified_client(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return make


def _answer(child, category, guardian, value, channel="portal"):
    return answer_record(pupil=child, category=category, guardian=guardian, value=value, channel=channel)


def _tab(child):
    return reverse("dossier_consent", kwargs={"pupil_id": child.pk})


def _entry(child):
    return reverse("dossier_consent_entry", kwargs={"pupil_id": child.pk})


def _entry_data(guardian, answers, channel="paper"):
    data = {"guardian": guardian.pk, "channel": channel}
    data.update({f"answer_{category.pk}": value for category, value in answers})
    return data


# --- Who may open what (S-10, S-11) --------------------------------------------


@pytest.fixture
def cast(request, categories_a, child, mother):
    return {role: request.getfixturevalue(role) for role in ROLES}


def test_access_per_role(cast, child, group5_a, school_a, categories_a, verified_client):
    """S-10, S-11, R-CON-8: GET answers per role. Full-access roles see the tab
    and the matrix; the substitute and support member without a grant, and
    the teacher of school B, get the 404 of a missing pupil; the FG has no
    pupil lists (403). Categories are for the director and application admin."""
    category = categories_a["website"]
    urls = {
        "dossier_consent": (_tab(child), {"director_a": 200, "app_admin_a": 200, "teacher_a": 200}, 404),
        "dossier_consent_entry": (_entry(child), {}, 405),
        "consent_matrix": (
            reverse("consent_matrix", kwargs={"group_id": group5_a.pk}),
            {"director_a": 200, "app_admin_a": 200, "teacher_a": 200, "substitute_a": 404, "support_a": 404},
            404,
        ),
        "consent_categories": (reverse("consent_categories"), {"director_a": 200, "app_admin_a": 200}, 403),
        "consent_category_add": (
            reverse("consent_category_add", kwargs={"school_id": school_a.pk}),
            {"director_a": 200, "app_admin_a": 200},
            403,
        ),
        "consent_category_edit": (
            reverse("consent_category_edit", kwargs={"category_id": category.pk}),
            {"director_a": 200, "app_admin_a": 200},
            403,
        ),
        "consent_reminder_date": (
            reverse("consent_reminder_date", kwargs={"school_id": school_a.pk}),
            {"director_a": 200, "app_admin_a": 200},
            403,
        ),
    }
    expected = {
        "dossier_consent": {**dict.fromkeys(ROLES, 404), "director_a": 200, "app_admin_a": 200, "teacher_a": 200},
        "consent_matrix": {**dict.fromkeys(ROLES, 404), "director_a": 200, "app_admin_a": 200, "teacher_a": 200},
    }
    expected["consent_matrix"]["fg"] = 403
    clients = {role: verified_client(user) for role, user in cast.items()}
    for name, (url, allowed, deny) in urls.items():
        want = expected.get(name) or {role: allowed.get(role, deny) for role in ROLES}
        got = {role: clients[role].get(url).status_code for role in ROLES}
        assert got == want, name


def test_other_school_director_gets_404_for_school_a(categories_a, school_a, school_b, verified_client, child):
    """S-11: a director of school B manages B only; A's category and school are 404."""
    director_b = make_staff("director_b", school=school_b, role="directeur")
    client = verified_client(director_b)
    category = categories_a["website"]
    assert client.get(reverse("consent_category_edit", kwargs={"category_id": category.pk})).status_code == 404
    assert client.get(reverse("consent_category_add", kwargs={"school_id": school_a.pk})).status_code == 404
    assert client.get(reverse("consent_reminder_date", kwargs={"school_id": school_a.pk})).status_code == 404
    assert list(consent_managed_schools(director_b)) == [school_b]
    assert client.get(_tab(child)).status_code == 404


def test_teacher_b_gets_404_for_school_a_matrix_and_tab(verified_client, teacher_b, child, group5_a, categories_a):
    """S-11: another school's pupil and group are the same 404 as missing ones."""
    client = verified_client(teacher_b)
    assert client.get(_tab(child)).status_code == 404
    assert client.get(reverse("consent_matrix", kwargs={"group_id": group5_a.pk})).status_code == 404
    assert client.get(reverse("consent_matrix", kwargs={"group_id": 999999})).status_code == 404
    assert client.post(_entry(child), {}).status_code == 404


def test_involved_support_member_sees_the_tab_without_entry_form(
    verified_client, support_a, child, mother, categories_a
):
    """R-ACC-3: an involved support member reads the consent tab; entering
    answers is for staff who edit the dossier (404 on post)."""
    Involvement.objects.create(
        user=support_a, pupil=child, reason="leesbegeleiding", valid_from=TODAY - DAY, valid_until=TODAY + DAY
    )
    assign_perm(INVOLVED_PERMISSION, support_a, child)
    client = verified_client(support_a)
    page = client.get(_tab(child))
    assert page.status_code == 200
    assert reverse("dossier_consent_entry", kwargs={"pupil_id": child.pk}) not in page.content.decode()
    response = client.post(_entry(child), _entry_data(mother, [(categories_a["parro"], "given")]))
    assert response.status_code == 404
    assert not ConsentAnswer.objects.exists()


# --- The tab: effective answer, parents, history (R-CON-6, R-CON-7) -------------


def test_no_answer_is_no_consent_on_the_tab(verified_client, teacher_a, child, mother, categories_a):
    """R-CON-6: without answers every consent category says "no consent";
    the research objection says "no objection"."""
    page = verified_client(teacher_a).get(_tab(child)).content.decode()
    consent_kinds = [c for c in categories_a.values() if c.kind == ConsentCategory.Kind.CONSENT]
    assert page.count("no consent: no answer") == len(consent_kinds)
    assert "no objection" in page
    assert "No answers recorded: no consent for any category." in page


def test_two_parents_disagreeing_shows_no_consent(
    verified_client, teacher_a, child, mother, father, categories_a, group5_a
):
    """R-CON-6: one parent gives, the other refuses: the stricter answer
    holds, on the tab and in the group matrix."""
    _answer(child, categories_a["website"], mother, "given")
    _answer(child, categories_a["website"], father, "refused")
    _answer(child, categories_a["parro"], mother, "given")
    client = verified_client(teacher_a)
    page = client.get(_tab(child)).content.decode()
    assert 'class="consent-no"><strong>no consent: the parents disagree</strong>' in page
    assert 'class="consent-yes"><strong>consent</strong>' in page  # parro: one parent gave, none refused
    matrix = client.get(reverse("consent_matrix", kwargs={"group_id": group5_a.pk})).content.decode()
    assert "no consent: the parents disagree" in matrix


def test_tab_shows_each_parent_and_the_history_with_version_text(
    verified_client, teacher_a, child, mother, stepparent, categories_a
):
    """R-CON-7, R-CON-6: the history keeps who, when, how and the exact text
    of the version answered; a parent without authority is marked as not
    counting."""
    website = categories_a["website"]
    old_text = website.current_version().text_nl
    _answer(child, website, mother, "given")
    question_text_change(website, text_nl="Nieuwe vraag over de website?", text_en="New website question?",
                         acting_user=None)  # fmt: skip
    _answer(child, website, mother, "refused", channel="phone")
    page = verified_client(teacher_a).get(_tab(child)).content.decode()
    assert escape(old_text) in page and "Nieuwe vraag over de website?" in page
    assert "version 1" in page and "version 2" in page
    assert "Marieke Kwast" in page and "parents&#x27; portal" in page and "by phone, through staff" in page
    assert "without parental authority: does not count" in page  # the stepparent's column


# --- Paper form entry (R-CON-1, R-CON-6) ----------------------------------------


def test_paper_entry_records_channel_entered_by_and_scan(verified_client, app_admin_a, child, mother, categories_a):
    """R-CON-1, R-CON-7: staff enter one parent's paper form; every answer
    keeps the channel, the staff member who entered it, the version and the
    scan; unanswered categories are not recorded; all audited."""
    data = _entry_data(mother, [(categories_a["parro"], "given"), (categories_a["website"], "refused")])
    data["scan-file"] = io.BytesIO(PDF)
    data["scan-file"].name = "formulier.pdf"
    response = verified_client(app_admin_a).post(_entry(child), data)
    assert response.status_code == 302 and response["Location"] == _tab(child)
    answers = {a.category.key: a for a in ConsentAnswer.objects.filter(pupil=child).select_related("category")}
    assert set(answers) == {"parro", "website"}
    scan = Document.objects.get(pupil=child)
    for answer in answers.values():
        assert answer.channel == "paper" and answer.entered_by == app_admin_a and answer.guardian == mother
        assert answer.version.number == 1 and answer.scan == scan
    assert answers["website"].value == "refused"
    assert AuditEvent.objects.filter(action="consent.answered", pupil_id=child.pk).count() == 2
    assert AuditEvent.objects.filter(action="dossier.document_added", pupil_id=child.pk).count() == 1


def test_phone_entry_without_scan(verified_client, teacher_a, child, father, categories_a):
    """R-CON-1, R-CON-7: a phone call entered by staff says so."""
    data = _entry_data(father, [(categories_a["onderzoek-nco"], "refused")], channel="phone")
    assert verified_client(teacher_a).post(_entry(child), data).status_code == 302
    answer = ConsentAnswer.objects.get()
    assert (answer.channel, answer.entered_by, answer.scan) == ("phone", teacher_a, None)


def test_entry_for_parent_without_authority_is_refused(
    verified_client, director_a, child, mother, stepparent, categories_a
):
    """R-CON-6: a parent without parental authority is not offered, and a
    forged post for them stores nothing."""
    client = verified_client(director_a)
    page = client.get(_tab(child)).content.decode()
    assert f'value="{mother.pk}"' in page and f'value="{stepparent.pk}"' not in page
    response = client.post(_entry(child), _entry_data(stepparent, [(categories_a["parro"], "given")]))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ConsentAnswer.objects.exists()


def test_entry_refused_when_authority_removed_meanwhile(verified_client, director_a, child, mother, categories_a):
    """R-CON-6: the service refuses too (e.g. the authority was removed between
    showing and posting the form): a message, nothing stored, no scan."""
    from consent import forms_staff

    class AnyGuardian(forms_staff.PaperEntryForm):
        def __init__(self, *args, guardians, **kwargs):
            super().__init__(*args, guardians=Guardian.objects.all(), **kwargs)

    stranger = Guardian.objects.create(last_name="Vreemd")
    GuardianLink.objects.create(pupil=child, guardian=stranger, has_authority=False)
    data = _entry_data(stranger, [(categories_a["parro"], "given")])
    data["scan-file"] = io.BytesIO(PDF)
    data["scan-file"].name = "formulier.pdf"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("consent.views_staff.PaperEntryForm", AnyGuardian)
        response = verified_client(director_a).post(_entry(child), data)
    assert response.status_code == 200
    assert "Only a parent with parental authority" in response.content.decode()
    assert not ConsentAnswer.objects.exists() and not Document.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"answers": []},  # nothing answered
        {"answers": [("parro", "maybe")]},
        {"channel": "portal"},  # staff do not enter portal answers
        {"channel": ""},
        {"guardian": "999999"},
        {"guardian": "x"},
        {"scan": b"MZ\x90\x00 not a pdf"},
    ],
)
def test_bad_entry_input_rerenders_and_stores_nothing(verified_client, director_a, child, mother, categories_a, change):
    """R-CON-1, S-16: each bad input gets a message and stores nothing."""
    answers = [(categories_a[key], value) for key, value in change.get("answers", [("parro", "given")])]
    data = _entry_data(mother, answers, channel=change.get("channel", "paper"))
    if "guardian" in change:
        data["guardian"] = change["guardian"]
    if "scan" in change:
        data["scan-file"] = io.BytesIO(change["scan"])
        data["scan-file"].name = "formulier.pdf"
    response = verified_client(director_a).post(_entry(child), data)
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not ConsentAnswer.objects.exists() and not Document.objects.exists()


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    guardian=st.text(max_size=12),
    channel=st.text(max_size=10),
    value=st.sampled_from(["", "given", "refused", "x", "GIVEN", "\x00"]),
)
def test_entry_under_generated_input(
    verified_client, director_a, child, mother, categories_a, guardian, channel, value
):
    """S-16: generated input never causes a 500; a rejected form stores nothing."""
    before = ConsentAnswer.objects.count()
    data = {"guardian": guardian, "channel": channel, f"answer_{categories_a['parro'].pk}": value}
    response = verified_client(director_a).post(_entry(child), data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert ConsentAnswer.objects.count() == before


# --- The group matrix (S-12) ---------------------------------------------------------


def test_matrix_shows_exactly_the_visible_pupils(
    verified_client, substitute_a, teacher_a, school_a, group5_a, child, mother, categories_a
):
    """S-12: a substitute assigned to one pupil of the group sees that pupil
    only; the teacher sees the whole group."""
    other = make_pupil(school_a, group5_a, first="Otto", last="Anders")
    assignment = Assignment.objects.create(
        user=substitute_a, school=school_a, record_types=["attendance"], valid_from=TODAY - DAY, valid_until=TODAY
    )
    assignment.pupils.add(other)
    url = reverse("consent_matrix", kwargs={"group_id": group5_a.pk})
    page = verified_client(substitute_a).get(url).content.decode()
    assert "Anders, Otto" in page and "Kwast" not in page and "1 pupil" in page
    page = verified_client(teacher_a).get(url).content.decode()
    assert "Anders, Otto" in page and "Kwast, Sanne" in page and "2 pupils" in page


def test_matrix_cells_say_no_consent_in_words(verified_client, teacher_a, child, mother, categories_a, group5_a):
    """R-CON-6, R-DIS-4: "no consent" is text and a class, not colour alone;
    the research column shows objection / no objection."""
    _answer(child, categories_a["parro"], mother, "given")
    _answer(child, categories_a["onderzoek-nco"], mother, "refused")
    page = verified_client(teacher_a).get(reverse("consent_matrix", kwargs={"group_id": group5_a.pk}))
    html = page.content.decode()
    assert 'class="matrix consent-matrix printable"' in html
    assert '<td class="consent-yes">consent</td>' in html
    assert '<td class="consent-no"><strong>objection</strong></td>' in html
    assert html.count('<td class="consent-no"><strong>no consent: no answer</strong></td>') == 5


def _matrix_queries(client, group):
    url = reverse("consent_matrix", kwargs={"group_id": group.pk})
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_matrix_query_count_does_not_grow_with_pupils(verified_client, teacher_a, school_a, group5_a, categories_a):
    """R-CON-6 (matrix), STYLE 12: the same number of queries for 5 and for 30 pupils."""
    client = verified_client(teacher_a)

    def fill(count):
        for index in range(count):
            pupil = make_pupil(school_a, group5_a, first=f"Kind{index}", last="Groep")
            parent = Guardian.objects.create(last_name=f"Ouder{index}", email=f"o{index}@example.org")
            GuardianLink.objects.create(pupil=pupil, guardian=parent, has_authority=True)
            _answer(pupil, categories_a["parro"], parent, "given")

    fill(5)
    five = _matrix_queries(client, group5_a)
    fill(25)
    thirty = _matrix_queries(client, group5_a)
    assert five == thirty


# --- Categories per school (R-CON-8, R-CON-7) -----------------------------------------


def test_director_adds_a_category_with_version_1(verified_client, director_a, school_a, categories_a):
    """R-CON-8: the director adds a category; its question is version 1; audited."""
    response = verified_client(director_a).post(
        reverse("consent_category_add", kwargs={"school_id": school_a.pk}),
        {
            "key": "sportdag",
            "label_nl": "Sportdag",
            "label_en": "Sports day",
            "kind": "consent",
            "is_publication_channel": "on",
            "text_nl": "Mogen foto's van de sportdag in de ouderapp?",
            "text_en": "May sports day photos go in the parent app?",
        },
    )
    assert response.status_code == 302
    category = ConsentCategory.objects.get(school=school_a, key="sportdag")
    assert category.label_en == "Sports day" and category.active and not category.is_parent_app
    assert [v.number for v in category.versions.all()] == [1]
    assert AuditEvent.objects.filter(action="consent.category_created", school_id=school_a.pk).exists()


def test_changing_a_question_makes_version_2_and_old_answers_keep_version_1(
    verified_client, app_admin_a, child, mother, categories_a
):
    """R-CON-7: a changed text becomes version 2; earlier answers stay on
    version 1 with its text; new answers get version 2."""
    website = categories_a["website"]
    old = _answer(child, website, mother, "given")
    response = verified_client(app_admin_a).post(
        reverse("consent_category_edit", kwargs={"category_id": website.pk}),
        {"label_nl": "Website", "label_en": "Website", "is_publication_channel": "on", "active": "on",
         "text_nl": "Mogen foto's op de nieuwe website?", "text_en": "May photos appear on the new website?"},
    )  # fmt: skip
    assert response.status_code == 302
    assert [v.number for v in website.versions.order_by("number")] == [1, 2]
    old.refresh_from_db()
    assert old.version.number == 1 and old.version.text_nl != "Mogen foto's op de nieuwe website?"
    new = _answer(child, website, mother, "refused")
    assert new.version.number == 2 and new.version.text_nl == "Mogen foto's op de nieuwe website?"
    assert AuditEvent.objects.filter(action="consent.question_changed").count() == 1


def test_editing_labels_only_keeps_the_version_and_can_deactivate(verified_client, director_a, categories_a):
    """R-CON-8: names and the active flag change in place; the same text makes no new version."""
    press = categories_a["pers"]
    version = press.current_version()
    response = verified_client(director_a).post(
        reverse("consent_category_edit", kwargs={"category_id": press.pk}),
        {"label_nl": "Pers en media", "label_en": "Press and media", "is_publication_channel": "on",
         "text_nl": version.text_nl, "text_en": version.text_en},
    )  # fmt: skip
    assert response.status_code == 302
    press.refresh_from_db()
    assert press.label_nl == "Pers en media" and not press.active
    assert press.versions.count() == 1
    event = AuditEvent.objects.get(action="consent.category_changed")
    assert event.details == {"fields": ["active", "label_en", "label_nl"]}


def test_teacher_cannot_manage_categories(verified_client, teacher_a, school_a, categories_a):
    """R-CON-8: category management is for the director and application admin (403)."""
    client = verified_client(teacher_a)
    response = client.post(
        reverse("consent_category_add", kwargs={"school_id": school_a.pk}),
        {"key": "x", "label_nl": "x", "label_en": "x", "kind": "consent", "text_nl": "x", "text_en": "x"},
    )
    assert response.status_code == 403
    assert not ConsentCategory.objects.filter(key="x").exists()


@pytest.mark.parametrize(
    "change,field",
    [
        ({"key": ""}, "key"),
        ({"key": "met spaties"}, "key"),
        ({"key": "website"}, "key"),  # exists already
        ({"label_nl": "  "}, "label_nl"),
        ({"text_en": ""}, "text_en"),
        ({"kind": "maybe"}, "kind"),
        ({"is_parent_app": "on"}, "is_parent_app"),  # the school has one already
        ({"kind": "objection", "is_parent_app": "on"}, "is_parent_app"),
    ],
)
def test_bad_category_input_rerenders_and_stores_nothing(
    verified_client, director_a, school_a, categories_a, change, field
):
    """R-CON-8, S-16: a bad new category gets a message at its field; nothing is stored."""
    data = {"key": "sportdag", "label_nl": "Sportdag", "label_en": "Sports day", "kind": "consent",
            "text_nl": "Vraag?", "text_en": "Question?"}  # fmt: skip
    data.update(change)
    before = (ConsentCategory.objects.count(), QuestionVersion.objects.count(), AuditEvent.objects.count())
    response = verified_client(director_a).post(
        reverse("consent_category_add", kwargs={"school_id": school_a.pk}), data
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert (ConsentCategory.objects.count(), QuestionVersion.objects.count(), AuditEvent.objects.count()) == before


def test_bad_category_edit_rerenders_and_stores_nothing(verified_client, director_a, categories_a):
    """R-CON-7, S-16: an emptied question text is refused; no new version, no change."""
    website = categories_a["website"]
    response = verified_client(director_a).post(
        reverse("consent_category_edit", kwargs={"category_id": website.pk}),
        {"label_nl": "Andere naam", "label_en": "Website", "active": "on", "text_nl": "", "text_en": "x"},
    )
    assert response.status_code == 200 and "text_nl" in response.context["form"].errors
    website.refresh_from_db()
    assert website.label_nl == "Website" and website.versions.count() == 1


def test_reminder_date_is_saved_and_audited(verified_client, director_a, school_a):
    """R-CON-3: the per-school reminder date, audited."""
    url = reverse("consent_reminder_date", kwargs={"school_id": school_a.pk})
    response = verified_client(director_a).post(url, {"reminder_day": "25", "reminder_month": "8"})
    assert response.status_code == 302
    settings = ConsentSettings.objects.get(school=school_a)
    assert (settings.reminder_day, settings.reminder_month) == (25, 8)
    event = AuditEvent.objects.get(action="consent.reminder_date_changed")
    assert event.details == {"old": "01-09", "new": "25-08"}


@pytest.mark.parametrize(
    "day,month", [("31", "2"), ("29", "2"), ("31", "9"), ("0", "9"), ("1", "13"), ("", "9"), ("x", "9")]
)
def test_bad_reminder_date_rerenders_and_stores_nothing(verified_client, director_a, school_a, day, month):
    """R-CON-3, S-16: only a date that exists every year is accepted."""
    url = reverse("consent_reminder_date", kwargs={"school_id": school_a.pk})
    response = verified_client(director_a).post(url, {"reminder_day": day, "reminder_month": month})
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert not ConsentSettings.objects.exists()
    assert not AuditEvent.objects.filter(action="consent.reminder_date_changed").exists()


def test_categories_page_lists_each_managed_school(verified_client, app_admin_a, categories_a, school_a):
    """R-CON-8: the list shows the school's categories with their current question."""
    page = verified_client(app_admin_a).get(reverse("consent_categories")).content.decode()
    assert school_a.name in page and "Parent app (Parro)" in page and "(v1)" in page
    assert "goes out on 1 September" in page
