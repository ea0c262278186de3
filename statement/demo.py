"""Demo privacy statements for `manage.py seed_demo`: the introduction and
closing text of each demo school (the parts the school writes itself, taken
from the seed statement's own wording where the system does not generate
it), then the statement is published.

Idempotent: a school that already has its texts keeps them, and publishing
makes a version only when something changed. The register of recipients is
seeded first (disclosures.seed, which creates only what is missing), so the
statement has its recipients and processors to tell about.
"""

from statement.models import StatementText
from statement.services import statement_publish, statement_text_change

DIRECTORS = {"99MS": "directeur.a", "99DS": "directeur.b"}

INTRO_NL = (
    "Op {school} gaan we zorgvuldig om met de gegevens van uw kind. In deze privacyverklaring leest u wat we "
    "bijhouden en waarom, wie het mag zien, met wie we het delen, hoe lang we het bewaren en wat u zelf kunt doen.\n\n"
    "Alle scholen van {foundation} werken met het privacyreglement en het beleid voor informatiebeveiliging en "
    "privacy (IBP) van het bestuur, waarmee de gemeenschappelijke medezeggenschapsraad (GMR) heeft ingestemd."
)
INTRO_EN = (
    "At {school} we handle your child's data with care. In this privacy statement you read what we keep and why, "
    "who may see it, with whom we share it, how long we keep it and what you can do yourself.\n\n"
    "All schools of {foundation} work with the foundation's privacy regulations and its information security and "
    "privacy (IBP) policy, agreed by the joint participation council (GMR)."
)
CLOSING_NL = (
    "Het kan voorkomen dat andere ouders foto's maken tijdens activiteiten. Daar heeft de school geen invloed op; "
    "wij gaan ervan uit dat ook deze ouders terughoudend zijn en zich aan de wet- en regelgeving houden als zij "
    "foto's of video's op internet zetten.\n\n"
    "Foto's in kranten en tijdschriften (op papier en digitaal) en film- of televisieopnamen van schoolevenementen "
    "vallen onder de vrije nieuwsgaring.\n\n"
    "Groepsmappen met lesvoorbereidingen, leerlingenlijsten en notities worden na gebruik achter slot en grendel "
    "of buiten zicht opgeborgen.\n\n"
    "Hebt u een vraag over deze verklaring? Neem contact op met de directeur van de school."
)
CLOSING_EN = (
    "Other parents may take photos during activities. The school has no say in that; we trust that these parents "
    "are restrained too and keep to the law when they put photos or videos on the internet.\n\n"
    "Photos in newspapers and magazines (on paper and online) and film or television recordings of school events "
    "fall under the freedom of news gathering.\n\n"
    "Group folders with lesson preparations, pupil lists and notes are locked away or kept out of sight after use.\n\n"
    "Do you have a question about this statement? Please contact the school's director."
)


def _seed_register(foundation):
    try:
        from disclosures.seed import recipients_seed
    except ImportError:
        return 0
    return recipients_seed(foundation)


def seed(schools, staff, stdout):
    made = 0
    for foundation in {school.foundation for school in schools.values()}:
        _seed_register(foundation)
    for brin, school in schools.items():
        if not StatementText.objects.filter(school=school).exists():
            names = {"school": school.name, "foundation": school.foundation.name}
            statement_text_change(
                school=school,
                intro_nl=INTRO_NL.format(**names),
                intro_en=INTRO_EN.format(**names),
                closing_nl=CLOSING_NL.format(**names),
                closing_en=CLOSING_EN.format(**names),
                acting_user=staff.get(DIRECTORS.get(brin, "")),
            )
            made += 1
        version = statement_publish(school)
        stdout.write(f"Privacy statement {brin}: version {version.number} at /privacy/{brin}/.")
    stdout.write(f"Demo statement texts: {made} schools given an introduction and closing text.")
