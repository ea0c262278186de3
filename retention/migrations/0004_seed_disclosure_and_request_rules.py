"""Terms for the disclosure log and parents' requests: 5 years after
unenrolment, our choice (README, Retention): both are shown to parents and
are evidence of what the school did, as long as the enrolment itself."""

from django.db import migrations

RULES = [("disclosures", 5), ("requests", 5)]


def seed(apps, schema_editor):
    RetentionRule = apps.get_model("retention", "RetentionRule")
    for category, years in RULES:
        RetentionRule.objects.get_or_create(category=category, condition="", defaults={"years": years})


def unseed(apps, schema_editor):
    apps.get_model("retention", "RetentionRule").objects.filter(category__in=[c for c, _y in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("retention", "0003_alter_purgerecord_category_and_more")]

    operations = [migrations.RunPython(seed, unseed)]
