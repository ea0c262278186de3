"""The yearly reminder job (R-CON-3, S-28, R-DIS-6): once per parent address
per school year, however often it runs or wherever it stopped."""

import datetime
import types
from collections import Counter

import pytest
from django.core import mail
from django.utils import timezone

from consent import tasks
from consent.models import ConsentSettings, Reminder
from privacy_admin import notify
from privacy_admin.models import JobRun
from privacy_admin.models.org import current_school_year
from students.models import Guardian, GuardianLink
from tests.students.conftest import make_pupil

YEAR = int(current_school_year()[:4])
AFTER = datetime.date(YEAR, 9, 2)


@pytest.fixture
def on_day(monkeypatch):
    """Run the job as if today were `day` (the school year follows the date)."""

    def set_day(day):
        monkeypatch.setattr(tasks, "timezone", types.SimpleNamespace(now=timezone.now, localdate=lambda: day))

    set_day(AFTER)
    return set_day


@pytest.fixture
def families(school_a, group5_a, child, mother, father, stepparent):
    """Sanne's three parents; her brother imported with a second row for his
    mother (same address, other case); a parent without an address; a pupil
    who left last year."""
    brother = make_pupil(school_a, group5_a, first="Bas", last="Kwast")
    twice = Guardian.objects.create(first_name="Marieke", last_name="Kwast", email="MARIEKE.Kwast@example.org")
    GuardianLink.objects.create(pupil=brother, guardian=twice, has_authority=True)
    no_mail = Guardian.objects.create(last_name="Zonder")
    GuardianLink.objects.create(pupil=brother, guardian=no_mail, has_authority=True)
    gone = make_pupil(school_a, None, first="Weg", last="Gegaan")
    gone.enrolment.left_on = datetime.date(YEAR - 1, 7, 1)
    gone.enrolment.save(update_fields=["left_on"])
    gone_parent = Guardian.objects.create(last_name="Gegaan", email="weg@example.org")
    GuardianLink.objects.create(pupil=gone, guardian=gone_parent, has_authority=True)
    return {"mother": mother, "father": father, "stepparent": stepparent, "twice": twice}


# The step-parent has no parental authority and cannot change preferences:
# no reminder (R-CON-6).
EXPECTED = {"marieke.kwast@example.org", "frank.kwast@example.org"}


def _recipients():
    return Counter(address.lower() for message in mail.outbox for address in message.to)


def test_run_twice_sends_once_per_address(families, on_day):
    """R-CON-3, S-28: every enrolled pupil's parent with an address gets one
    reminder; run twice, nobody gets a second; two guardian rows with one
    address get one mail; each run is a job record with counts."""
    first = tasks.send_yearly_reminders.delay().get()
    second = tasks.send_yearly_reminders.delay().get()
    assert _recipients() == Counter(dict.fromkeys(EXPECTED, 1))
    assert first == {"schools": 1, "created": 2, "sent": 2, "skipped": 0, "duplicates": 1}
    assert second == {"schools": 1, "created": 0, "sent": 0, "skipped": 0, "duplicates": 1}
    runs = JobRun.objects.filter(name="consent_yearly_reminder").order_by("started_at")
    assert [(r.outcome, r.counts["sent"]) for r in runs] == [("ok", 2), ("ok", 0)]
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}


def test_mails_carry_a_link_and_no_names(families, on_day):
    """R-DIS-6: the reminder carries the portal link, no name of child or parent."""
    tasks.send_yearly_reminders.delay()
    assert mail.outbox
    for message in mail.outbox:
        text = message.subject + message.body
        assert "/parents/" in message.body
        for name in ("Sanne", "Bas", "Kwast", "Marieke", "Frank", "Stef", "School A", "Groep 5"):
            assert name not in text


def test_not_before_the_reminder_date(families, on_day, school_a):
    """R-CON-3: nothing before the school's date (default 1 September); a
    school's own date is used when set."""
    on_day(datetime.date(YEAR, 8, 31))
    assert tasks.send_yearly_reminders.delay().get()["schools"] == 0
    assert not mail.outbox and not Reminder.objects.exists()
    ConsentSettings.objects.create(school=school_a, reminder_month=8, reminder_day=31)
    assert tasks.send_yearly_reminders.delay().get()["sent"] == 2


def test_reminder_date_in_the_new_calendar_year():
    """R-CON-3: a date from January to July falls in the second calendar year of the school year."""
    setting = ConsentSettings(reminder_month=1, reminder_day=6)
    assert tasks.reminder_date(setting, "2026-2027") == datetime.date(2027, 1, 6)
    assert tasks.reminder_date(None, "2026-2027") == datetime.date(2026, 9, 1)
    assert tasks.reminder_date(ConsentSettings(reminder_month=2, reminder_day=30), "2026-2027") == datetime.date(
        2026, 9, 1
    )


def test_failure_halfway_then_rerun_sends_the_rest_once(families, on_day, monkeypatch, school_a):
    """S-28: the mail server fails on the third mail; the run is recorded as
    failed; the rerun sends the rest and never the first two again."""
    for index in range(3):
        pupil = make_pupil(school_a, None, first=f"Kind{index}", last="Extra")
        parent = Guardian.objects.create(last_name="Extra", email=f"extra{index}@example.org")
        GuardianLink.objects.create(pupil=pupil, guardian=parent, has_authority=True)
    real_send = notify.send_notice
    calls = []

    def flaky(kind, to, path, language="nl"):
        calls.append(to)
        if len(calls) == 3:
            raise ConnectionError("smtp down")
        return real_send(kind, to, path, language)

    monkeypatch.setattr(notify, "send_notice", flaky)
    with pytest.raises(ConnectionError):
        tasks.send_yearly_reminders.delay()
    first_two = set(_recipients())
    assert len(first_two) == 2
    failed = JobRun.objects.get(name="consent_yearly_reminder")
    assert failed.outcome == "failed" and failed.error == "ConnectionError" and failed.counts["sent"] == 2

    monkeypatch.setattr(notify, "send_notice", real_send)
    counts = tasks.send_yearly_reminders.delay().get()
    assert counts["sent"] == 3 and counts["created"] == 0
    everyone = EXPECTED | {f"extra{i}@example.org" for i in range(3)}
    assert _recipients() == Counter(dict.fromkeys(everyone, 1))


def test_a_claim_left_by_a_dead_worker_is_taken_again_after_30_minutes(families, on_day, school_a):
    """S-28: a row left "sending" by a worker that died is sent again once the
    claim is 30 minutes old, not before (another worker may still be busy)."""
    now = timezone.now()
    school_year = current_school_year(AFTER)
    for guardian, minutes in ((families["mother"], 31), (families["father"], 5)):
        Reminder.objects.create(
            school=school_a,
            school_year=school_year,
            guardian=guardian,
            status=Reminder.Status.SENDING,
            claimed_at=now - datetime.timedelta(minutes=minutes),
        )
    counts = tasks.send_yearly_reminders.delay().get()
    assert _recipients() == Counter({"marieke.kwast@example.org": 1})
    assert counts["sent"] == 1
    assert Reminder.objects.get(guardian=families["father"]).status == "sending"


def test_a_new_school_year_reminds_again(families, on_day):
    """R-CON-3: once per school year, so the next school year brings a new reminder."""
    tasks.send_yearly_reminders.delay()
    on_day(datetime.date(YEAR + 1, 9, 1))
    tasks.send_yearly_reminders.delay()
    assert _recipients() == Counter(dict.fromkeys(EXPECTED, 2))
    assert Reminder.objects.filter(school_year=f"{YEAR + 1}-{YEAR + 2}").count() == 2
