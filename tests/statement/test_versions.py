"""The statement follows the configuration: a change to a retention term, a
recipient's fields or a consent question shows on the public page at once,
as a new version with its date, and the old version stays as it was."""

import re

import pytest

from consent.models import ConsentCategory
from consent.services import question_text_change
from disclosures.models import Recipient
from retention.models import RetentionRule
from statement.models import StatementVersion
from statement.services import publish_all, statement_publish
from tests.statement.conftest import section

PAGE = "/privacy/11AA/"


def _row(body, name):
    return next(row for row in re.findall(r"<tr><td>.*?</tr>", body, re.S) if f"<td>{name}</td>" in row)


def _versions(school):
    return list(StatementVersion.objects.filter(school=school).order_by("number"))


def test_unchanged_configuration_keeps_the_version(client, configured_a):
    """Viewing the page twice publishes nothing new."""
    client.get(PAGE)
    client.get(PAGE)
    assert [v.number for v in _versions(configured_a)] == [1]
    assert statement_publish(configured_a).number == 1


def test_retention_term_change_is_a_new_version(client, configured_a):
    """R-RET-4, R-RET-5: the substantive part's term goes from 2 to 4 years;
    the statement says so in a new version, and version 1 still says 2."""
    before = section(client.get(PAGE), "retention")
    assert "Inhoudelijk gedeelte 2 jaar na uitschrijving" in before
    RetentionRule.objects.filter(category="substantive", condition="").update(years=4)

    after = section(client.get(PAGE), "retention")
    assert "Inhoudelijk gedeelte 4 jaar na uitschrijving" in after
    assert "1 augustus 2027" in after  # left 31 July 2023 + 4 years, the day after
    first, second = _versions(configured_a)
    assert second.number == 2 and second.published_at >= first.published_at
    assert "2 jaar na uitschrijving" in first.content_nl and "4 jaar" not in first.content_nl
    old = section(client.get(f"{PAGE}v1/"), "retention")
    assert old == before


def test_retention_terms_per_category_with_the_special_education_term(client, configured_a):
    """R-RET-1, R-RET-2, R-RET-3, R-RET-4: every category's term as configured,
    with the special-education condition."""
    text = section(client.get(PAGE), "retention")
    assert "Adres- en contactgegevens blijvend bewaard" in text
    assert "Inschrijving en uitschrijving 5 jaar na uitschrijving" in text
    assert "Aan- en afwezigheid 5 jaar na uitschrijving" in text
    assert "Bekostigingsgegevens 5 jaar na uitschrijving" in text
    assert "3 jaar na uitschrijving als uw kind naar het speciaal onderwijs is uitgestroomd" in text
    assert "1 augustus 2025 (speciaal onderwijs: 1 augustus 2026)" in text


def test_recipient_fields_change_is_a_new_version(client, configured_a):
    """R-DIS-3: the library's whitelist gains the birth date; the statement
    lists it in a new version, and version 1 does not."""
    library = Recipient.objects.get(key="bibliotheek")
    before = section(client.get(PAGE), "disclosures")
    assert "Bibliotheek op school" in before
    library.fields = [*library.fields, "birth_date"]
    library.save(update_fields=["fields"])

    response = client.get(PAGE)
    row = _row(response.content.decode(), "Bibliotheek op school")
    assert "Geboortedatum" in row or "Birth date" in row
    first, second = _versions(configured_a)
    old_row = _row(first.content_nl, "Bibliotheek op school")
    assert "Geboortedatum" not in old_row and "Birth date" not in old_row
    assert section(client.get(f"{PAGE}v1/"), "disclosures") == before


def test_consent_question_change_is_a_new_version(client, configured_a, director_a):
    """R-CON-7, R-CON-8: a reworded question appears as it now reads, in a new
    version; version 1 keeps the old wording."""
    website = ConsentCategory.objects.get(school=configured_a, key="website")
    old_text = website.current_version().text_nl
    client.get(PAGE)
    question_text_change(
        website,
        text_nl="Mogen foto's van uw kind op de vernieuwde website van de school staan?",
        text_en="May photos of your child appear on the school's renewed website?",
        acting_user=director_a,
    )
    text = section(client.get(PAGE), "photos")
    assert "Website: Mogen foto's van uw kind op de vernieuwde website van de school staan?" in text
    assert old_text not in text
    first, second = _versions(configured_a)
    assert second.number == 2
    assert "vernieuwde website" not in first.content_nl
    assert "vernieuwde website" not in section(client.get(f"{PAGE}v1/"), "photos")


def test_versions_page_lists_every_version_with_its_date(client, configured_a):
    client.get(PAGE)
    RetentionRule.objects.filter(category="funding").update(years=7)
    client.get(PAGE)
    body = client.get(f"{PAGE}versies/").content.decode()
    assert f"{PAGE}v1/" in body and f"{PAGE}v2/" in body
    assert "(huidig)" in body


def test_publish_all_brings_every_school_up_to_date(configured_a, school_b):
    assert publish_all() == {"11AA": 1, "22BB": 1}
    RetentionRule.objects.filter(category="attendance").update(years=6)
    assert publish_all() == {"11AA": 2, "22BB": 2}


@pytest.mark.parametrize("language", ["nl", "en"])
def test_old_version_is_read_as_published(client, configured_a, language):
    """The stable address of an old version shows its stored content, marked as no longer in force."""
    client.cookies["django_language"] = language
    client.get(PAGE)
    RetentionRule.objects.filter(category="enrolment").update(years=8)
    client.get(PAGE)
    response = client.get(f"{PAGE}v1/")
    version = StatementVersion.objects.get(school=configured_a, number=1)
    assert version.content(language) in response.content.decode()
    assert 'id="statement-old"' in response.content.decode()
    assert client.get(f"{PAGE}v9/").status_code == 404


def test_screen_lock_setting_is_what_the_statement_says(client, configured_a, settings):
    """R-ACC-6: the idle minutes come from the setting the gate enforces."""
    assert "15 minuten niet is gebruikt" in section(client.get(PAGE), "security")
    settings.SESSION_IDLE_MINUTES = 10
    assert "10 minuten niet is gebruikt" in section(client.get(PAGE), "security")
    assert [v.number for v in _versions(configured_a)] == [1, 2]


def test_a_purpose_the_school_rewrote_is_shown_as_written(client, configured_a):
    """R-DIS-3: the register's own words; in English marked as Dutch when the
    school's text has no English version."""
    Recipient.objects.filter(key="cjg").update(purpose="Afspraken over het consultatiebureau.")
    assert "Afspraken over het consultatiebureau." in section(client.get(PAGE), "disclosures")
    client.cookies["django_language"] = "en"
    english = section(client.get(PAGE), "disclosures")
    assert "Afspraken over het consultatiebureau. (in Dutch)" in english
    assert "Collecting the parents' contribution." in english
