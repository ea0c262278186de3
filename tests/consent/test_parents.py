"""The parents' portal (U-4, R-CON-2, R-CON-6, R-CON-7, R-DIS-6): sign-in by
e-mail address and one-time code (S-1, S-2/S-3, S-5 and S-6 analogues for the
parents' realm), the preferences page, and the staff's invitation."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.http import HttpResponse
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from consent import parents
from consent.models import ConsentAnswer, ConsentCategory, ParentLoginCode
from consent.services import answer_record, question_text_change
from privacy_admin.models import AuditEvent
from students.models import Guardian, GuardianLink
from tests.conftest import age_session
from tests.consent.conftest import _guardian
from tests.students.conftest import make_pupil
from tests.test_gate import all_urls

LOGIN = "/parents/inloggen/"
CODE = "/parents/inloggen/code/"
HOME = "/parents/"


# A stand-in for the dossier's consent tab, used only while that view is not
# in the URLconf: the invitation redirects there.
def _consent_tab_stub(request, pupil_id):
    return HttpResponse("consent tab")


urlpatterns = [
    path("", include("privacy_admin.urls")),
    path("stub/leerlingen/<int:pupil_id>/toestemming/", _consent_tab_stub, name="dossier_consent"),
]


@pytest.fixture(autouse=True)
def _dutch_default(settings):
    """The parents' portal is Dutch by default (U-4); the rest of the suite reads English."""
    settings.LANGUAGE_CODE = "nl"


@pytest.fixture
def consent_tab(settings):
    try:
        reverse("dossier_consent", args=[1])
    except NoReverseMatch:
        settings.ROOT_URLCONF = __name__
    return lambda pupil_id: reverse("dossier_consent", args=[pupil_id])


# --- helpers -------------------------------------------------------------------------


def _code_in(message):
    found = re.findall(r"^(\d{6})$", message.body, re.M)
    assert len(found) == 1, message.body
    return found[0]


