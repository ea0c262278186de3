"""The consent rules themselves (R-CON-6, R-CON-7, R-CON-8, R-DIS-4)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent.models import ConsentAnswer, ConsentCategory, QuestionVersion
from consent.services import answer_record, categories_seed, effective, effective_answers, question_text_change
from privacy_admin.models import AuditEvent
from tests.students.conftest import make_pupil


def _answer(child, category, guardian, value):
    return answer_record(pupil=child, category=category, guardian=guardian, value=value, channel="portal")


def test_usual_categories_seeded_per_school(categories_a, school_b):
    """R-CON-8: the usual categories per school; research is an objection."""
    assert set(categories_a) == {
        "parro",
        "nieuwsbrief",
        "schoolgids",
        "website",
        "sociale-media",
        "pers",
        "onderzoek-nco",
    }
    assert categories_a["onderzoek-nco"].kind == ConsentCategory.Kind.OBJECTION
    assert categories_a["parro"].is_parent_app
    categories_seed(school_b)
    categories_seed(school_b)
    assert ConsentCategory.objects.filter(school=school_b).count() == 7
    assert QuestionVersion.objects.filter(category__school=school_b).count() == 7


def test_nco_question_asks_for_agreement_so_no_is_the_objection(categories_a):
    """R-CON-8, R-CON-7: the NCO question asks whether the parent agrees, so
    the 'nee' recorded as the objection is what an objecting parent answers.
    A school still on the old wording ("Maakt u daartegen bezwaar?") gets a
    new question version from the migration; earlier answers keep theirs."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("consent.migrations.0003_nco_question_asks_agreement")
    nco = categories_a["onderzoek-nco"]
    assert "Gaat u daarmee akkoord? Antwoord 'nee' betekent bezwaar." in nco.current_version().text_nl
    assert "Do you agree? Answering 'no' means you object." in nco.current_version().text_en
    old = QuestionVersion.objects.create(
        category=nco, number=nco.current_version().number + 1, text_nl=migration.OLD, text_en="Do you agree?"
    )
    migration.forward(apps, None)
    current = nco.current_version()
    assert (current.number, current.text_nl, current.text_en) == (old.number + 1, migration.NEW, "Do you agree?")
    migration.forward(apps, None)  # once only
    assert nco.current_version().pk == current.pk


def test_no_answer_is_no_consent(categories_a, child, mother):
    """R-CON-6: without a recorded answer there is no consent."""
    result = effective(child, categories_a["website"])
    assert not result.allowed and result.state == "none"


def test_one_parent_gives_is_consent(categories_a, child, mother, father):
    """R-CON-6: one parent with authority gives, the other has not answered: given."""
    _answer(child, categories_a["website"], mother, "given")
    assert effective(child, categories_a["website"]).allowed


def test_two_parents_disagree_stricter_holds(categories_a, child, mother, father):
    """R-CON-6: two parents with authority disagree: the stricter answer holds."""
    _answer(child, categories_a["website"], mother, "given")
    _answer(child, categories_a["website"], father, "refused")
    result = effective(child, categories_a["website"])
    assert not result.allowed and result.state == "refused"
    _answer(child, categories_a["website"], father, "given")
    assert effective(child, categories_a["website"]).allowed


def test_parent_without_authority_cannot_answer(categories_a, child, stepparent):
    """R-CON-6: only parents with parental authority give or withdraw consent."""
    with pytest.raises(PermissionDenied):
        _answer(child, categories_a["website"], stepparent, "given")
    assert not ConsentAnswer.objects.exists()


def test_answer_after_losing_authority_no_longer_counts(categories_a, child, mother, father):
    """R-CON-6: only current authority holders count."""
    _answer(child, categories_a["website"], father, "refused")
    _answer(child, categories_a["website"], mother, "given")
    father.pupil_links.update(has_authority=False)
    assert effective(child, categories_a["website"]).allowed


def test_consent_is_per_child(categories_a, child, mother, school_a, group5_a):
    """R-CON-6: consent is per child, not per family."""
    from students.models import GuardianLink

    sibling = make_pupil(school_a, group5_a, first="Sem", last="Kwast")
    GuardianLink.objects.create(pupil=sibling, guardian=mother, has_authority=True)
    _answer(child, categories_a["website"], mother, "given")
    assert effective(child, categories_a["website"]).allowed
    assert not effective(sibling, categories_a["website"]).allowed


def test_objection_category_no_answer_is_no_objection(categories_a, child, mother, father):
    """R-DIS-4: research participation is an objection: no answer takes part;
    one parent objecting takes the pupil out."""
    nco = categories_a["onderzoek-nco"]
    assert effective(child, nco).allowed
    _answer(child, nco, father, "refused")
    result = effective(child, nco)
    assert not result.allowed and result.state == "objected"


def test_history_keeps_who_when_channel_and_exact_text(categories_a, child, mother, teacher_a):
    """R-CON-7: every change keeps who, when, channel and the question as it
    stood; a new text version leaves old answers on the old text."""
    website = categories_a["website"]
    old_text = website.current_version().text_nl
    first = answer_record(
        pupil=child, category=website, guardian=mother, value="given", channel="paper", acting_user=teacher_a
    )
    question_text_change(
        website, text_nl="Nieuwe vraag over de website?", text_en="New question?", acting_user=teacher_a
    )
    second = _answer(child, website, mother, "refused")
    first.refresh_from_db()
    assert first.version.number == 1 and first.version.text_nl == old_text
    assert first.entered_by == teacher_a and first.channel == "paper"
    assert second.version.number == 2 and second.version.text_nl == "Nieuwe vraag over de website?"
    assert ConsentAnswer.objects.filter(pupil=child).count() == 2
    assert AuditEvent.objects.filter(action="consent.question_changed").exists()
    assert AuditEvent.objects.filter(action="consent.answered", pupil_id=child.pk).count() == 2


