"""A consent answer records which version of the statement was public when
it was given, and the parents' portal links to that version."""

import time

from consent import parents
from consent.models import ConsentAnswer, ConsentCategory
from consent.services import answer_record
from privacy_admin import published
from retention.models import RetentionRule
from statement import services
from statement.models import StatementVersion
from students.models import Guardian, GuardianLink
from tests.students.conftest import make_pupil


def _family(school, group):
    pupil = make_pupil(school, group, first="Noor", last="Visser")
    mother = Guardian.objects.create(first_name="Eva", last_name="Visser", email="eva.visser@example.org")
    GuardianLink.objects.create(pupil=pupil, guardian=mother, has_authority=True)
    return pupil, mother


def test_answer_records_the_version_in_force(configured_a, group5_a):
    """R-CON-7: who, when, how, the question's wording, and the statement
    version public at that moment; a later answer under a changed statement
    records the newer version, the earlier answer keeps its own."""
    pupil, mother = _family(configured_a, group5_a)
    website = ConsentCategory.objects.get(school=configured_a, key="website")
    first = answer_record(pupil=pupil, category=website, guardian=mother, value="given", channel="paper")
    assert first.statement_version == 1
    assert StatementVersion.objects.get(school=configured_a, number=1)

    RetentionRule.objects.filter(category="substantive", condition="").update(years=3)
    second = answer_record(pupil=pupil, category=website, guardian=mother, value="refused", channel="portal")
    assert second.statement_version == 2
    first.refresh_from_db()
    assert first.statement_version == 1


def test_without_a_provider_the_answer_is_still_recorded(configured_a, group5_a, monkeypatch):
    """The core's registry answers None when no statement app registered."""
    monkeypatch.setattr(published, "_provider", None)
    pupil, mother = _family(configured_a, group5_a)
    website = ConsentCategory.objects.get(school=configured_a, key="website")
    answer = answer_record(pupil=pupil, category=website, guardian=mother, value="given", channel="paper")
    assert answer.statement_version is None and ConsentAnswer.objects.count() == 1


def test_a_failing_statement_does_not_stop_a_parents_answer(configured_a, group5_a, monkeypatch):
    """A fault in rendering the statement is logged, and the answer records
    the latest known version instead of failing."""
    services.statement_publish(configured_a)

    def broken(school, **kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr(services, "statement_publish", broken)
    pupil, mother = _family(configured_a, group5_a)
    website = ConsentCategory.objects.get(school=configured_a, key="website")
    answer = answer_record(pupil=pupil, category=website, guardian=mother, value="given", channel="paper")
    assert answer.statement_version == 1


def test_parents_portal_links_to_the_version_of_the_answer(client, configured_a, group5_a):
    """R-CON-2, R-CON-7: next to their own answer a parent sees a link to the
    statement as it was when they answered; the link is public."""
    pupil, mother = _family(configured_a, group5_a)
    website = ConsentCategory.objects.get(school=configured_a, key="website")
    answer_record(pupil=pupil, category=website, guardian=mother, value="given", channel="paper")
    RetentionRule.objects.filter(category="funding").update(years=9)
    pers = ConsentCategory.objects.get(school=configured_a, key="pers")
    answer_record(pupil=pupil, category=pers, guardian=mother, value="refused", channel="paper")

    session = client.session
    now = time.time()
    session[parents.EMAIL_KEY] = mother.email
    session[parents.AUTH_AT_KEY] = now
    session[parents.LAST_SEEN_KEY] = now
    session.save()
    body = client.get("/parents/").content.decode()
    assert body.count('href="/privacy/11AA/v1/"') == 1
    assert body.count('href="/privacy/11AA/v2/"') == 1
    assert "version 1" in body and "version 2" in body
    old = client.get("/privacy/11AA/v1/")
    assert old.status_code == 200 and "9 jaar" not in old.content.decode()