def committed(call, *args, **kwargs):
    """Run a request and then what it left for after the commit (the e-mails):
    the test database never commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return call(*args, **kwargs)


def ask_code(client, email):
    return committed(client.post, LOGIN, {"email": email})


def sign_in(client, email):
    before = len(mail.outbox)
    assert ask_code(client, email)["Location"] == CODE
    assert len(mail.outbox) == before + 1
    response = client.post(CODE, {"code": _code_in(mail.outbox[-1])})
    assert response.status_code == 302 and response["Location"] == HOME, response
    return client


def prefs_data(pupil, answers):
    """POST data as the page builds it: the answers and, per question, the
    version shown (R-CON-7)."""
    data = {}
    for category in ConsentCategory.objects.filter(school=pupil.school, active=True):
        data[f"version_{category.pk}"] = str(category.current_version().pk)
    for category, value in answers.items():
        data[f"category_{category.pk}"] = value
    return data


def post_prefs(client, pupil, answers):
    return committed(client.post, f"/parents/kind/{pupil.pk}/voorkeuren/", prefs_data(pupil, answers))


def parent_page_urls():
    """Every /parents/ page, from the URLconf, except the two sign-in steps."""
    found = []
    for name, url in all_urls():
        if not name or not name.startswith("parent_") or name == "parent_invite":
            continue
        assert url.startswith("/parents/"), (name, url)
        if name not in parents.PARENT_PUBLIC_URL_NAMES:
            found.append((name, url))
    return found


# --- sign-in ---------------------------------------------------------------------------


def test_code_flow_signs_in(client, categories_a, child, mother):
    """U-4, S-3: the parent enters the address the school has, receives a code
    by e-mail and signs in with it; the sign-in is audited with a guardian id
    and without the address (S-22, S-24)."""
    response = ask_code(client, mother.email)
    assert response.status_code == 302 and response["Location"] == CODE
    assert [m.to for m in mail.outbox] == [[mother.email]]
    code = _code_in(mail.outbox[0])
    assert "/parents/inloggen/code/" in mail.outbox[0].body
    assert client.get(CODE).status_code == 200
    response = client.post(CODE, {"code": code})
    assert response["Location"] == HOME
    home = client.get(HOME)
    assert home.status_code == 200
    assert "Sanne" in home.content.decode()
    login = AuditEvent.objects.get(action="parent.login")
    assert login.actor_id is None and login.actor_label == "parent"
    assert login.details["guardian"] == mother.pk
    for event in AuditEvent.objects.all():
        row = str([event.actor_label, event.object_id, event.ground, event.details])
        assert "marieke" not in row.lower() and code not in row


def test_address_is_matched_case_insensitively(client, categories_a, child, mother):
    """U-4: the address is compared without regard to case or spaces."""
    sign_in(client, "  Marieke.KWAST@Example.org ")
    assert mail.outbox[0].to == ["marieke.kwast@example.org"]


def test_unknown_address_gets_the_same_page_and_no_mail(client, categories_a, child, mother):
    """U-4, no account enumeration: an unknown address, or one of a guardian
    linked to no pupil, gets the same answer as a known one, and no mail."""
    Guardian.objects.create(first_name="Los", last_name="Zand", email="unlinked@example.org")
    pages = []
    for email in ("marieke.kwast@example.org", "nobody@example.org", "unlinked@example.org"):
        browser = Client()
        response = ask_code(browser, email)
        assert response.status_code == 302 and response["Location"] == CODE
        page = browser.get(CODE).content.decode().replace(email, "ADDRESS")
        pages.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page))
    assert pages[0] == pages[1] == pages[2]
    assert len(mail.outbox) == 1
    assert set(ParentLoginCode.objects.values_list("email", flat=True)) == {"marieke.kwast@example.org"}


def test_code_is_stored_hashed(client, categories_a, child, mother):
    """U-4, S-4/S-24 analogue: the database holds no code in clear."""
    ask_code(client, mother.email)
    code = _code_in(mail.outbox[0])
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM consent_parentlogincode")
        rows = cursor.fetchall()
    assert len(rows) == 1
    assert code not in repr(rows)
    row = ParentLoginCode.objects.get()
    assert len(row.code_hash) == 64 and row.expires_at - row.created_at == timedelta(minutes=10)


def test_expired_code_is_refused(client, categories_a, child, mother):
    """S-3 analogue: a code older than 10 minutes is refused."""
    ask_code(client, mother.email)
    code = _code_in(mail.outbox[0])
    ParentLoginCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(CODE, {"code": code})
    assert response.status_code == 200 and "verlopen" in response.content.decode()
    assert parents.EMAIL_KEY not in client.session
    assert AuditEvent.objects.get(action="parent.login_failed").details["reason"] == "no_live_code"


def test_code_is_valid_once(client, categories_a, child, mother):
    """S-3 analogue: a used code is refused."""
    sign_in(client, mother.email)
    code = _code_in(mail.outbox[0])
    client.post("/parents/uitloggen/")
    session = client.session
    session[parents.PENDING_EMAIL_KEY] = mother.email
    session.save()
    response = client.post(CODE, {"code": code})
    assert response.status_code == 200
    assert parents.EMAIL_KEY not in client.session


def test_new_code_kills_the_previous_one(client, categories_a, child, mother):
    """S-3 analogue: asking again invalidates the unused code before it."""
    ask_code(client, mother.email)
    ask_code(client, mother.email)
    first, second = _code_in(mail.outbox[0]), _code_in(mail.outbox[1])
    if first != second:
        assert client.post(CODE, {"code": first}).status_code == 200
    assert client.post(CODE, {"code": second})["Location"] == HOME


def test_sixth_attempt_is_refused_even_with_the_right_code(client, categories_a, child, mother):
    """S-3 analogue: at most 5 wrong attempts per code, then it is dead."""
    ask_code(client, mother.email)
    code = _code_in(mail.outbox[0])
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for _attempt in range(5):
        assert client.post(CODE, {"code": wrong}).status_code == 200
    assert ParentLoginCode.objects.get().attempts == 5
    response = client.post(CODE, {"code": code})
    assert response.status_code == 200
    assert parents.EMAIL_KEY not in client.session
    assert AuditEvent.objects.filter(action="parent.login_failed").count() == 6


def test_code_of_another_address_does_not_work(client, categories_a, child, mother, father):
    """S-3 analogue: a code is bound to the address it was sent to."""
    other = Client()
    ask_code(other, father.email)
    ask_code(client, mother.email)
    fathers = _code_in(mail.outbox[0])
    mothers = _code_in(mail.outbox[1])
    if fathers != mothers:
        assert client.post(CODE, {"code": fathers}).status_code == 200
        assert parents.EMAIL_KEY not in client.session


def test_code_step_without_an_address_goes_back_to_step_one(client, db):
    """U-4: the address is carried in the session, never in the URL."""
    assert client.get(CODE)["Location"] == LOGIN
    assert client.post(CODE, {"code": "123456"})["Location"] == LOGIN


def test_codes_are_throttled_per_address_known_or_not(client, categories_a, child, mother, monkeypatch):
    """S-2/S-3 analogue: at most 3 codes per address per 15 minutes; the 4th
    request sends nothing and says so, for an unknown address exactly as for a
    known one; after the window it works again (cool-off)."""
    for email in (mother.email, "nobody@example.org"):
        browser = Client()
        for _attempt in range(3):
            assert ask_code(browser, email)["Location"] == CODE
        refused = ask_code(browser, email)
        assert refused.status_code == 200 and "te veel codes aangevraagd" in refused.content.decode()
    assert len(mail.outbox) == 3
    assert ParentLoginCode.objects.count() == 3
    assert AuditEvent.objects.filter(action="parent.code_limit_reached").count() == 2

    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(minutes=16))
    assert ask_code(Client(), mother.email)["Location"] == CODE
    assert len(mail.outbox) == 4


def test_codes_are_throttled_per_client_address(client, categories_a, child, mother):
    """S-2 analogue: at most 20 code requests per client address per 15
    minutes, whatever addresses are typed."""
    for n in range(20):
        assert ask_code(client, f"guess{n}@example.org")["Location"] == CODE
    refused = ask_code(client, mother.email)
    assert refused.status_code == 200 and "te veel codes aangevraagd" in refused.content.decode()
    assert mail.outbox == []
    assert ask_code(Client(REMOTE_ADDR="192.0.2.7"), mother.email)["Location"] == CODE


def test_wrong_codes_are_throttled_per_client_address(client, categories_a, child, mother):
    """S-2 analogue: one client guessing codes for addresses without a code
    is stopped after 50 failures in 15 minutes, and then writes nothing more."""
    session = client.session
    session[parents.PENDING_EMAIL_KEY] = "nobody@example.org"
    session.save()
    for _attempt in range(parents.CODE_FAILURES_PER_CLIENT):
        client.post(CODE, {"code": "123456"})
    refused = client.post(CODE, {"code": "123456"})
    assert "te veel onjuiste codes" in refused.content.decode()
    assert AuditEvent.objects.filter(action="parent.login_failed").count() == parents.CODE_FAILURES_PER_CLIENT
    assert sign_in(Client(REMOTE_ADDR="192.0.2.8"), mother.email)


def test_session_key_cycles_on_sign_in(client, categories_a, child, mother):
    """S-5: a new session key when the parent signs in."""
    ask_code(client, mother.email)
    before = client.cookies["sessionid"].value
    client.post(CODE, {"code": _code_in(mail.outbox[0])})
    assert client.cookies["sessionid"].value != before
    assert client.session[parents.EMAIL_KEY] == mother.email
    assert parents.PENDING_EMAIL_KEY not in client.session


def test_url_walk_finds_the_parent_pages():
    """S-1 analogue: the walk below covers the portal's pages."""
    names = {name for name, _url in parent_page_urls()}
    assert {"parent_home", "parent_preferences", "parent_logout"} <= names