def test_unchanged_text_makes_no_new_version(categories_a, teacher_a):
    """R-CON-7: saving the same text does not make a version."""
    website = categories_a["website"]
    version = website.current_version()
    same = question_text_change(website, text_nl=version.text_nl, text_en=version.text_en, acting_user=teacher_a)
    assert same == version


def test_effective_answers_constant_queries(categories_a, school_a, group5_a, mother):
    """R-CON-6 at scale: three queries for any number of pupils and categories."""
    from students.models import GuardianLink

    counts = []
    for n in (3, 30):
        pupils = [make_pupil(school_a, group5_a, first=f"K{i}") for i in range(n)]
        for p in pupils:
            GuardianLink.objects.create(pupil=p, guardian=mother, has_authority=True)
            _answer(p, categories_a["parro"], mother, "given")
        with CaptureQueriesContext(connection) as ctx:
            result = effective_answers(pupils, list(categories_a.values()))
        counts.append(len(ctx.captured_queries))
        assert all(result[(p.pk, categories_a["parro"].pk)].allowed for p in pupils)
    assert counts[0] == counts[1] <= 3


def test_refusal_after_one_off_consent_withdraws_it(categories_a, child, mother, father, teacher_a):
    """R-CON-2, R-CON-4, R-CON-6: a one-off written consent for a website
    publication is withdrawn by a later refusal of a parent with authority;
    the live publication then lands on the takedown list."""
    import datetime

    from consent.models import Publication, PublicationPupil
    from consent.services import one_off_consent_record, publication_check, publication_publish, takedown_list

    publication = Publication.objects.create(
        school=child.school, channel=categories_a["website"], date=datetime.date(2025, 6, 1),
        description="Sportdag", created_by=teacher_a,
    )  # fmt: skip
    appearance = PublicationPupil.objects.create(publication=publication, pupil=child)
    one_off_consent_record(appearance, guardian=mother, acting_user=teacher_a)
    assert publication_check(publication)[0].cleared
    publication_publish(publication, acting_user=teacher_a)
    _answer(child, categories_a["website"], father, "refused")
    assert not publication_check(publication)[0].cleared
    assert [p for p, _pupils in takedown_list(teacher_a)] == [publication]


def test_published_publication_cannot_be_published_again(categories_a, child, mother, teacher_a):
    """R-CON-4: only a draft is published; the record of when stays."""
    import datetime

    from django.core.exceptions import ValidationError

    from consent.models import Publication, PublicationPupil
    from consent.services import publication_publish

    _answer(child, categories_a["parro"], mother, "given")
    publication = Publication.objects.create(
        school=child.school, channel=categories_a["parro"], date=datetime.date(2025, 6, 1),
        description="Uitje", created_by=teacher_a,
    )  # fmt: skip
    PublicationPupil.objects.create(publication=publication, pupil=child)
    first = publication_publish(publication, acting_user=teacher_a).published_at
    with pytest.raises(ValidationError):
        publication_publish(publication, acting_user=teacher_a)
    publication.refresh_from_db()
    assert publication.published_at == first


def test_login_codes_purged(db):
    """S-28, S-24: used and expired parents' login codes are removed nightly, twice is harmless."""
    import datetime

    from django.utils import timezone

    from consent.models import ParentLoginCode
    from consent.tasks import purge_parent_login_codes

    now = timezone.now()
    ParentLoginCode.objects.create(
        email="a@example.org", code_hash="x", created_at=now, expires_at=now - datetime.timedelta(minutes=1)
    )
    ParentLoginCode.objects.create(
        email="b@example.org", code_hash="y", created_at=now, expires_at=now + datetime.timedelta(minutes=9)
    )
    assert purge_parent_login_codes.delay().get() == {"removed": 1}
    assert purge_parent_login_codes.delay().get() == {"removed": 0}
    assert ParentLoginCode.objects.count() == 1


def test_one_parents_one_off_does_not_override_other_parents_refusal(categories_a, child, mother, father, teacher_a):
    """R-CON-6: the stricter parent wins, also against a one-off written consent."""
    import datetime

    from consent.models import Publication, PublicationPupil
    from consent.services import one_off_consent_record, publication_check

    _answer(child, categories_a["website"], father, "refused")
    publication = Publication.objects.create(
        school=child.school, channel=categories_a["website"], date=datetime.date(2025, 6, 1),
        description="Sportdag", created_by=teacher_a,
    )  # fmt: skip
    appearance = PublicationPupil.objects.create(publication=publication, pupil=child)
    one_off_consent_record(appearance, guardian=mother, acting_user=teacher_a)
    assert not publication_check(publication)[0].cleared


def test_repeated_no_in_the_portal_withdraws_a_one_off(categories_a, child, mother, teacher_a):
    """R-CON-2, R-CON-4: a parent who refused in general, then signed a one-off
    consent, withdraws it by answering "no" again in the portal."""
    import datetime

    from consent.models import Publication, PublicationPupil
    from consent.services import has_one_off_since, one_off_consent_record, publication_check

    first = _answer(child, categories_a["website"], mother, "refused")
    publication = Publication.objects.create(
        school=child.school, channel=categories_a["website"], date=datetime.date(2025, 6, 1),
        description="Sportdag", created_by=teacher_a,
    )  # fmt: skip
    appearance = PublicationPupil.objects.create(publication=publication, pupil=child)
    one_off_consent_record(appearance, guardian=mother, acting_user=teacher_a)
    assert publication_check(publication)[0].cleared
    assert has_one_off_since(child, categories_a["website"], mother, first.at)
    _answer(child, categories_a["website"], mother, "refused")
    assert not publication_check(publication)[0].cleared
