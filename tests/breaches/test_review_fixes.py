"""Defects found in review, fixed: the AP step cannot be skipped, the
register is kept per foundation, and one failing mail address loses nothing."""

import datetime

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from breaches import services
from breaches.models import Breach
from privacy_admin import notify
from privacy_admin.models import Foundation, Membership, School
from privacy_admin.roles import FoundationRole, SchoolRole
from tests.breaches.test_workflow import DECIDE, step_url
from tests.conftest import make_staff


def test_decided_to_notify_cannot_skip_the_ap_step(school_a, teacher_a, make_breach, fg, verified_client):
    """R-BRK-2: after deciding to notify the AP, the incident cannot move on to
    the people step (and so cannot be closed) before the AP notice is recorded."""
    breach = make_breach(reporter=teacher_a, school=school_a, aware_at=timezone.now() - datetime.timedelta(hours=80))
    client = verified_client(fg)
    assert client.post(step_url(breach, "decide"), DECIDE).status_code == 302
    assert client.post(step_url(breach, "people"), {"people_told": "no", "people_told_reason": "x"}).status_code == 404
    breach.refresh_from_db()
    assert breach.state == Breach.State.DECIDED and breach.ap_notify
    assert client.get(step_url(breach, "ap")).status_code == 200


def test_register_is_kept_per_foundation(foundation, make_breach, verified_client):
    """R-BRK-1, S-11: a deputy FG of one foundation who is director in another
    sees that foundation's incidents as a director, but cannot work on them."""
    other = Foundation.objects.create(name="Andere Stichting", fg_email="fg@other.example.org")
    other_school = School.objects.create(foundation=other, brin="33CC", name="Other School")
    reporter = make_staff("other_teacher", school=other_school, role=SchoolRole.TEACHER)
    foreign = Breach.objects.create(
        foundation=other, school=other_school, reporter=reporter, aware_at=timezone.now(),
        what_happened="w", data_concerned="d",
    )  # fmt: skip
    dual = make_staff("dual_role", foundation=foundation, foundation_role=FoundationRole.FG_DEPUTY)
    Membership.objects.create(user=dual, school=other_school, role=SchoolRole.DIRECTOR)
    client = verified_client(dual)
    assert client.get(reverse("breach_detail", kwargs={"breach_id": foreign.pk})).status_code == 200
    assert client.get(reverse("breach_ap_form", kwargs={"breach_id": foreign.pk})).status_code == 404
    assert client.post(step_url(foreign, "decide"), {**DECIDE, "ap_notify": "no"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.state == Breach.State.REPORTED


def test_one_failing_address_does_not_stop_the_escalation(fg, deputy, school_a, teacher_a, make_breach, monkeypatch):
    """S-28, R-BRK-1: a refused address is logged (without the address) and the
    other recipients still get the escalation; the step is recorded once."""
    make_breach(reporter=teacher_a, school=school_a, aware_at=timezone.now() - datetime.timedelta(hours=49))
    real = notify.send_mail

    def flaky(subject, body, sender, to, **kwargs):
        if to == [fg.email]:
            raise OSError("smtp refused")
        return real(subject, body, sender, to, **kwargs)

    monkeypatch.setattr(notify, "send_mail", flaky)
    assert services.escalate_due() >= 1
    delivered = {to for m in mail.outbox for to in m.to}
    assert deputy.email in delivered and fg.email not in delivered
    assert services.escalate_due() == 0