@pytest.mark.parametrize("name,url", parent_page_urls())
def test_every_parent_page_needs_a_parent_session(name, url, client, verified_client, teacher_a):
    """S-1 analogue: every /parents/ page except the two sign-in steps sends
    a visitor without a parent session to the sign-in; a staff session alone
    opens none of them."""
    for browser in (client, verified_client(teacher_a)):
        for method in ("get", "post"):
            response = getattr(browser, method)(url)
            assert response.status_code == 302, (name, method)
            assert response["Location"] == LOGIN, (name, method)


def test_sign_in_steps_are_public(client, db):
    """S-1 analogue: the sign-in page opens without any session."""
    assert client.get(LOGIN).status_code == 200


def test_signed_in_parent_skips_the_sign_in_page(client, categories_a, child, mother):
    sign_in(client, mother.email)
    assert client.get(LOGIN)["Location"] == HOME
    assert client.get(CODE)["Location"] == HOME


def test_sign_out_removes_only_the_parent_keys(verified_client, teacher_a, categories_a, child, mother):
    """U-4: signing out of the parents' portal leaves a staff sign-in in the
    same browser alone, and a staff member is not the actor of what is done
    as a parent."""
    browser = sign_in(verified_client(teacher_a), mother.email)
    assert AuditEvent.objects.get(action="parent.login").actor_id is None
    assert browser.get("/parents/uitloggen/").status_code == 405
    response = browser.post("/parents/uitloggen/")
    assert response["Location"] == LOGIN
    assert all(key not in browser.session for key in parents.SESSION_KEYS)
    assert browser.get(HOME)["Location"] == LOGIN
    assert browser.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="parent.logout").exists()


