"""The leerplicht report (R-DIS-2): flag pupils with too much unauthorised
absence, and record the report to the leerplichtambtenaar as a disclosure.

The rule (Leerplichtwet 1969 art. 21a): a school reports a pupil who is absent
without leave for 16 hours or more within 4 consecutive school weeks. Here a
"school week" is an ISO week, Monday to Sunday, and a window is any 4
consecutive ISO weeks: the weeks starting on Monday W, W+7, W+14 and W+21
days, so the window runs from Monday W to Sunday W+27. Only attendance records
with `authorised=False` count, each with its `hours`. Holidays are not skipped
(the system has no holiday calendar): a window that spans a holiday week holds
fewer school days, so across a holiday the rule flags later, never sooner.

`truancy_window` is a pure function over (date, hours) pairs so the boundaries
(15.5 and 16 hours; 4 and 5 weeks) are tested without a database.
`flagged_pupils` applies it to the pupils a user may see, in two queries.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from disclosures import fields as catalogue
from disclosures.models import Disclosure, DisclosurePupil, LegalBasis
from disclosures.seed import seeded_recipient
from privacy_admin.auditlog import audit_record
from privacy_admin.models.org import current_school_year
from students.models import AttendanceRecord

THRESHOLD_HOURS = Decimal("16")
WINDOW_WEEKS = 4

# Keys of the field catalogue (disclosures/fields.py): what the report holds,
# read through fields.rows() like every disclosure.
REPORT_FIELDS = ["full_name", "birth_date", "address", "absence_last_year"]
RECIPIENT_KEY = "leerplicht"

# How a report reaches the leerplichtambtenaar (the screen shows what is
# reported; there is no file to download).
REPORT_METHODS = [
    (value, label)
    for value, label in Disclosure.Method.choices
    if value in (Disclosure.Method.SECURE_LINK, Disclosure.Method.PHONE, Disclosure.Method.IN_PERSON)
]


@dataclass(frozen=True)
class TruancyWindow:
    start: datetime.date  # a Monday
    end: datetime.date  # the Sunday 4 weeks later
    hours: Decimal

    @property
    def weeks(self):
        """ISO week numbers of the window, e.g. [37, 38, 39, 40]."""
        return [(self.start + datetime.timedelta(weeks=n)).isocalendar().week for n in range(WINDOW_WEEKS)]


def _monday(day):
    return day - datetime.timedelta(days=day.weekday())


def truancy_window(records, threshold=THRESHOLD_HOURS):
    """The window of 4 consecutive ISO weeks with the most unauthorised hours,
    if those hours reach `threshold`; otherwise None. `records` are (date,
    hours) pairs of unauthorised absence only. On equal hours the earliest
    window is given.

    Only windows that start in a week with absence need checking: any other
    window holds no more than the one starting at its first week with absence.
    """
    per_week = {}
    for day, hours in records:
        monday = _monday(day)
        per_week[monday] = per_week.get(monday, Decimal(0)) + Decimal(hours)
    best = None
    for start in sorted(per_week):
        end = start + datetime.timedelta(weeks=WINDOW_WEEKS, days=-1)
        hours = sum((h for monday, h in per_week.items() if start <= monday <= end), Decimal(0))
        if hours >= threshold and (best is None or hours > best.hours):
            best = TruancyWindow(start, end, hours)
    return best


@dataclass(frozen=True)
class Flag:
    pupil: object
    window: TruancyWindow


def school_year_bounds(school_year):
    """The first and last day of a school year such as "2025-2026": 1 August
    2025 and 31 July 2026 (school years run from 1 August, as in
    privacy_admin.models.org). ValueError for anything else."""
    first, sep, second = school_year.partition("-")
    if not (sep and len(first) == 4 and len(second) == 4 and first.isascii() and second.isascii()):
        raise ValueError(school_year)
    if not (first.isdigit() and second.isdigit()) or int(second) != int(first) + 1:
        raise ValueError(school_year)
    return datetime.date(int(first), 8, 1), datetime.date(int(second), 7, 31)


def recent_school_years(count=3, today=None):
    """The current school year and the ones before it, newest first."""
    start = int(current_school_year(today)[:4])
    return [f"{year}-{year + 1}" for year in range(start, start - count, -1)]


def flagged_pupils(pupils, start, end):
    """Flags for the pupils of the queryset `pupils` (from
    students.policy.visible_pupils) over unauthorised absence dated from
    `start` to `end`, heaviest first. Two queries, whatever the number of
    pupils."""
    rows = AttendanceRecord.objects.filter(
        pupil__in=pupils, authorised=False, date__gte=start, date__lte=end
    ).values_list("pupil_id", "date", "hours")
    per_pupil = {}
    for pupil_id, day, hours in rows:
        per_pupil.setdefault(pupil_id, []).append((day, hours))
    windows = {pupil_id: truancy_window(records) for pupil_id, records in per_pupil.items()}
    windows = {pupil_id: window for pupil_id, window in windows.items() if window is not None}
    if not windows:
        return []
    found = pupils.filter(pk__in=windows).select_related("group", "school")
    flags = [Flag(pupil, windows[pupil.pk]) for pupil in found]
    flags.sort(key=lambda f: (-f.window.hours, f.pupil.last_name, f.pupil.first_name, f.pupil.pk))
    return flags


def absence_in(pupil, start, end):
    """The pupil's unauthorised absence records from `start` to `end`, oldest first."""
    return list(
        AttendanceRecord.objects.filter(pupil=pupil, authorised=False, date__gte=start, date__lte=end).order_by(
            "date", "pk"
        )
    )


