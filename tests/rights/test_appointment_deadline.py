"""The viewing appointment lies within the request's deadline (R-RGT-3,
R-RGT-1). The appointment is the request's answer: one after the deadline
would stop the clock and get round the one-month term and the one-time
extension. Extend first, with a reason, then plan within the new term; an
appointment in the past is refused too."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.utils import timezone

from disclosures.rights import deadlines, services
from disclosures.rights.models import ParentRequest
from privacy_admin.models import AuditEvent
from tests.rights.conftest import file_request

Status = ParentRequest.Status
DEADLINE_HINT = "first extend the deadline"
NO_EXTENSION = "The deadline can no longer be extended."


def _post(client, url, data):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data)


def _on(day, staff, time="15:30"):
    return {"date": day.isoformat(), "time": time, "place": "Kamer van de directeur", "staff": staff.pk}


def _at(day, hour=15):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 30)))


def _backdate(parent_request, days):
    received_on = timezone.localdate() - datetime.timedelta(days=days)
    ParentRequest.objects.filter(pk=parent_request.pk).update(
        received_on=received_on,
        received_at=parent_request.received_at - datetime.timedelta(days=days),
        due_on=deadlines.due_date(received_on),
    )
    parent_request.refresh_from_db()
    return parent_request


def test_appointment_after_the_deadline_is_refused_until_extended(verified_client, director_a, teacher_a, mother):
    """R-RGT-3, R-RGT-1: an appointment after the deadline is refused with a
    field error that points to the extension; the request stays open, on the
    list and extendable, and nothing is stored or sent. After the extension
    (with a reason) the same date is accepted within the new term."""
    parent_request = file_request(mother)
    url = f"/verzoeken/{parent_request.pk}/afspraak/"
    client = verified_client(director_a)
    due = parent_request.due_on.strftime("%d-%m-%Y")
    page = client.get(url).content.decode()
    assert f"On or before {due}, the deadline of this request." in page
    assert f'href="/verzoeken/{parent_request.pk}/verlengen/"' in page

    late = parent_request.due_on + datetime.timedelta(days=1)
    response = _post(client, url, _on(late, teacher_a))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_date_error"' in page and DEADLINE_HINT in page and due in page
    assert 'value="Kamer van de directeur"' in page  # nothing typed is lost
    parent_request.refresh_from_db()
    assert parent_request.status == Status.RECEIVED and parent_request.is_open
    assert parent_request.appointment_at is None and not mail.outbox
    assert not AuditEvent.objects.filter(action="rights.viewing_scheduled").exists()
    assert parent_request.number in client.get("/verzoeken/").content.decode()

    extend = f"/verzoeken/{parent_request.pk}/verlengen/"
    assert _post(client, extend, {"months": "1", "reason": "De leerkracht is afwezig."}).status_code == 302
    response = _post(client, url, _on(late, teacher_a))
    assert response.status_code == 302
    parent_request.refresh_from_db()
    assert parent_request.status == Status.SCHEDULED and timezone.localdate(parent_request.appointment_at) == late
    assert not parent_request.appointment_after_deadline


def test_after_the_extended_deadline_no_extension_is_offered(verified_client, director_a, teacher_a, mother):
    """R-RGT-3: once extended, a date after the new deadline is refused, and
    the message says the deadline cannot be extended again."""
    parent_request = services.deadline_extend(file_request(mother), months=2, reason="Archief", acting_user=director_a)
    url = f"/verzoeken/{parent_request.pk}/afspraak/"
    page = verified_client(director_a).get(url).content.decode()
    assert f'href="/verzoeken/{parent_request.pk}/verlengen/"' not in page
    response = _post(
        verified_client(director_a), url, _on(parent_request.due_on + datetime.timedelta(days=1), teacher_a)
    )
    page = response.content.decode()
    assert response.status_code == 200 and NO_EXTENSION in page and DEADLINE_HINT not in page
    assert ParentRequest.objects.get().status == Status.RECEIVED


def test_appointment_on_the_deadline_day_is_in_time(verified_client, director_a, teacher_a, mother):
    """R-RGT-3: the deadline is the last day on which the request is answered
    in time, so an appointment on that day is accepted."""
    parent_request = file_request(mother)
    url = f"/verzoeken/{parent_request.pk}/afspraak/"
    assert _post(verified_client(director_a), url, _on(parent_request.due_on, teacher_a)).status_code == 302
    assert ParentRequest.objects.get().status == Status.SCHEDULED


def test_moving_the_appointment_stays_within_the_deadline(verified_client, director_a, teacher_a, mother):
    """R-RGT-3: moving the appointment is the same act again: it cannot move
    past the deadline either, and the appointment as made is kept."""
    parent_request = file_request(mother)
    first = _at(timezone.localdate() + datetime.timedelta(days=3))
    services.viewing_schedule(parent_request, at=first, place="Kamer 1", staff=teacher_a, acting_user=director_a)
    url = f"/verzoeken/{parent_request.pk}/afspraak/"
    response = _post(
        verified_client(director_a), url, _on(parent_request.due_on + datetime.timedelta(days=20), teacher_a)
    )
    assert response.status_code == 200 and NO_EXTENSION in response.content.decode()
    parent_request.refresh_from_db()
    assert parent_request.appointment_at == first and parent_request.appointment_place == "Kamer 1"


def test_the_action_refuses_a_late_or_past_appointment(director_a, teacher_a, mother):
    """R-RGT-3, R-RGT-1: the named action applies the same rule as the form,
    so no other caller gets round it; a refused call changes nothing."""
    parent_request = file_request(mother)
    for at in (
        _at(parent_request.due_on + datetime.timedelta(days=1)),
        timezone.now() - datetime.timedelta(hours=1),
    ):
        with pytest.raises(ValidationError):
            services.viewing_schedule(parent_request, at=at, place="Kamer 1", staff=teacher_a, acting_user=director_a)
    parent_request.refresh_from_db()
    assert parent_request.is_open and parent_request.status == Status.RECEIVED
    assert parent_request.appointment_at is None


def test_appointment_in_the_past_is_refused(verified_client, director_a, teacher_a, mother):
    """R-RGT-1: an appointment earlier today, or on an earlier day, is
    refused on the date field."""
    parent_request = file_request(mother)
    url = f"/verzoeken/{parent_request.pk}/afspraak/"
    client = verified_client(director_a)
    earlier = timezone.localtime() - datetime.timedelta(hours=1)
    for data in (
        _on(timezone.localdate() - datetime.timedelta(days=1), teacher_a),
        _on(earlier.date(), teacher_a, earlier.strftime("%H:%M")),
    ):
        response = _post(client, url, data)
        page = response.content.decode()
        assert response.status_code == 200 and 'id="id_date_error"' in page and "lies in the past" in page
    assert ParentRequest.objects.get().status == Status.RECEIVED and not mail.outbox


def test_an_overdue_request_can_still_be_planned(verified_client, director_a, teacher_a, mother):
    """R-RGT-1, R-RGT-3: once the deadline has passed no date is in time; the
    parent keeps the right to view, so the appointment is still made, and it
    is marked after the deadline."""
    parent_request = _backdate(file_request(mother), 40)
    assert parent_request.overdue
    url = f"/verzoeken/{parent_request.pk}/afspraak/"
    client = verified_client(director_a)
    assert "the deadline of this request" not in client.get(url).content.decode()
    assert _post(client, url, _on(timezone.localdate() + datetime.timedelta(days=3), teacher_a)).status_code == 302
    parent_request.refresh_from_db()
    assert parent_request.status == Status.SCHEDULED and parent_request.appointment_after_deadline
    assert "after the deadline" in client.get(f"/verzoeken/{parent_request.pk}/").content.decode()
