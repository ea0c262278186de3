"""Demo pupils for `manage.py seed_demo`, built through the same import code
as a real onboarding (R-DOS-1): a pupil CSV is written in memory, parsed,
planned and applied with students.imports, so the demo also proves the import.

Idempotent: every value comes from a random.Random seeded per school and from
the start of the current school year, never from today's date, so a second
run in the same school year plans every pupil as unchanged and writes
nothing; the few substantive records are created only when absent.

Everything is synthetic: names are combined from short lists, parents have
example.org addresses and phone numbers in the unassigned 06-00 range, and
BSNs lie in the 9999xxxxx range that the RvIG keeps for test persons, made
to pass the eleven test, so a demo BSN is never a real person's.
"""

import csv
import io
import random
from datetime import date, timedelta

from privacy_admin.models.org import current_school_year
from students.imports import PUPIL_COLUMNS, apply_pupil_import, parse_pupil_file, plan_pupil_import
from students.models import ConversationReport, ProgressResult, Pupil, SupportNeed
from students.validators import bsn_passes_elfproef

# brin: (pupils per group 1..8, city)
DEMO_SCHOOLS = {
    "99MS": ((3, 4, 3, 4, 4, 3, 4, 3), "Amersfoort"),
    "99DS": ((0, 2, 0, 2, 0, 2, 0, 0), "Zwolle"),
}
CHILD_NAMES = [
    ("Emma", "V"),
    ("Noah", "M"),
    ("Julia", "V"),
    ("Liam", "M"),
    ("Mila", "V"),
    ("Luuk", "M"),
    ("Tess", "V"),
    ("Sem", "M"),
    ("Sophie", "V"),
    ("Finn", "M"),
    ("Zoë", "V"),
    ("Daan", "M"),
    ("Sara", "V"),
    ("Levi", "M"),
    ("Nora", "V"),
    ("Milan", "M"),
    ("Yara", "V"),
    ("Bram", "M"),
    ("Amira", "V"),
    ("Mees", "M"),
    ("Sam", "X"),
]
PARENT_NAMES = [
    "Mark",
    "Sanne",
    "Thomas",
    "Linda",
    "Jeroen",
    "Eva",
    "Martijn",
    "Iris",
    "Dennis",
    "Kim",
    "Ahmed",
    "Fatima",
    "Rik",
    "Anouk",
]
LAST_NAMES = [
    "de Vries",
    "Jansen",
    "van Dijk",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "El Amrani",
    "Yilmaz",
    "van der Meer",
]
STREETS = ["Lindelaan", "Beukenstraat", "Molenweg", "Kerkpad", "Schoolstraat", "Eikenhof", "Vlinderweg", "Dorpsstraat"]
POSTCODE_LETTERS = "ABCEGHJKLMNPRTVXZ"


