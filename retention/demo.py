"""Demo leavers for `manage.py seed_demo`, so the retention screen has
something due on the demo data (U-3): at each school pupils who left three
school years ago (their substantive part is due, the rest not yet) and six
years ago (everything but the contact data is due), one of them under a
legal hold, and at 99MS one who left for special education two years ago,
whose longer term (R-RET-4) keeps everything for now.

Idempotent: a leaver is found by its pupil number (99MS-Lnn); its records
and the hold are made only when the pupil is created, so what a purge on the
screen removed stays removed after a second seed. Dates count from the
start of the current school year, never from today, so what is due does not
depend on the day of the year. All names and texts are synthetic.
"""

from datetime import date

from django.db import transaction

from privacy_admin.models.org import current_school_year
from retention.actions import legal_hold_set
from students.models import (
    Address,
    AttendanceRecord,
    Enrolment,
    EnrolmentEvent,
    FundingRecord,
    ProgressResult,
    Pupil,
    SupportNeed,
)

# brin: [(number, first name, last name, school years ago it left, destination, legal hold)]
LEAVERS = {
    "99MS": [
        ("L01", "Jesse", "Verhoeven", 3, "secondary", False),
        ("L02", "Lotte", "Schouten", 3, "secondary", False),
        ("L03", "Ruben", "Koster", 6, "secondary", False),
        ("L04", "Fenna", "Prins", 6, "regular", False),
        ("L05", "Olivier", "Kuipers", 6, "secondary", True),
        ("L06", "Noor", "Willems", 2, "special", False),
    ],
    "99DS": [
        ("L01", "Thijs", "Jacobs", 3, "secondary", False),
        ("L02", "Roos", "van den Berg", 6, "secondary", False),
    ],
}
HOLD_REASON = "Demo: lopend geschil over het schooladvies; niets verwijderen tot de uitspraak."


def _leaver(school, number, first, last, years_ago, destination, year_start):
    left_on = date(year_start - years_ago, 7, 31)
    prefix, _space, surname = last.rpartition(" ")
    pupil = Pupil(
        school=school,
        pupil_ref=f"{school.brin}-{number}",
        first_name=first,
        name_prefix=prefix,
        last_name=surname,
        birth_date=date(left_on.year - 12, 1 + len(first) % 12, 1 + len(surname) % 28),
        sex="X",
    )
    pupil.save()
    Enrolment.objects.create(
        pupil=pupil,
        application_date=date(left_on.year - 9, 1, 10),
        enrolled_on=date(left_on.year - 8, 8, 20),
        left_on=left_on,
        destination=destination,
        destination_school="Demo College" if destination == "secondary" else "Demo school",
    )
    Address.objects.create(
        pupil=pupil,
        street="Oude Schoolweg",
        house_number=number[1:],
        postcode="3811 AB",
        city="Amersfoort",
        valid_from=date(left_on.year - 8, 8, 1),
    )
    EnrolmentEvent.objects.create(pupil=pupil, date=left_on, kind="unenrolment", note="Naar het voortgezet onderwijs")
    AttendanceRecord.objects.create(pupil=pupil, date=date(left_on.year, 2, 12), hours=3, reason="Ziek")
    FundingRecord.objects.create(
        pupil=pupil, reference_date=date(left_on.year - 1, 10, 1), indicator="gewicht", value="0"
    )
    SupportNeed.objects.create(
        pupil=pupil, since=date(left_on.year - 2, 9, 1), description="Demo: extra begeleiding bij rekenen."
    )
    ProgressResult.objects.create(
        pupil=pupil, date=date(left_on.year, 1, 20), test="LVS eind", subject="Rekenen", score="61", level="III"
    )
    return pupil


@transaction.atomic
def seed(schools, staff, stdout):
    year_start = int(current_school_year()[:4])
    for brin, leavers in LEAVERS.items():
        school = schools.get(brin)
        if school is None:
            continue
        created = 0
        for number, first, last, years_ago, destination, hold in leavers:
            if Pupil.objects.filter(school=school, pupil_ref=f"{brin}-{number}").exists():
                continue
            pupil = _leaver(school, number, first, last, years_ago, destination, year_start)
            created += 1
            director = staff.get("directeur.a" if brin == "99MS" else "directeur.b")
            if hold and director is not None:
                legal_hold_set(pupil=pupil, reason=HOLD_REASON, acting_user=director)
        stdout.write(f"Demo leavers {brin}: {created} created.")
