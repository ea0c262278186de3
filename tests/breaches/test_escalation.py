"""The escalation job (R-BRK-2, S-28): every 15 minutes until the decision
is recorded; each step is sent once however often the job runs."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from breaches import services
from breaches.models import Breach, Escalation
from breaches.tasks import escalate_breaches
from privacy_admin.models import AuditEvent, JobRun
from privacy_admin.schedule import BEAT_SCHEDULE


def _recipients():
    return sorted(to for m in mail.outbox for to in m.to)


@pytest.fixture
def cast(fg, deputy, board, teacher_a):
    return {"fg": fg, "deputy": deputy, "board": board}


def test_escalation_is_sent_once_when_the_job_runs_twice(cast, school_a, teacher_a, make_breach):
    """S-28: run twice, each due step is mailed once."""
    breach = make_breach(reporter=teacher_a, school=school_a, aware_at=timezone.now() - datetime.timedelta(hours=25))
    escalate_breaches.delay()
    first = _recipients()
    escalate_breaches.delay()
    assert _recipients() == first == sorted(["fg@example.org", "fg_user@example.org"])
    assert list(Escalation.objects.filter(breach=breach).values_list("step", flat=True)) == ["24h"]
    assert AuditEvent.objects.filter(action="breach.escalated").count() == 1
    runs = JobRun.objects.filter(name="breach_escalation").order_by("pk")
    assert [r.counts["escalations_sent"] for r in runs] == [1, 0]
    for message in mail.outbox:
        assert f"/datalekken/{breach.pk}/" in message.body
        assert "verkeerde ouder" not in message.body  # R-DIS-6


def test_steps_widen_the_circle(cast, school_a, teacher_a, make_breach):
    """R-BRK-2: 24 h the FG, 48 h also the deputy, 60 h also the bestuurder."""
    make_breach(reporter=teacher_a, school=school_a, aware_at=timezone.now() - datetime.timedelta(hours=61))
    assert services.escalate_due() == 3
    assert _recipients().count("board@example.org") == 1
    assert _recipients().count("fg_deputy@example.org") == 2
    assert services.escalate_due() == 0


def test_no_escalation_before_24_hours_or_after_the_decision(cast, school_a, teacher_a, make_breach):
    """Escalation stops once the decision is recorded."""
    make_breach(reporter=teacher_a, school=school_a, aware_at=timezone.now() - datetime.timedelta(hours=23))
    make_breach(
        reporter=teacher_a,
        school=school_a,
        aware_at=timezone.now() - datetime.timedelta(hours=50),
        state=Breach.State.DECIDED,
    )
    assert services.escalate_due() == 0
    assert mail.outbox == []


def test_escalation_job_is_scheduled_every_15_minutes_with_a_time_limit():
    """STYLE 6: the schedule is in one place, with a time limit."""
    entry = BEAT_SCHEDULE["breach-escalation"]
    assert entry["task"] == "breaches.tasks.escalate_breaches"
    assert entry["options"]["time_limit"] > 0
    assert entry["schedule"].minute == {0, 15, 30, 45}