def test_idle_parent_session_ends(client, categories_a, child, mother, settings):
    """S-6 analogue: after SESSION_IDLE_MINUTES without a request the parent
    signs in again."""
    sign_in(client, mother.email)
    age_session(client, **{parents.LAST_SEEN_KEY: settings.SESSION_IDLE_MINUTES * 60 - 30})
    assert client.get(HOME).status_code == 200
    age_session(client, **{parents.LAST_SEEN_KEY: settings.SESSION_IDLE_MINUTES * 60 + 1})
    assert client.get(HOME)["Location"] == LOGIN
    assert parents.EMAIL_KEY not in client.session
    assert AuditEvent.objects.filter(action="parent.session_expired").count() == 1


def test_parent_session_has_an_absolute_cap(client, categories_a, child, mother, settings):
    """S-6 analogue: however active, a sign-in lasts SESSION_MAX_HOURS."""
    sign_in(client, mother.email)
    age_session(client, **{parents.AUTH_AT_KEY: settings.SESSION_MAX_HOURS * 3600 + 1})
    assert client.get(HOME)["Location"] == LOGIN


def test_parent_pages_are_not_cached(client, categories_a, child, mother):
    """S-19: no parent page is kept by the browser or a proxy."""
    sign_in(client, mother.email)
    for url in (LOGIN, HOME):
        assert client.get(url)["Cache-Control"] == "no-store"


# --- preferences ---------------------------------------------------------------------


def test_home_shows_question_effective_and_own_answer(client, categories_a, child, mother, father):
    """U-4, R-CON-6: per category the question as it stands, the effective
    answer (the stricter parent wins) and the parent's own newest answer."""
    website = categories_a["website"]
    answer_record(pupil=child, category=website, guardian=mother, value="given", channel="paper")
    answer_record(pupil=child, category=website, guardian=father, value="refused", channel="paper")
    sign_in(client, mother.email)
    child_block = next(c for c in client.get(HOME).context["children"] if c.access.pupil == child)
    row = next(r for r in child_block.rows if r.category == website)
    assert row.question == website.current_version().text_nl
    assert row.effective.state == "refused"
    assert row.own.value == "given"
    assert len(child_block.rows) == len(categories_a)


def test_home_speaks_english_after_the_language_switch(client, categories_a, child, mother):
    """U-4: Dutch by default; the language switch shows the English question."""
    sign_in(client, mother.email)
    website = categories_a["website"]
    assert escape(website.current_version().text_nl) in client.get(HOME).content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": HOME})
    assert escape(website.current_version().text_en) in client.get(HOME).content.decode()


def test_parent_with_authority_changes_a_preference(client, categories_a, child, mother):
    """R-CON-2, R-CON-7: a parent with authority changes a preference; the
    answer keeps who, when, channel and the question version shown."""
    sign_in(client, mother.email)
    website = categories_a["website"]
    response = post_prefs(client, child, {website: "refused"})
    assert response.status_code == 302 and response["Location"].startswith(HOME)
    answer = ConsentAnswer.objects.get()
    assert (answer.pupil, answer.category, answer.guardian) == (child, website, mother)
    assert answer.value == "refused" and answer.channel == "portal" and answer.entered_by is None
    assert answer.version == website.current_version()
    event = AuditEvent.objects.get(action="consent.answered")
    assert event.actor_id is None and event.actor_label == f"guardian #{mother.pk}"
    page = client.get(HOME).content.decode()
    assert "is opgeslagen" in page


def test_confirmation_mail_carries_no_personal_data(client, categories_a, child, mother):
    """R-DIS-6, S-24: the confirmation goes to the parent and carries a link,
    no names of child or parent."""
    sign_in(client, mother.email)
    code_mail = mail.outbox[0]
    post_prefs(client, child, {categories_a["website"]: "refused", categories_a["pers"]: "given"})
    assert len(mail.outbox) == 2
    message = mail.outbox[-1]
    assert message.to == [mother.email]
    assert "/parents/" in message.body
    for text in (message.subject, message.body, code_mail.subject, code_mail.body):
        for name in ("Sanne", "Kwast", "Marieke", "marieke", "Website", "Pers"):
            assert name not in text


