"""The staff side: the director and the application admin write the
introduction and closing text (audited, a new version); the FG compares two
versions."""

import pytest

from privacy_admin.models import AuditEvent, Foundation, School
from privacy_admin.roles import FoundationRole
from retention.models import RetentionRule
from statement.models import StatementText, StatementVersion
from statement.services import statement_publish
from tests.conftest import make_staff
from tests.statement.conftest import section

TEXTS = {
    "intro_nl": "Welkom op School A.\n\nWij gaan zorgvuldig om met uw gegevens.",
    "intro_en": "Welcome to School A.\n\nWe handle your data with care.",
    "closing_nl": "Vragen? Bel de directeur.",
    "closing_en": "Questions? Call the director.",
}


def _edit_url(school):
    return f"/beheer/privacyverklaring/{school.pk}/teksten/"


def _diff_url(school):
    return f"/beheer/privacyverklaring/{school.pk}/versies/"


@pytest.mark.parametrize("role", ["director_a", "app_admin_a"])
def test_school_writes_intro_and_closing(request, verified_client, client, configured_a, role):
    """The texts around the generated sections: saved, audited without their
    content, published as a new version in both languages."""
    user = request.getfixturevalue(role)
    statement_publish(configured_a)
    staff = verified_client(user)
    assert staff.get(_edit_url(configured_a)).status_code == 200
    response = staff.post(_edit_url(configured_a), TEXTS)
    assert response.status_code == 302 and response["Location"] == "/beheer/privacyverklaring/"
    assert StatementVersion.objects.filter(school=configured_a).count() == 2
    event = AuditEvent.objects.get(action="statement.text_changed")
    assert event.actor_id == user.pk and event.school_id == configured_a.pk
    assert event.details == {"changed": ["closing_en", "closing_nl", "intro_en", "intro_nl"], "version": 2}
    assert "Welkom" not in str(event.details)

    page = client.get("/privacy/11AA/")
    assert section(page, "intro") == "Welkom op School A. Wij gaan zorgvuldig om met uw gegevens."
    assert section(page, "closing") == "Vragen? Bel de directeur."
    client.cookies["django_language"] = "en"
    assert section(client.get("/privacy/11AA/"), "intro") == "Welcome to School A. We handle your data with care."


def test_saving_the_same_texts_again_changes_nothing(verified_client, director_a, configured_a):
    staff = verified_client(director_a)
    staff.post(_edit_url(configured_a), TEXTS)
    staff.post(_edit_url(configured_a), TEXTS)
    assert AuditEvent.objects.filter(action="statement.text_changed").count() == 1
    assert StatementVersion.objects.filter(school=configured_a).count() == 1


def test_texts_are_escaped(client, verified_client, director_a, configured_a):
    texts = {**TEXTS, "intro_nl": "<script>alert(1)</script> <b>vet</b>"}
    verified_client(director_a).post(_edit_url(configured_a), texts)
    body = client.get("/privacy/11AA/").content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body


def test_a_text_in_one_language_only_is_refused_and_kept(verified_client, director_a, configured_a):
    """Bad input: the form comes back with the message and what was typed; nothing is stored."""
    statement_publish(configured_a)
    data = {**TEXTS, "intro_en": ""}
    response = verified_client(director_a).post(_edit_url(configured_a), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Write this text in English too" in body
    assert "Wij gaan zorgvuldig om met uw gegevens." in body
    assert not StatementText.objects.exists()
    assert StatementVersion.objects.filter(school=configured_a).count() == 1


def test_too_long_a_text_is_refused(verified_client, director_a, configured_a):
    data = {**TEXTS, "closing_nl": "x" * 5001}
    response = verified_client(director_a).post(_edit_url(configured_a), data)
    assert response.status_code == 200 and not StatementText.objects.exists()


def test_texts_of_another_school_are_404(verified_client, app_admin_b, configured_a, school_b):
    client = verified_client(app_admin_b)
    assert client.get(_edit_url(configured_a)).status_code == 404
    assert client.post(_edit_url(configured_a), TEXTS).status_code == 404
    assert client.get(_edit_url(school_b)).status_code == 200
    assert not StatementText.objects.exists()


def test_fg_compares_two_versions(verified_client, fg, configured_a):
    """The FG sees what changed between two versions, server-rendered."""
    statement_publish(configured_a)
    RetentionRule.objects.filter(category="substantive", condition="").update(years=4)
    statement_publish(configured_a)
    response = verified_client(fg).get(_diff_url(configured_a))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Version 1 compared with version 2" in body
    assert '<del><span class="visually-hidden">removed: </span>Inhoudelijk gedeelte | 2 jaar' in body
    assert '<ins><span class="visually-hidden">added: </span>Inhoudelijk gedeelte | 4 jaar' in body
    assert "unchanged lines" in body
    english = verified_client(fg).get(_diff_url(configured_a), {"old": 1, "new": 2, "language": "en"})
    assert "Substantive part | 4 years after unenrolment" in english.content.decode()


def test_diff_with_bad_choices_says_so(verified_client, fg, configured_a):
    statement_publish(configured_a)
    RetentionRule.objects.filter(category="funding").update(years=6)
    statement_publish(configured_a)
    client = verified_client(fg)
    for params in ({"old": 2, "new": 1}, {"old": "x", "new": 2}, {"old": 1, "new": 7}):
        response = client.get(_diff_url(configured_a), params)
        assert response.status_code == 200
        assert 'id="statement-diff"' not in response.content.decode()
        assert 'class="error"' in response.content.decode()


def test_diff_with_a_single_version(verified_client, fg, configured_a):
    statement_publish(configured_a)
    body = verified_client(fg).get(_diff_url(configured_a)).content.decode()
    assert "only one version so far" in body


def test_fg_of_another_foundation_gets_404(verified_client, configured_a):
    other = Foundation.objects.create(name="Stichting Elders")
    School.objects.create(foundation=other, brin="77GG", name="School G")
    fg_other = make_staff("fg_other", foundation=other, foundation_role=FoundationRole.FG)
    assert verified_client(fg_other).get(_diff_url(configured_a)).status_code == 404


def test_overview_lists_what_each_may_do(verified_client, director_a, fg, configured_a, school_b):
    director = verified_client(director_a).get("/beheer/privacyverklaring/").content.decode()
    assert _edit_url(configured_a) in director and _diff_url(configured_a) not in director
    assert _edit_url(school_b) not in director
    overseer = verified_client(fg).get("/beheer/privacyverklaring/").content.decode()
    assert _diff_url(configured_a) in overseer and _diff_url(school_b) in overseer
    assert _edit_url(configured_a) not in overseer
