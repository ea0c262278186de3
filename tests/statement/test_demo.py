"""The demo school's statement (99MS after `seed_demo`) covers every section
of the seed statement, in Dutch and in English: one test per section.

`seed_demo` runs once for this module, inside a transaction that is rolled
back afterwards, and the pages are kept as text; the tests only read them.
"""

import io
import re

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings

from statement.models import StatementVersion
from tests.statement.conftest import section

DEMO = "/privacy/99MS/"
# The tests only read the pages, but the mark makes pytest-django create the test database.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    fast = {
        "DEBUG": True,
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "CELERY_TASK_ALWAYS_EAGER": True,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LANGUAGE_CODE": "en",
    }
    with django_db_blocker.unblock(), override_settings(**fast), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
        client = Client()
        pages = {"nl": client.get(DEMO).content.decode()}
        client.cookies["django_language"] = "en"
        pages["en"] = client.get(DEMO).content.decode()
        pages["versions"] = StatementVersion.objects.filter(school__brin="99MS").count()
        _seed_statement_again()
        pages["versions_after_rerun"] = StatementVersion.objects.filter(school__brin="99MS").count()
        pages["answers_with_version"] = _answers_with_version()
        transaction.set_rollback(True)
    return pages


def _seed_statement_again():
    """The statement's part of seed_demo, run a second time."""
    from privacy_admin.models import School, User
    from statement import demo

    schools = {s.brin: s for s in School.objects.filter(brin__in=("99MS", "99DS"))}
    staff = {u.username: u for u in User.objects.filter(username__in=("directeur.a", "directeur.b"))}
    demo.seed(schools=schools, staff=staff, stdout=io.StringIO())


def _answers_with_version():
    from consent.models import ConsentAnswer

    answers = ConsentAnswer.objects.filter(pupil__school__brin="99MS")
    return answers.count(), answers.filter(statement_version__isnull=False).count()


def test_demo_statement_is_published_once(demo):
    """seed_demo publishes the statement; running the statement's demo again
    adds no version; every demo consent answer records its version (R-CON-7)."""
    assert demo["versions"] >= 1
    assert demo["versions_after_rerun"] == demo["versions"]
    total, with_version = demo["answers_with_version"]
    assert total > 0 and with_version == total


def test_intro_and_closing_of_the_school(demo):
    assert "Montessorischool De Vlinder gaan we zorgvuldig om" in section(demo["nl"], "intro")
    assert "vrije nieuwsgaring" in section(demo["nl"], "closing")
    assert "freedom of news gathering" in section(demo["en"], "closing")


def test_photos_and_videos(demo):
    """R-CON-1..R-CON-8: the categories with their questions as they read now,
    the parent-app-only scope, no names, who decides, the portal and the reminder."""
    nl, en = section(demo["nl"], "photos"), section(demo["en"], "photos")
    assert "Ouderapp (Parro): Mogen foto's en video's waarop uw kind herkenbaar is" in nl
    for label in ("Nieuwsbrief", "Schoolgids en brochure", "Website", "Sociale media", "Pers"):
        assert f"{label}: " in nl
    assert "alleen voor gebruik in de ouderapp" in nl  # R-CON-4
    assert "vooraf uitdrukkelijk en schriftelijk uw toestemming" in nl
    assert "nooit de namen van kinderen" in nl  # R-CON-5
    assert "Alleen ouders met ouderlijk gezag" in nl and "strengste antwoord" in nl  # R-CON-6
    assert "eenmalig op een formulier" in nl  # R-CON-1
    assert "op elk moment zelf aan in het ouderportaal" in nl  # R-CON-2
    assert "vanaf 1 september" in nl  # R-CON-3
    assert "welke versie van deze privacyverklaring" in nl  # R-CON-7
    assert "Parent app (Parro): May photos and videos" in en and "from 1 September" in en
    assert 'href="/parents/"' in demo["nl"]


def test_nco_participation_and_how_to_object(demo):
    """R-DIS-4: CBS with the fields it gets, the objection question, and how to object."""
    nl, en = section(demo["nl"], "research"), section(demo["en"], "research")
    assert "CBS" in nl and "Nationaal Cohortonderzoek Onderwijs" in nl
    assert "BSN" in nl and "Postcode" in nl
    assert "U kunt hiertegen bezwaar maken (Onderzoek (NCO/CBS))" in nl
    assert "op elk moment in het ouderportaal" in nl
    assert "You can object to this (Research (NCO/CBS))" in en


def test_what_the_dossier_holds(demo):
    """R-DOS-1..6: paper dossier, and both parts of the digital one."""
    nl, en = section(demo["nl"], "dossier"), section(demo["en"], "dossier")
    assert "plaatsingsgarantie" in nl and "papieren dossier" in nl
    assert "De leerlingadministratie" in nl and "Het inhoudelijk gedeelte" in nl
    for item in ("adres- en contactgegevens", "aan- en afwezigheid", "bekostiging", "ondersteuningsbehoefte"):
        assert item in nl
    assert "gezondheid van uw kind, alleen als die nodig zijn" in nl and "gespreksverslagen" in nl
    assert "Basisregistratie Personen (BRP)" in nl
    assert "The administrative part" in en and "The substantive part" in en


