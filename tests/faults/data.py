"""Data the fault tests share: leavers whose every term has passed, parents
due their yearly reminder, and a way to see, per pupil and category, which
record types are still there (a half-purged pupil shows as a partial set)."""

import datetime

from django.utils import timezone

from consent.models import ConsentSettings
from retention import engine
from students.models import Guardian, GuardianLink
from tests.retention.conftest import make_leaver
from tests.students.conftest import make_pupil

# The day after make_pupil's enrolment: every term (at most 5 years) has
# passed since 1 September 2026.
LEFT = datetime.date(2021, 8, 31)


def leavers(school, count):
    return [make_leaver(school, left_on=LEFT, full=False).pk for _ in range(count)]


def record_state(pupil_ids):
    """{category: {pupil id: frozenset of the record types it still has}}
    for the categories with a term."""
    state = {}
    for category in engine.CATEGORIES:
        per_pupil = {pk: set() for pk in pupil_ids}
        for _kind, model, fields in engine.category_links(category):
            for name in fields:
                for pk in model._base_manager.filter(**{f"{name}__in": pupil_ids}).values_list(name, flat=True):
                    per_pupil[pk].add(model._meta.label)
        state[category] = {pk: frozenset(labels) for pk, labels in per_pupil.items()}
    return state


def whole_or_gone(before, after):
    """Per category: (pupils untouched, pupils fully purged); fails on a
    pupil who lost only part of a category's records."""
    counts = {}
    for category, pupils in before.items():
        untouched = gone = 0
        for pk, labels in pupils.items():
            now = after[category][pk]
            if now == labels:
                untouched += 1
            elif not now:
                gone += 1
            else:
                raise AssertionError(f"pupil {pk} half-purged in {category}: {sorted(labels - now)} removed only")
        counts[category] = (untouched, gone)
    return counts


def parents_due_a_reminder(school, group, count):
    """`count` parents with authority of enrolled pupils, each with their
    own address; the school's reminder date is the first day of the school
    year, so the reminder is due whatever today is."""
    ConsentSettings.objects.update_or_create(school=school, defaults={"reminder_month": 8, "reminder_day": 1})
    addresses = []
    stamp = int(timezone.now().timestamp())
    for n in range(count):
        pupil = make_pupil(school, group, first="Rik", last=f"Herinnering{n}")
        address = f"parent{n}.{stamp}@example.org"
        guardian = Guardian.objects.create(last_name=f"Ouder{n}", email=address)
        GuardianLink.objects.create(pupil=pupil, guardian=guardian, has_authority=True)
        addresses.append(address)
    return addresses


def mail_lines(path):
    return path.read_text().splitlines() if path.exists() else []
