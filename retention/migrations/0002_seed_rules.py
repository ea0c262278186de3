"""Seed the terms of R-RET-1..4 (R-RET-5: terms are configuration). Consent
history: 5 years, our choice (see retention/models.py)."""

from django.db import migrations

RULES = [
    # (category, years, permanent, condition)
    ("contact", 0, True, ""),  # R-RET-1
    ("enrolment", 5, False, ""),  # R-RET-2
    ("attendance", 5, False, ""),  # R-RET-2
    ("funding", 5, False, ""),  # R-RET-3
    ("substantive", 2, False, ""),  # R-RET-4
    ("substantive", 3, False, "special"),  # R-RET-4
    ("consent", 5, False, ""),  # our choice: evidence, kept like enrolment data
]


def seed(apps, schema_editor):
    RetentionRule = apps.get_model("retention", "RetentionRule")
    for category, years, permanent, condition in RULES:
        RetentionRule.objects.get_or_create(
            category=category, condition=condition, defaults={"years": years, "permanent": permanent}
        )


def unseed(apps, schema_editor):
    apps.get_model("retention", "RetentionRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("retention", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