def test_who_may_see_the_dossier(demo):
    """R-ACC-1..3: the full-access roles, substitutes only for their assigned
    tasks while the assignment lasts, support staff only for pupils they are
    involved with."""
    nl, en = section(demo["nl"], "access"), section(demo["en"], "access")
    for role in (
        "Applicatiebeheerder",
        "Directeur",
        "Administratief medewerker",
        "Intern begeleider (IB)",
        "Leerkracht",
    ):
        assert role in nl
    assert "Tijdelijke leerkracht (stagiair of invaller): alleen wat nodig is voor de taken" in nl
    assert "zolang die opdracht loopt" in nl
    assert "Lid ondersteuningsteam: het hele dossier, maar alleen van leerlingen bij wie zij" in nl
    assert "only while the assignment lasts" in en and "only while that involvement lasts" in en


def test_mandatory_disclosures_without_consent(demo):
    """R-DIS-1, R-DIS-2: consent first; the mandatory disclosures of the register."""
    nl, en = section(demo["nl"], "disclosures"), section(demo["en"], "disclosures")
    assert "alleen met toestemming van de ouders" in nl
    for name in ("Ontvangende school", "Inspectie van het Onderwijs", "Artsen, ziekenhuis en hulpdiensten"):
        assert name in nl
    assert "Leerplichtambtenaar" in nl and "Veilig Thuis" in nl
    assert "The receiving school" in en and "legal obligation" in en


def test_standing_recipients_and_their_fields(demo):
    """R-DIS-3, R-DIS-7: which standing recipient gets which fields; the
    dental service only for registered children; every disclosure recorded."""
    body = demo["nl"]
    rows = re.findall(r"<tr><td>.*?</tr>", body, re.S)
    library = next(row for row in rows if "<td>Bibliotheek op school</td>" in row)
    assert "Groep" in library or "Group" in library
    assert "Geboortedatum" not in library and "Birth date" not in library
    dental = next(row for row in rows if "<td>Mondzorg voor Kids</td>" in row)
    assert "hun ouders hiervoor hebben aangemeld" in dental
    for name in (
        "Penningmeester ouderraad",
        "Centrum voor Jeugd &amp; Gezin",
        "Samenwerkingsverband Onderwijs dat past",
    ):
        assert any(f"<td>{name}</td>" in row for row in rows), name
    assert "Elke verstrekking wordt vastgelegd in het dossier van uw kind" in section(body, "disclosures")


def test_processors_and_their_fields(demo):
    """R-DIS-5: each processor, the fields it gets and its processing agreement."""
    nl, en = section(demo["nl"], "processors"), section(demo["en"], "processors")
    for name in ("ParnasSys", "Cfolio", "Basispoort", "Onderwijs Transparant", "Microsoft"):
        assert name in nl and name in en
    assert "Verwerkersovereenkomst" in nl and "Processing agreement" in en
    parnassys = next(row for row in re.findall(r"<tr><td>.*?</tr>", demo["nl"], re.S) if "<td>ParnasSys</td>" in row)
    assert "Geboortedatum" in parnassys or "Birth date" in parnassys
    assert "BSN" not in parnassys


def test_retention_terms(demo):
    """R-RET-1..5: the terms per category with the special-education condition, counted from unenrolment."""
    nl, en = section(demo["nl"], "retention"), section(demo["en"], "retention")
    assert "Adres- en contactgegevens blijvend bewaard" in nl
    assert "2 jaar na uitschrijving; 3 jaar na uitschrijving als uw kind naar het speciaal onderwijs" in nl
    assert "vanaf de datum van uitschrijving" in nl and "31 juli 2023" in nl
    assert "Substantive part 2 years after unenrolment; 3 years after unenrolment if your child left" in en


def test_parents_rights(demo):
    """R-RGT-1..4: viewing (also without authority, an appointment, a staff
    member present), correction and removal, one month plus once two, the
    parent without authority; and the way in: the parents' portal."""
    nl, en = section(demo["nl"], "rights"), section(demo["en"], "rights")
    assert "ook voor ouders zonder ouderlijk gezag" in nl and "afspraak" in nl and "aanwezig" in nl  # R-RGT-1
    assert "verbeteren of te verwijderen" in nl  # R-RGT-2
    assert "binnen 1 maand" in nl and "ten hoogste 2 maanden verlengen" in nl  # R-RGT-3
    assert "1:377c" in nl and "schriftelijke motivering" in nl  # R-RGT-4
    assert "within 1 month" in en and "at most 2 months" in en
    rights = demo["nl"][demo["nl"].index('id="rights"') :]
    assert 'href="/parents/' in rights[: rights.index("</section>")]


def test_security_measures(demo):
    """R-ACC-4..7, S-25: personal accounts, two-step login, the screen lock
    after the configured idle minutes, read logging, encryption."""
    nl, en = section(demo["nl"], "security"), section(demo["en"], "security")
    assert "tweestapsverificatie" in nl and "persoonlijk account" in nl
    assert "15 minuten niet is gebruikt, wordt vergrendeld" in nl
    assert "het inhoudelijk gedeelte van een dossier opent" in nl
    assert "Versleuteld opgeslagen worden: het burgerservicenummer (BSN), gezondheidsgegevens" in nl
    assert "two-step verification" in en and "15 minutes" in en and "Stored encrypted" in en


def test_data_breach_and_the_fgs_contact(demo):
    """R-BRK-1: a breach goes to the foundation's FG; the FG's address to write to."""
    nl, en = section(demo["nl"], "breaches"), section(demo["en"], "breaches")
    assert "functionaris gegevensbescherming (FG) van Stichting Primo Demo" in nl
    assert "protocol datalekken" in nl and "72 uur" in nl
    assert 'href="mailto:fg@example.org"' in demo["nl"]
    assert "fg@example.org" in nl and "fg@example.org" in en