def test_all_changes_in_one_transaction(client, categories_a, child, mother, monkeypatch):
    """R-CON-7: the changes of one form are stored together or not at all."""
    from consent import services

    sign_in(client, mother.email)
    real = services.answer_record
    calls = []

    def failing(**kwargs):
        calls.append(kwargs["category"].key)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(parents, "answer_record", failing)
    with pytest.raises(RuntimeError):
        post_prefs(client, child, {categories_a["website"]: "refused", categories_a["pers"]: "refused"})
    assert not ConsentAnswer.objects.exists()
    assert len(mail.outbox) == 1  # only the code


def test_unchanged_answer_is_not_recorded_again(client, categories_a, child, mother):
    """R-CON-7: only a changed category gets a new answer; no mail when nothing changed."""
    sign_in(client, mother.email)
    post_prefs(client, child, {categories_a["website"]: "given"})
    response = post_prefs(client, child, {categories_a["website"]: "given"})
    assert response.status_code == 302
    assert ConsentAnswer.objects.count() == 1
    assert len(mail.outbox) == 2  # the code and one confirmation


def test_answer_to_a_reworded_question_is_not_recorded(client, categories_a, child, mother, director_a):
    """R-CON-7: a question reworded after the page was opened: the answer is
    not stored against a text the parent did not see; the new text is shown."""
    sign_in(client, mother.email)
    website = categories_a["website"]
    data = prefs_data(child, {website: "refused"})
    question_text_change(
        website, text_nl="Nieuwe vraag over de website?", text_en="New question?", acting_user=director_a
    )
    response = committed(client.post, f"/parents/kind/{child.pk}/voorkeuren/", data)
    assert response.status_code == 200
    assert not ConsentAnswer.objects.exists()
    page = response.content.decode()
    assert "Nieuwe vraag over de website?" in page and "anders geformuleerd" in page
    resend = {k: v for k, v in data.items()}
    resend[f"version_{website.pk}"] = str(website.current_version().pk)
    assert client.post(f"/parents/kind/{child.pk}/voorkeuren/", resend).status_code == 302
    assert ConsentAnswer.objects.get().version.number == 2


def test_parent_without_authority_sees_but_cannot_change(client, categories_a, child, mother, stepparent):
    """R-CON-6: a parent without parental authority sees the preferences with
    the reason, but gets no form, and a forged POST is refused (403)."""
    answer_record(pupil=child, category=categories_a["website"], guardian=mother, value="given", channel="paper")
    sign_in(client, stepparent.email)
    client.cookies["django_language"] = "en"
    english = client.get(HOME).content.decode()
    assert "You do not have parental authority for Sanne" in english
    client.cookies["django_language"] = "nl"
    response = client.get(HOME)
    page = response.content.decode()
    assert f"/parents/kind/{child.pk}/voorkeuren/" not in page
    assert escape(categories_a["website"].current_version().text_nl) in page
    block = response.context["children"][0]
    assert block.form is None and len(block.rows) == len(categories_a)
    assert next(r for r in block.rows if r.category.key == "website").effective.state == "given"
    forged = post_prefs(client, child, {categories_a["website"]: "refused"})
    assert forged.status_code == 403
    assert ConsentAnswer.objects.count() == 1
    assert len(mail.outbox) == 1  # only the code


def test_another_familys_child_is_404(client, categories_a, child, mother, school_a, group5_a):
    """S-11 analogue: a child not linked to the signed-in address is a 404,
    the same as one that does not exist."""
    other = make_pupil(school_a, group5_a, first="Bram", last="Ander")
    _guardian(other, "Olga", "olga@example.org", True)
    sign_in(client, mother.email)
    assert post_prefs(client, other, {categories_a["website"]: "refused"}).status_code == 404
    missing = client.post("/parents/kind/999999/voorkeuren/", {})
    assert missing.status_code == 404
    assert not ConsentAnswer.objects.exists()
    assert "Bram" not in client.get(HOME).content.decode()


