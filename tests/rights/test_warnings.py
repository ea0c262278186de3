"""The deadline warnings (R-RGT-3, S-28, R-DIS-6) and the overdue requests on
the director's dashboard."""

import datetime

from django.core import mail
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from disclosures.rights import services
from disclosures.rights.models import ParentRequest
from disclosures.rights.tasks import JOB_NAME, warn_request_deadlines
from privacy_admin.models import JobRun
from privacy_admin.schedule import BEAT_SCHEDULE
from tests.rights.conftest import file_request

TODAY = datetime.date(2026, 3, 2)


def _due_in(parent_request, days, today=None):
    ParentRequest.objects.filter(pk=parent_request.pk).update(
        due_on=(today or timezone.localdate()) + datetime.timedelta(days=days)
    )


def test_warnings_are_sent_once_when_the_job_runs_twice(director_a, teacher_a, child, mother):
    """S-28, R-RGT-3: the daily job warns the director 7 days before the
    deadline; run twice, the warning goes out once. The mail is a fixed
    sentence and a link (R-DIS-6); the run is recorded with its counts."""
    parent_request = file_request(mother)
    _due_in(parent_request, 7)
    warn_request_deadlines.delay()
    warn_request_deadlines.delay()
    assert [m.to for m in mail.outbox] == [["director_a@example.org"]]
    body = mail.outbox[0].body
    assert f"/verzoeken/{parent_request.pk}/" in body
    assert "Sanne" not in body and "Kwast" not in body and "Marieke" not in body
    runs = JobRun.objects.filter(name=JOB_NAME).order_by("pk")
    assert [r.counts["warned_7"] for r in runs] == [1, 0] and {r.outcome for r in runs} == {"ok"}
    assert ParentRequest.objects.get().warned_7_at is not None


def test_seven_and_two_days_before_each_once(director_a, child, mother):
    """R-RGT-3, S-28: 7 days before, then 2 days before; each once."""
    parent_request = file_request(mother)
    _due_in(parent_request, 9, TODAY)
    assert services.deadline_warnings_send(TODAY)["notices"] == 0
    for day in (2, 3, 4):  # 7, 6 and 5 days left: one 7-day warning
        services.deadline_warnings_send(TODAY + datetime.timedelta(days=day))
    assert len(mail.outbox) == 1
    for day in (7, 7, 8, 9, 12):  # 2, 2, 1, 0 and -3 days left: one 2-day warning
        services.deadline_warnings_send(TODAY + datetime.timedelta(days=day))
    assert len(mail.outbox) == 2


def test_two_day_warning_overtakes_a_missed_seven_day_one(director_a, child, mother):
    """S-28: a request found at 2 days left without its 7-day warning gets
    only the 2-day warning, and the 7-day one never follows."""
    _due_in(file_request(mother), 2, TODAY)
    assert services.deadline_warnings_send(TODAY) == {"warned_7": 0, "warned_2": 1, "notices": 1}
    assert services.deadline_warnings_send(TODAY) == {"warned_7": 0, "warned_2": 0, "notices": 0}


def test_answered_requests_are_not_warned_and_an_extension_restarts(director_a, teacher_a, child, mother):
    """R-RGT-3: an answered request is not warned; an extension clears the
    warnings so the new deadline is warned again."""
    answered = file_request(mother)
    at = timezone.now() + datetime.timedelta(days=1)
    services.viewing_schedule(answered, at=at, place="Kamer 1", staff=teacher_a, acting_user=director_a)
    _due_in(answered, 5)
    extended = file_request(mother, ParentRequest.Kind.CORRECT)
    _due_in(extended, 6)
    services.deadline_warnings_send()
    assert len(mail.outbox) == 1
    extended.refresh_from_db()
    services.deadline_extend(extended, months=1, reason="Meer tijd nodig", acting_user=director_a)
    extended.refresh_from_db()
    assert extended.warned_7_at is None and extended.warned_2_at is None
    _due_in(extended, 7)
    services.deadline_warnings_send()
    assert len(mail.outbox) == 2


def test_job_is_scheduled_with_a_time_limit():
    """S-28: the job is in the one schedule, daily, with a time limit."""
    entry = BEAT_SCHEDULE["rights-deadline-warnings"]
    assert entry["task"] == "disclosures.rights.tasks.warn_request_deadlines"
    assert entry["options"]["time_limit"] > 0


def _render_tag(user):
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load rights_tags %}{% rights_overdue %}").render(Context({"request": request}))


def test_dashboard_tag_shows_overdue_requests(director_a, teacher_a, child, mother, stepfather):
    """R-RGT-3, U-2: `{% rights_overdue %}` shows the director the open
    requests past or near their deadline; nothing for a teacher."""
    late = file_request(mother)
    _due_in(late, -3)
    far = file_request(stepfather)
    html = _render_tag(director_a)
    assert late.number in html and "3 days overdue" in html and far.number not in html
    assert _render_tag(teacher_a).strip() == ""
