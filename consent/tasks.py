"""The yearly reminder to parents (R-CON-3, S-28).

Daily, for each school whose reminder date (ConsentSettings, default 1
September) in the current school year has passed: one Reminder row per
guardian with an e-mail address linked to an enrolled pupil of the school,
then each pending row is claimed atomically, mailed and marked sent.

Once per guardian per school year however often the job runs: the rows are
unique per (school, school year, guardian), and a row is only mailed by the
run that moved it from pending to sending. A worker that dies after the claim
leaves the row "sending"; after 30 minutes it counts as abandoned and is
claimed again (a mail may then go twice, never zero times). A send that fails
with an error releases its claim at once, so the next run retries it.
Guardians sharing one address (siblings imported twice) get one mail: only
the first of them per address gets a row. New guardians later in the year get
their reminder on the next daily run. The mail carries a link only (R-DIS-6).
"""

import datetime

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from consent.models import ConsentSettings, Reminder
from privacy_admin import notify
from privacy_admin.jobs import job_run
from privacy_admin.models import School
from privacy_admin.models.org import current_school_year
from students.models import Guardian

JOB_NAME = "consent_yearly_reminder"
CLAIM_TIMEOUT = datetime.timedelta(minutes=30)
PORTAL_PATH = "/parents/"
DEFAULT_MONTH, DEFAULT_DAY = 9, 1


def reminder_date(setting, school_year):
    """The school's reminder date inside `school_year` ("2026-2027"): months
    from August fall in the first calendar year, the others in the second."""
    month = setting.reminder_month if setting else DEFAULT_MONTH
    day = setting.reminder_day if setting else DEFAULT_DAY
    start = int(school_year[:4])
    try:
        return datetime.date(start if month >= 8 else start + 1, month, day)
    except ValueError:
        # Not a real date (the form refuses these; only a hand-edited row):
        # remind on the default day rather than never.
        return datetime.date(start + 1 if DEFAULT_MONTH < 8 else start, DEFAULT_MONTH, DEFAULT_DAY)


def _guardians_to_remind(school, today):
    """Guardians with an e-mail address and parental authority of pupils
    enrolled at the school today: the reminder says they can change the
    preferences, which only parents with authority can (R-CON-6)."""
    enrolled = Q(pupil_links__pupil__enrolment__left_on__isnull=True) | Q(
        pupil_links__pupil__enrolment__left_on__gt=today
    )
    return (
        Guardian.objects.filter(enrolled, pupil_links__pupil__school=school, pupil_links__has_authority=True)
        .filter(pupil_links__pupil__enrolment__isnull=False)
        .exclude(email="")
        .distinct()
        .order_by("pk")
        .only("pk", "email")
    )


def _create_rows(school, school_year, today, counts):
    existing = Reminder.objects.filter(school=school, school_year=school_year)
    done_guardians = set(existing.values_list("guardian_id", flat=True))
    seen = {email.lower() for email in existing.values_list("guardian__email", flat=True) if email}
    for guardian in _guardians_to_remind(school, today):
        if guardian.pk in done_guardians:
            continue
        address = guardian.email.lower()
        if address in seen:
            counts["duplicates"] += 1
            continue
        seen.add(address)
        _row, created = Reminder.objects.get_or_create(school=school, school_year=school_year, guardian=guardian)
        counts["created"] += created


def _claimable(now):
    return Q(status=Reminder.Status.PENDING) | Q(status=Reminder.Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)


def _send_rows(school, school_year, counts):
    rows = Reminder.objects.filter(_claimable(timezone.now()), school=school, school_year=school_year)
    for reminder_id, email in rows.order_by("pk").values_list("pk", "guardian__email"):
        claimed = Reminder.objects.filter(_claimable(timezone.now()), pk=reminder_id).update(
            status=Reminder.Status.SENDING, claimed_at=timezone.now()
        )
        if claimed != 1:
            counts["skipped"] += 1  # another run took it
            continue
        if email:
            try:
                notify.send_notice("parent_yearly_reminder", email, PORTAL_PATH)
            except Exception:
                # A failure we see: release the claim so the next run retries.
                Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.SENDING).update(
                    status=Reminder.Status.PENDING, claimed_at=None
                )
                raise
            counts["sent"] += 1
        else:
            counts["skipped"] += 1  # the address was removed since the row was made
        Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.SENDING).update(
            status=Reminder.Status.SENT, sent_at=timezone.now()
        )


@shared_task
def send_yearly_reminders():
    """R-CON-3, S-28: the yearly reminder, once per guardian per school year."""
    with job_run(JOB_NAME) as counts:
        counts.update({"schools": 0, "created": 0, "sent": 0, "skipped": 0, "duplicates": 0})
        today = timezone.localdate()
        school_year = current_school_year(today)
        settings = {s.school_id: s for s in ConsentSettings.objects.all()}
        for school in School.objects.order_by("pk"):
            if today < reminder_date(settings.get(school.pk), school_year):
                continue
            counts["schools"] += 1
            _create_rows(school, school_year, today, counts)
            _send_rows(school, school_year, counts)
    return counts


@shared_task
def purge_parent_login_codes():
    """Login codes carry a parent's e-mail address: they go as soon as they
    expired or were used (nightly; idempotent, S-28)."""
    from consent.models import ParentLoginCode

    with job_run("consent_purge_login_codes") as counts:
        expired = Q(expires_at__lt=timezone.now()) | Q(used_at__isnull=False)
        counts["removed"] = ParentLoginCode.objects.filter(expired).delete()[0]
    return counts