def test_siblings_with_separate_guardian_rows(client, categories_a, child, mother, school_a, group5_a):
    """U-4: one address with a Guardian row per child shows both children and
    acts for each with the row linked to that child."""
    sibling = make_pupil(school_a, group5_a, first="Tim", last="Kwast")
    second_row = _guardian(sibling, "Marieke", "Marieke.Kwast@example.org", True)
    sign_in(client, mother.email)
    response = client.get(HOME)
    blocks = response.context["children"]
    assert {b.access.pupil for b in blocks} == {child, sibling}
    ids = re.findall(r'\sid="([^"]+)"', response.content.decode())
    assert len(ids) == len(set(ids)), "one form per child, each with its own ids"
    post_prefs(client, sibling, {categories_a["website"]: "refused"})
    assert ConsentAnswer.objects.get().guardian == second_row


def test_home_query_count_does_not_grow_per_child(client, categories_a, child, mother, school_a, group5_a):
    """STYLE 12: the overview costs the same number of queries for one child
    as for three."""
    sign_in(client, mother.email)
    client.get(HOME)
    with CaptureQueriesContext(connection) as one:
        client.get(HOME)
    for first in ("Tim", "Roos"):
        sibling = make_pupil(school_a, group5_a, first=first, last="Kwast")
        GuardianLink.objects.create(pupil=sibling, guardian=mother, has_authority=True)
        answer_record(pupil=sibling, category=categories_a["pers"], guardian=mother, value="given", channel="paper")
    with CaptureQueriesContext(connection) as three:
        response = client.get(HOME)
    assert len(response.context["children"]) == 3
    assert len(three) == len(one)


def test_one_address_with_and_without_authority_acts_with_authority(client, categories_a, child, mother):
    """R-CON-6: when one address has two rows for the same child, the row with
    authority acts."""
    duplicate = Guardian.objects.create(first_name="M", last_name="Kwast", email=mother.email.upper())
    GuardianLink.objects.create(pupil=child, guardian=duplicate, has_authority=False)
    sign_in(client, mother.email)
    post_prefs(client, child, {categories_a["website"]: "refused"})
    assert ConsentAnswer.objects.get().guardian == mother


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda data, cats: data.update({"category_999999": "given"}), id="unknown-category"),
        pytest.param(lambda data, cats: data.update({f"category_{cats['website'].pk}": "maybe"}), id="bad-value"),
        pytest.param(lambda data, cats: data.pop(f"version_{cats['website'].pk}"), id="no-version"),
        pytest.param(lambda data, cats: data.update({f"version_{cats['website'].pk}": "x"}), id="bad-version"),
    ],
)
def test_bad_input_stores_nothing(mutate, client, categories_a, child, mother):
    """S-16: a forged or broken form stores nothing and answers with a message."""
    sign_in(client, mother.email)
    data = prefs_data(child, {categories_a["website"]: "refused", categories_a["pers"]: "given"})
    mutate(data, categories_a)
    response = committed(client.post, f"/parents/kind/{child.pk}/voorkeuren/", data)
    assert response.status_code in (200, 400)
    assert "niet opgeslagen" in response.content.decode()
    assert not ConsentAnswer.objects.exists()
    assert len(mail.outbox) == 1


def test_category_of_another_school_or_inactive_is_refused(client, categories_a, child, mother, school_b):
    """S-16, R-CON-8: only the active categories of the child's school."""
    from consent.services import categories_seed

    categories_seed(school_b)
    foreign = ConsentCategory.objects.get(school=school_b, key="website")
    sign_in(client, mother.email)
    data = prefs_data(child, {})
    data[f"category_{foreign.pk}"] = "given"
    data[f"version_{foreign.pk}"] = str(foreign.current_version().pk)
    assert client.post(f"/parents/kind/{child.pk}/voorkeuren/", data).status_code == 200
    pers = categories_a["pers"]
    data = prefs_data(child, {pers: "refused"})
    ConsentCategory.objects.filter(pk=pers.pk).update(active=False)
    assert client.post(f"/parents/kind/{child.pk}/voorkeuren/", data).status_code == 200
    assert not ConsentAnswer.objects.exists()
    assert all(r.category != pers for r in client.get(HOME).context["children"][0].rows)


@pytest.fixture
def signed_in_mother(categories_a, child, mother):
    return sign_in(Client(), mother.email)


