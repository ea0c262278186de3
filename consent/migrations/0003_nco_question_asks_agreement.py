"""The NCO question asked "Maakt u daartegen bezwaar?" (do you object?) while
'nee' (no) is recorded as the objection, so a parent who objects and answers
'ja' was recorded as not objecting. Where a school still has that wording
as its current question, a new version asks "Gaat u daarmee akkoord?", as
the English text always did. Earlier answers keep their version (R-CON-7)."""

from django.db import migrations

OLD = (
    "De school stuurt de resultaten van de taal- en rekentoetsen met identificerende gegevens naar het CBS "
    "voor het Nationaal Cohortonderzoek Onderwijs. Maakt u daartegen bezwaar? Antwoord 'nee' betekent "
    "bezwaar."
)
NEW = OLD.replace("Maakt u daartegen bezwaar?", "Gaat u daarmee akkoord?")


def forward(apps, schema_editor):
    ConsentCategory = apps.get_model("consent", "ConsentCategory")
    QuestionVersion = apps.get_model("consent", "QuestionVersion")
    for category in ConsentCategory.objects.filter(key="onderzoek-nco"):
        current = QuestionVersion.objects.filter(category=category).order_by("-number").first()
        if current is not None and current.text_nl == OLD:
            QuestionVersion.objects.create(
                category=category, number=current.number + 1, text_nl=NEW, text_en=current.text_en
            )


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_consentanswer_statement_version")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
