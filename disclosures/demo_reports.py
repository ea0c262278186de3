"""Demo data for the NCO export and the leerplicht list (`manage.py seed_demo`).

Test results: every demo pupil now in groep 4 to 8 gets the mid-year and
end-of-year results of last school year (then groep 3 to 7) in arithmetic,
reading comprehension and spelling, plus a social-emotional score that the
NCO export does not send. Last school year is finished, so the dates are never
in the future, and the NCO screen offers it first.

Absence at 99MS: one pupil of groep 7 with 17.5 hours of unauthorised absence
within two weeks of September (flagged), and one of groep 6 with 16 hours
spread over seven weeks and some authorised sick days (not flagged), so the
leerplicht list shows the rule both ways.

Idempotent and synthetic: scores come from a random.Random seeded per pupil
number, dates from the start of the current school year (never today), and a
result or absence record is only created when the pupil does not have it yet.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from privacy_admin.models.org import current_school_year
from students.models import AttendanceRecord, ProgressResult, Pupil

ABSENCE_BRIN = "99MS"
# (test, month, day) in the calendar year the school year ends in
SESSIONS = (("LVS midden", 1, 27), ("LVS eind", 6, 16))
# subject, score range, sent to CBS
SUBJECTS = (
    ("Rekenen-Wiskunde", (20, 95)),
    ("Begrijpend lezen", (15, 80)),
    ("Spelling", (100, 180)),
    ("Sociaal-emotioneel", (1, 5)),
)
LEVELS = ("V", "IV", "III", "II", "I")


def _level(score, low, high):
    return LEVELS[min(4, (score - low) * 5 // (high - low + 1))]


def _results(school, last_year_end):
    pupils = list(
        Pupil.objects.filter(school=school, group__grade__gte=4, pupil_ref__startswith=school.brin).order_by(
            "pupil_ref"
        )
    )
    have = set(ProgressResult.objects.filter(pupil__in=pupils).values_list("pupil_id", "date", "test", "subject"))
    new = []
    for pupil in pupils:
        rng = random.Random(f"privacy-admin-demo-results:{pupil.pupil_ref}")  # noqa: S311 - synthetic data
        for test, month, day in SESSIONS:
            when = date(last_year_end, month, day)
            for subject, (low, high) in SUBJECTS:
                score = rng.randint(low, high)
                if (pupil.pk, when, test, subject) in have:
                    continue
                new.append(
                    ProgressResult(
                        pupil=pupil,
                        date=when,
                        test=test,
                        subject=subject,
                        score=str(score),
                        level=_level(score, low, high),
                    )
                )
    ProgressResult.objects.bulk_create(new)
    return len(new)


def _monday_of_week(day):
    return day - timedelta(days=day.weekday())


def _absence(school, year_start):
    """(day offset from the first Monday of September, hours, authorised, reason) per pupil."""
    first_monday = _monday_of_week(date(year_start, 9, 7))
    truant = [
        (7, "4.0", False, "Niet op school, geen bericht"),
        (8, "4.0", False, "Niet op school, geen bericht"),
        (9, "2.5", False, "Te laat zonder reden"),
        (15, "4.0", False, "Niet op school, geen bericht"),
        (16, "3.0", False, "Niet op school, geen bericht"),
    ]
    spread = [
        (0, "4.0", False, "Niet op school, geen bericht"),
        (14, "4.0", False, "Niet op school, geen bericht"),
        (28, "4.0", False, "Niet op school, geen bericht"),
        (42, "4.0", False, "Niet op school, geen bericht"),
        (21, "5.5", True, "Ziek"),
        (22, "5.5", True, "Ziek"),
    ]
    made = 0
    for grade, plan in ((7, truant), (6, spread)):
        pupil = (
            Pupil.objects.filter(school=school, group__grade=grade, pupil_ref__startswith=school.brin)
            .order_by("pupil_ref")
            .first()
        )
        if pupil is None or AttendanceRecord.objects.filter(pupil=pupil).exists():
            continue
        AttendanceRecord.objects.bulk_create(
            [
                AttendanceRecord(
                    pupil=pupil,
                    date=first_monday + timedelta(days=offset),
                    hours=Decimal(hours),
                    authorised=authorised,
                    reason=reason,
                )
                for offset, hours, authorised, reason in plan
            ]
        )
        made += len(plan)
    return made


def seed(schools, staff, stdout):
    year_start = int(current_school_year()[:4])
    results = absence = 0
    for brin, school in schools.items():
        results += _results(school, year_start)
        if brin == ABSENCE_BRIN:
            absence += _absence(school, year_start)
    stdout.write(f"Demo results and absence: {results} test results, {absence} absence records created.")
