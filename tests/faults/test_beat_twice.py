"""Beat started twice (S-28): two beat processes fire the same jobs, many
times over, into a worker running two tasks at once. Every job's effect
happens once: each parent gets one yearly reminder, each escalation step of a
breach goes out once, each pupil of a school in automatic mode is purged once.

The two beats get a test schedule (each job every second, through
tests/faults/run_celery.py) instead of their crontabs; the jobs are the
production tasks of privacy_admin/schedule.py.
"""

import collections
import time

from django.utils import timezone, translation

from breaches.models import Breach, Escalation
from breaches.services import ESCALATION_STEPS
from privacy_admin.models import JobRun
from privacy_admin.notify import NOTICES
from retention import engine
from retention.models import PurgeRecord, RetentionSettings
from tests.faults.data import leavers, mail_lines, parents_due_a_reminder
from tests.faults.procs import wait_until

JOBS = {
    "consent.tasks.send_yearly_reminders": "consent_yearly_reminder",
    "breaches.tasks.escalate_breaches": "breach_escalation",
    "retention.tasks.nightly_retention": "retention_nightly",
}
FIRING_SECONDS = 6


def test_two_beats_fire_every_job_many_times_and_each_effect_happens_once(
    broker, procs, report, log_dir, foundation, school_a, group5_a, fg
):
    """S-28, S-27, R-CON-3, R-BRK-2: each job ran many times, several at
    once; the reminders, escalations and purge happened once each."""
    today = timezone.localdate()
    RetentionSettings.objects.update_or_create(school=school_a, defaults={"mode": RetentionSettings.Mode.AUTOMATIC})
    leavers(school_a, 12)
    due = engine.due(today, school=school_a).counts()
    addresses = parents_due_a_reminder(school_a, group5_a, 6)
    Breach.objects.create(
        foundation=foundation,
        school=school_a,
        reporter=fg,
        aware_at=timezone.now() - timezone.timedelta(hours=61),
        what_happened="Laptop kwijt",
        data_concerned="Groepslijsten",
    )
    mail_log = log_dir / "beat-mail.log"
    # Slow enough that runs overlap: two at once in the worker, more queued.
    procs.worker(concurrency=2, FAULT_MAIL_LOG=mail_log, FAULT_MAIL_DELAY=0.1, FAULT_BATCH_DELAY=0.3)
    beats = [procs.beat(list(JOBS), interval=1) for _ in range(2)]
    time.sleep(FIRING_SECONDS)
    for beat in beats:
        beat.stop()
    sent_by_beats = sum(beat.output().count("Scheduler: Sending due task") for beat in beats)

    def drained():
        unfinished = JobRun.objects.filter(finished_at__isnull=True).exists()
        return broker.queued() == 0 and broker.unacked() == 0 and not unfinished

    wait_until(drained, 90, "every fired job to finish")
    runs = collections.Counter(JobRun.objects.filter(outcome="ok").values_list("name", flat=True))
    assert all(runs[name] >= 4 for name in JOBS.values()), runs
    overlapping = {name: _most_at_once(name) for name in JOBS.values()}
    assert not JobRun.objects.exclude(outcome="ok").exists()

    with translation.override("nl"):  # the notices go out in Dutch
        reminder_subject = str(NOTICES["parent_yearly_reminder"][0])
        escalation_subject = str(NOTICES["breach_escalation"][0])
    lines = [line.split("\t") for line in mail_lines(mail_log)]
    reminders = collections.Counter(to for to, subject in lines if subject == reminder_subject)
    escalation_mails = [to for to, subject in lines if subject == escalation_subject]
    assert reminders == dict.fromkeys(addresses, 1)
    assert Escalation.objects.count() == len(ESCALATION_STEPS)
    # Each step goes to the FG's account and the foundation's FG address.
    assert len(escalation_mails) == 2 * len(ESCALATION_STEPS)

    purged = dict.fromkeys(engine.CATEGORIES, 0)
    for category, pupils in PurgeRecord.objects.values_list("category", "pupils"):
        purged[category] += pupils
    assert purged == due
    assert engine.due(today, school=school_a).counts() == dict.fromkeys(engine.CATEGORIES, 0)
    report(
        f"2 beats sent {sent_by_beats} tasks in {FIRING_SECONDS} s; jobs run: "
        + ", ".join(f"{name} {count}x (at most {overlapping[name]} at once)" for name, count in sorted(runs.items()))
    )
    report(
        f"effects once: {sum(reminders.values())} reminders to {len(addresses)} parents, "
        f"{Escalation.objects.count()} escalation steps ({len(escalation_mails)} mails), "
        f"{sum(purged.values())} pupil-categories purged == due"
    )


def _most_at_once(name):
    """The most runs of job `name` in progress at the same moment."""
    edges = []
    for started, finished in JobRun.objects.filter(name=name).values_list("started_at", "finished_at"):
        edges += [(started, 1), (finished, -1)]
    most = current = 0
    for _moment, step in sorted(edges, key=lambda edge: (edge[0], edge[1])):
        current += step
        most = max(most, current)
    return most