def demo_bsn(rng, taken):
    """A BSN in the RvIG test range 9999xxxxx that passes the eleven test."""
    while True:
        digits = [9, 9, 9, 9] + [rng.randrange(10) for _ in range(4)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        bsn = "".join(map(str, digits)) + str(check)
        if check < 10 and bsn not in taken and bsn_passes_elfproef(bsn):
            taken.add(bsn)
            return bsn


def _plus_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _slug(name):
    return "".join(ch for ch in name.lower().replace("ë", "e") if ch.isalnum())


def _guardian(rng, last_name, index, authority="yes"):
    first = rng.choice(PARENT_NAMES)
    return [
        f"{first} {last_name}",
        f"{_slug(first)}.{_slug(last_name)}{index}@example.org",
        f"06-00000{rng.randrange(1000):03d}",
        authority,
    ]


def _pupil_line(rng, brin, ref, grade, year_start, city, taken, left=None):
    first_name, sex = rng.choice(CHILD_NAMES)
    last_name = rng.choice(LAST_NAMES)
    # Born in the school year that puts the child in this group.
    birth_date = date(year_start - grade - 4, 8, 1) + timedelta(days=rng.randrange(365))
    enrolled_on = _plus_years(birth_date, 4)
    if grade >= 4 and rng.random() < 0.25:
        enrolled_on = date(year_start - rng.randrange(1, 3), 8, 26)  # came from another school
    left_on, destination, group = "", "", f"Groep {grade}"
    if left is not None:
        left_on, destination, group = left.isoformat(), "special", ""
    postcode = f"{rng.randrange(3811, 3829)} {rng.choice(POSTCODE_LETTERS)}{rng.choice(POSTCODE_LETTERS)}"
    address = [rng.choice(STREETS), str(rng.randrange(1, 180)), postcode, city]
    guardian1 = _guardian(rng, last_name, 1)
    guardian2 = ["", "", "", ""]
    if rng.random() < 0.6:
        guardian2 = _guardian(rng, rng.choice(LAST_NAMES), 2, authority="yes" if rng.random() < 0.85 else "no")
    return [
        ref,
        first_name,
        last_name,
        birth_date.isoformat(),
        sex,
        demo_bsn(rng, taken),
        group,
        enrolled_on.isoformat(),
        left_on,
        destination,
        *address,
        *guardian1,
        *guardian2,
    ]


def demo_pupil_csv(brin, year_start):
    """The demo pupil file of one school, as the old administration would
    export it (semicolon-separated, like Dutch Excel)."""
    per_group, city = DEMO_SCHOOLS[brin]
    rng = random.Random(f"privacy-admin-demo-pupils:{brin}")  # noqa: S311 - synthetic data, not security
    taken = set()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(PUPIL_COLUMNS)
    number = 0
    for grade, count in enumerate(per_group, start=1):
        for _ in range(count):
            number += 1
            writer.writerow(_pupil_line(rng, brin, f"{brin}-{number:03d}", grade, year_start, city, taken))
    if brin == "99MS":
        # Left in the spring of last school year for special education.
        number += 1
        left = date(year_start, 3, 15)
        writer.writerow(_pupil_line(rng, brin, f"{brin}-{number:03d}", 5, year_start - 1, city, taken, left=left))
    return buffer.getvalue()


def _substantive_records(school, author, year_start):
    """A support need, results and a conversation report for a few pupils of
    group 5, each created only when the pupil has none yet."""
    pupils = list(
        Pupil.objects.filter(school=school, group__name="Groep 5", pupil_ref__startswith=school.brin).order_by(
            "pupil_ref"
        )[:2]
    )
    autumn = date(year_start, 10, 7)
    for pupil in pupils[:1]:
        if not pupil.support_needs.exists():
            SupportNeed.objects.create(
                pupil=pupil,
                since=date(year_start - 1, 11, 1),
                description="Extra begeleiding bij begrijpend lezen, twee keer per week in een kleine groep.",
            )
        if not pupil.conversations.exists():
            ConversationReport.objects.create(
                pupil=pupil,
                date=autumn,
                participants="Leerkracht groep 5, intern begeleider, ouders",
                report="Voortgang lezen besproken; afgesproken het leesplan tot de kerstvakantie voort te zetten.",
                author=author,
            )
    for pupil in pupils:
        if not pupil.results.exists():
            ProgressResult.objects.bulk_create(
                [
                    ProgressResult(
                        pupil=pupil,
                        date=date(year_start, 1, 20),
                        test="LVS midden",
                        subject="Rekenen",
                        score="52",
                        level="II",
                    ),
                    ProgressResult(
                        pupil=pupil,
                        date=date(year_start, 1, 22),
                        test="LVS midden",
                        subject="Begrijpend lezen",
                        score="38",
                        level="IV",
                    ),
                ]
            )


def seed(schools, staff, stdout):
    year_start = int(current_school_year()[:4])
    for brin, school in schools.items():
        if brin not in DEMO_SCHOOLS:
            continue
        parsed = parse_pupil_file(demo_pupil_csv(brin, year_start), school=school)
        if not parsed.ok:
            raise RuntimeError("demo pupil file rejected: " + "; ".join(str(e) for e in parsed.errors))
        plan = plan_pupil_import(parsed.rows, school)
        result = apply_pupil_import(plan, school, actor_label="manage.py seed_demo")
        stdout.write(
            f"Demo pupils {brin}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged."
        )
        if brin == "99MS":
            _substantive_records(school, staff.get("leerkracht.a"), year_start)
            _demo_grants(school, staff)


def _demo_grants(school, staff):
    """The substitute works with group 5 (attendance and progress) for two
    weeks; the support member is involved with one pupil of group 5. Made
    through the same actions as the screens, once."""
    from datetime import timedelta

    from django.utils import timezone

    from students import grants
    from students.models import Assignment, Involvement

    director, substitute, support = staff.get("directeur.a"), staff.get("invaller.a"), staff.get("ondersteuning.a")
    if not (director and substitute and support):
        return
    today = timezone.localdate()
    group5 = school.groups.filter(grade=5).order_by("-school_year").first()
    if group5 is not None and not Assignment.objects.filter(user=substitute).exists():
        grants.assignment_create(
            user=substitute,
            school=school,
            group=group5,
            record_types=["attendance", "progress"],
            valid_from=today,
            valid_until=today + timedelta(days=13),
            acting_user=director,
        )
    pupil = school.pupils.filter(group=group5).order_by("pk").first() if group5 else None
    if pupil is not None and not Involvement.objects.filter(user=support).exists():
        grants.involvement_create(
            user=support,
            pupil=pupil,
            reason="Leesbegeleiding",
            valid_from=today,
            valid_until=today + timedelta(days=90),
            acting_user=director,
        )