def report_content(pupil):
    """[(label, [lines])] of exactly what the report discloses."""
    ((_pupil, values),) = catalogue.rows([pupil], REPORT_FIELDS)
    return [
        (catalogue.CATALOGUE[key].label, values[key] if isinstance(values[key], list) else [values[key]])
        for key in REPORT_FIELDS
    ]


def default_purpose(window):
    if window is None:
        return _("Report of unauthorised absence.")
    return _("Report of unauthorised absence: %(hours)s hours from %(start)s to %(end)s (ISO weeks %(weeks)s).") % {
        "hours": window.hours,
        "start": window.start.strftime("%d-%m-%Y"),
        "end": window.end.strftime("%d-%m-%Y"),
        "weeks": ", ".join(str(w) for w in window.weeks),
    }


class ReportRefused(Exception):
    """The report cannot be recorded; the message says why (no personal data)."""


def checked_recipient(school):
    """The leerplichtambtenaar of the register, if it is active and its
    whitelist holds every field of the report."""
    recipient = seeded_recipient(school.foundation, RECIPIENT_KEY)
    if not recipient.active or set(REPORT_FIELDS) - set(recipient.fields):
        raise ReportRefused(
            _(
                "The register's entry for the leerplichtambtenaar is inactive or does not allow name, birth date, "
                "address and absence; correct the register first."
            )
        )
    return recipient


@transaction.atomic
def leerplicht_report(*, pupil, method, purpose, recipient_detail="", acting_user, request=None):
    """Record the report of one pupil to the leerplichtambtenaar: a disclosure
    on the ground of a legal obligation, made at once (no approval: the school
    must report), with its audit event in the same transaction. ReportRefused
    when the register's whitelist does not allow the report's fields."""
    recipient = checked_recipient(pupil.school)
    now = timezone.now()
    disclosure = Disclosure.objects.create(
        school=pupil.school,
        recipient=recipient,
        recipient_detail=recipient_detail,
        kind=Disclosure.Kind.LEERPLICHT,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        purpose=purpose,
        fields=list(REPORT_FIELDS),
        method=method,
        status=Disclosure.Status.DISCLOSED,
        requested_by=acting_user,
        requested_at=now,
        decided_by=acting_user,
        decided_at=now,
        disclosed_at=now,
        pupil_count=1,
    )
    DisclosurePupil.objects.create(disclosure=disclosure, pupil=pupil)
    audit_record(
        "disclosure.leerplicht_report",
        actor=acting_user,
        request=request,
        obj=disclosure,
        pupil_id=pupil.pk,
        school_id=pupil.school_id,
        details={"method": method, "fields": list(REPORT_FIELDS)},
    )
    return disclosure


def reports_of(pupils):
    """{pupil_id: newest leerplicht disclosure} for the given pupils."""
    rows = (
        DisclosurePupil.objects.filter(
            pupil__in=pupils,
            disclosure__kind=Disclosure.Kind.LEERPLICHT,
            disclosure__status=Disclosure.Status.DISCLOSED,
        )
        .select_related("disclosure")
        .order_by("disclosure__disclosed_at", "pk")
    )
    return {row.pupil_id: row.disclosure for row in rows}