_keys = st.one_of(
    st.sampled_from(["category_", "version_"]).flatmap(lambda p: st.integers(-5, 10**6).map(lambda n: f"{p}{n}")),
    st.text(max_size=12),
)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.dictionaries(_keys, st.text(max_size=20), max_size=5), value=st.text(max_size=10))
def test_generated_preference_input_never_fails(signed_in_mother, categories_a, child, extra, value):
    """S-16: generated input: never a 500; anything stored is a valid answer
    of this child's parent, recorded from the portal."""
    data = prefs_data(child, {categories_a["website"]: value})
    data.update(extra)
    response = committed(signed_in_mother.post, f"/parents/kind/{child.pk}/voorkeuren/", data)
    assert response.status_code in (200, 302)
    for answer in ConsentAnswer.objects.all():
        assert answer.value in ("given", "refused") and answer.channel == "portal"


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(email=st.text(max_size=60), code=st.text(max_size=30))
def test_generated_sign_in_input_never_fails(db, email, code):
    """S-16: generated input to both sign-in steps: never a 500, no code sent
    for what is not an address."""
    browser = Client()
    assert committed(browser.post, LOGIN, {"email": email}).status_code in (200, 302)
    session = browser.session
    session[parents.PENDING_EMAIL_KEY] = "marieke.kwast@example.org"
    session.save()
    assert browser.post(CODE, {"code": code}).status_code in (200, 302)
    assert parents.EMAIL_KEY not in browser.session


# --- the staff's invitation ------------------------------------------------------------


def _invite_url(pupil, link):
    return reverse("parent_invite", args=[pupil.pk, link.pk])


def test_staff_invite_a_parent(verified_client, director_a, child, mother, consent_tab):
    """U-4, R-DIS-6: staff with dossier access invite a parent; the notice
    carries a link to the sign-in page and no names; audited."""
    link = GuardianLink.objects.get(pupil=child, guardian=mother)
    response = committed(verified_client(director_a).post, _invite_url(child, link))
    assert response.status_code == 302 and response["Location"] == consent_tab(child.pk)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [mother.email] and "/parents/inloggen/" in message.body
    for name in ("Sanne", "Kwast", "Marieke"):
        assert name not in message.body and name not in message.subject
    event = AuditEvent.objects.get(action="parent.invited")
    assert event.actor_id == director_a.pk and event.pupil_id == child.pk
    assert event.details == {"guardian": mother.pk}


def test_invite_is_post_only_and_needs_access(
    verified_client, director_a, teacher_b, substitute_a, child, mother, school_a, group5_a, consent_tab
):
    """S-11, S-15: GET changes nothing; another school's staff or a staff
    member without dossier access gets a 404; a link of another pupil is a 404."""
    link = GuardianLink.objects.get(pupil=child, guardian=mother)
    url = _invite_url(child, link)
    assert verified_client(director_a).get(url).status_code == 405
    assert committed(verified_client(teacher_b).post, url).status_code == 404
    assert committed(verified_client(substitute_a).post, url).status_code == 404
    other = make_pupil(school_a, group5_a, first="Bram", last="Ander")
    assert committed(verified_client(director_a).post, _invite_url(other, link)).status_code == 404
    assert mail.outbox == [] and not AuditEvent.objects.filter(action="parent.invited").exists()


def test_invite_of_an_assigned_substitute_is_refused(verified_client, substitute_a, child, mother, school_a, group5_a):
    """R-ACC-2: a temporary teacher's assignment does not include the core
    data (no edit_core): 404."""
    from students.models import Assignment

    today = timezone.localdate()
    Assignment.objects.create(
        user=substitute_a, school=school_a, group=group5_a, record_types=["attendance"],
        valid_from=today - timedelta(days=1), valid_until=today + timedelta(days=1),
    )  # fmt: skip
    link = GuardianLink.objects.get(pupil=child, guardian=mother)
    assert committed(verified_client(substitute_a).post, _invite_url(child, link)).status_code == 404
    assert mail.outbox == []


def test_invite_without_an_address_sends_nothing(verified_client, director_a, child, consent_tab):
    """U-4: a parent without an e-mail address cannot be invited; staff are told."""
    guardian = _guardian(child, "Geen", "", True)
    link = GuardianLink.objects.get(pupil=child, guardian=guardian)
    response = committed(verified_client(director_a).post, _invite_url(child, link))
    assert response.status_code == 302
    assert mail.outbox == [] and not AuditEvent.objects.filter(action="parent.invited").exists()


def test_invite_needs_a_staff_session(client, child, mother):
    """S-1: the invitation sits behind the staff gate, not the parents' gate."""
    link = GuardianLink.objects.get(pupil=child, guardian=mother)
    assert client.post(_invite_url(child, link))["Location"].startswith("/accounts/login/")
