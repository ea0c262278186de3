"""The Inspectie's request and the director's inbox (U-2, R-DIS-2, S-8):
entered by the administrative staff or the IB, approved or refused by the
director with a reason, nothing disclosed before that, every decision
audited and listed."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from disclosures import actions
from disclosures.models import Disclosure
from privacy_admin.models import AuditEvent
from tests.disclosures.conftest import age_second_factor

FIELDS = ["full_name", "group", "absence_last_year"]


def enter_request(client, pupils, fields=FIELDS, method="inspection"):
    return client.post(
        reverse("disclosure_new", args=["inspectie"]),
        {
            "recipient_detail": "Inspecteur J. de Vries, INS-1",
            "purpose": "Controle verzuimregistratie",
            "pupils": [p.pk for p in pupils],
            "fields": fields,
            "method": method,
        },
    )


@pytest.fixture
def pending(verified_client, ib_a, director_a, pupil_a5, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = enter_request(verified_client(ib_a), [pupil_a5])
    assert response.status_code == 302, response.content.decode()[:3000]
    return Disclosure.objects.get()


def test_ib_enters_a_request_and_nothing_is_disclosed(pending, verified_client, ib_a, director_a, pupil_a5):
    """U-2: the request waits; the director is told by a link-only notice;
    nothing is disclosed: no data can be read, no pupil log entry."""
    assert pending.status == Disclosure.Status.PENDING and pending.requested_by == ib_a
    assert pending.kind == Disclosure.Kind.INSPECTIE and pending.legal_basis == "legal_obligation"
    assert pending.disclosed_at is None
    [message] = [m for m in mail.outbox if director_a.email in m.to]
    assert reverse("disclosure_decide", args=[pending.pk]) in message.body
    assert pupil_a5.first_name not in message.body and pupil_a5.last_name not in message.body
    assert verified_client(ib_a).get(reverse("disclosure_data", args=[pending.pk])).status_code == 403
    assert verified_client(director_a).get(reverse("disclosure_data", args=[pending.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="disclosure.pupil_disclosed").exists()
    with pytest.raises(PermissionDenied):
        actions.disclosure_data_read(disclosure=pending, output="csv", acting_user=director_a)


def test_inbox_shows_exactly_what_would_be_disclosed(pending, verified_client, director_a, pupil_a5):
    """U-2: the pending request shows recipient, pupils, fields, purpose and basis."""
    page = verified_client(director_a).get(reverse("disclosure_inbox")).content.decode()
    item = page.split(f'id="request-{pending.pk}"')[1].split("</article>")[0]
    for text in (
        "Inspectie van het Onderwijs",
        "Inspecteur J. de Vries, INS-1",
        "Legal obligation",
        "Controle verzuimregistratie",
        pupil_a5.full_name,
        "Full name",
        "Group",
        "Absence of the last year",
    ):
        assert text in item, text
    assert "Birth date" not in item


def test_director_approves_with_a_reason(
    pending, verified_client, director_a, ib_a, django_capture_on_commit_callbacks
):
    """U-2: approval needs a reason; then the request is disclosed, audited,
    the requester told, and listed among the decisions."""
    client = verified_client(director_a)
    url = reverse("disclosure_decide", args=[pending.pk])
    assert client.post(url, {"decision": "approve", "reason": ""}).status_code == 200
    pending.refresh_from_db()
    assert pending.status == Disclosure.Status.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"decision": "approve", "reason": "Wettelijke taak"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Disclosure.Status.DISCLOSED and pending.decided_by == director_a
    assert pending.decision_reason == "Wettelijke taak" and pending.disclosed_at is not None
    assert AuditEvent.objects.filter(action="disclosure.approved", actor_id=director_a.pk).count() == 1
    assert AuditEvent.objects.filter(action="disclosure.pupil_disclosed").count() == 1
    assert any(ib_a.email in m.to and reverse("disclosure_detail", args=[pending.pk]) in m.body for m in mail.outbox)
    decided = client.get(reverse("disclosure_inbox")).content.decode().split('id="decided"')[1]
    assert f"#{pending.pk}" in decided and "Wettelijke taak" in decided
    assert verified_client(ib_a).get(reverse("disclosure_data", args=[pending.pk])).status_code == 200
    with pytest.raises(ValidationError):
        actions.disclosure_refuse(disclosure=pending, reason="te laat", acting_user=director_a)


def test_director_refuses_and_nothing_is_disclosed(pending, verified_client, director_a, ib_a):
    """U-2: a refusal with a reason discloses nothing, ever."""
    client = verified_client(director_a)
    response = client.post(
        reverse("disclosure_decide", args=[pending.pk]), {"decision": "refuse", "reason": "Geen grondslag"}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Disclosure.Status.REFUSED and pending.disclosed_at is None
    assert AuditEvent.objects.filter(action="disclosure.refused").count() == 1
    assert not AuditEvent.objects.filter(action="disclosure.pupil_disclosed").exists()
    assert verified_client(ib_a).get(reverse("disclosure_data", args=[pending.pk])).status_code == 403
    with pytest.raises(ValidationError):
        actions.disclosure_approve(disclosure=pending, reason="toch wel", acting_user=director_a)


def test_decision_asks_the_second_factor_again(pending, verified_client, director_a):
    """S-8: deciding asks for a fresh code; nothing is decided before that."""
    client = age_second_factor(verified_client(director_a))
    url = reverse("disclosure_decide", args=[pending.pk])
    assert client.get(url)["Location"].startswith(reverse("step_up"))
    response = client.post(url, {"decision": "approve", "reason": "ok"})
    assert response["Location"].startswith(reverse("step_up"))
    pending.refresh_from_db()
    assert pending.status == Disclosure.Status.PENDING


def test_only_the_director_of_the_school_decides(pending, verified_client, ib_a, teacher_a, director_b):
    """U-2, S-11: others cannot decide; a director of another school gets a 404."""
    url = reverse("disclosure_decide", args=[pending.pk])
    assert verified_client(ib_a).post(url, {"decision": "approve", "reason": "x"}).status_code == 403
    assert verified_client(teacher_a).get(reverse("disclosure_inbox")).status_code == 403
    assert verified_client(director_b).post(url, {"decision": "approve", "reason": "x"}).status_code == 404
    assert f"request-{pending.pk}" not in verified_client(director_b).get(reverse("disclosure_inbox")).content.decode()
    with pytest.raises(PermissionDenied):
        actions.disclosure_approve(disclosure=pending, reason="x", acting_user=ib_a)
    pending.refresh_from_db()
    assert pending.status == Disclosure.Status.PENDING


def test_the_request_form_rerenders_bad_input(verified_client, admin_staff_a, pupil_a5):
    """S-16: no pupils or no fields: the form comes back with the errors, nothing stored."""
    client = verified_client(admin_staff_a)
    assert enter_request(client, []).status_code == 200
    assert enter_request(client, [pupil_a5], fields=[]).status_code == 200
    assert enter_request(client, [pupil_a5], fields=["health"]).status_code == 200
    assert not Disclosure.objects.exists()
