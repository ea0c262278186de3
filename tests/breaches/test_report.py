"""The report by any staff member and its routing (R-BRK-1, R-DIS-6, S-24),
and who sees which incident (issue 8 item 7, S-11, S-12)."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from breaches.models import Breach, BreachEvent
from privacy_admin.models import AuditEvent

SENTINEL = "Sanne Kwast BSN 999999990"


def _post_report(client, school, **overrides):
    data = {
        "school": school.pk if school else "",
        "aware_at": "2026-11-27T10:30",
        "what_happened": f"Lijst met {SENTINEL} naar verkeerde ouder gemaild",
        "data_concerned": "Groepslijst",
        "approx_pupils": "27",
        "ongoing": "",
        **overrides,
    }
    return client.post(reverse("breach_report"), data)


def test_report_page_shows_fg_out_of_hours_phone(foundation, teacher_a, verified_client):
    """R-BRK-1: the report page gives the FG's out-of-hours number."""
    foundation.fg_phone = "010-1234567"
    foundation.save(update_fields=["fg_phone"])
    response = verified_client(teacher_a).get(reverse("breach_report"))
    assert response.status_code == 200
    assert "010-1234567" in response.content.decode()


def test_report_routes_to_fg_deputy_and_director_with_link_only(
    school_a, teacher_a, director_a, fg, deputy, teacher_b, verified_client, django_capture_on_commit_callbacks
):
    """R-BRK-1, R-DIS-6, S-24: on submit the FG (account and the foundation's
    FG address), the deputy and the school's director get a notice with a
    link and nothing of the report; the act is audited."""
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_report(verified_client(teacher_a), school_a)
    breach = Breach.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("breach_detail", kwargs={"breach_id": breach.pk})
    recipients = sorted(to for m in mail.outbox for to in m.to)
    assert recipients == sorted(
        ["fg@example.org", "fg_user@example.org", "fg_deputy@example.org", "director_a@example.org"]
    )
    for message in mail.outbox:
        assert f"/datalekken/{breach.pk}/" in message.body
        assert "Sanne" not in message.body + message.subject
        assert "999999990" not in message.body + message.subject
        assert "Groepslijst" not in message.body
    assert breach.reporter == teacher_a and breach.state == Breach.State.REPORTED
    assert breach.approx_pupils == 27
    assert AuditEvent.objects.filter(action="breach.reported", object_id=str(breach.pk)).count() == 1
    assert BreachEvent.objects.filter(breach=breach, action="reported").count() == 1


def test_report_text_is_encrypted_at_rest(school_a, teacher_a, verified_client):
    """S-25: the free texts of a report may name pupils; they are stored encrypted."""
    from django.db import connection

    _post_report(verified_client(teacher_a), school_a)
    with connection.cursor() as cursor:
        cursor.execute("SELECT what_happened FROM breaches_breach")
        (stored,) = cursor.fetchone()
    assert stored.startswith("enc1:") and "Sanne" not in stored


def test_foundation_wide_report_reaches_fg_only(foundation, school_a, teacher_a, director_a, fg, verified_client):
    """R-BRK-1: without a school no director is told."""
    _post_report(verified_client(teacher_a), None)
    breach = Breach.objects.get()
    assert breach.school is None and breach.foundation == foundation
    assert "director_a@example.org" not in [to for m in mail.outbox for to in m.to]


@pytest.mark.parametrize(
    "overrides",
    [
        {"what_happened": ""},
        {"aware_at": "not a date"},
        {"aware_at": "2099-01-01T10:00"},
        {"approx_pupils": "-3"},
    ],
)
def test_bad_report_re_renders_and_stores_nothing(overrides, school_a, teacher_a, fg, verified_client):
    """A form with bad input shows its errors and writes nothing, mails nobody."""
    response = _post_report(verified_client(teacher_a), school_a, **overrides)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Breach.objects.exists()
    assert not AuditEvent.objects.filter(action="breach.reported").exists()
    assert mail.outbox == []


def test_report_for_another_school_is_refused(school_b, teacher_a, verified_client):
    """A teacher reports for their own school or the foundation, not another school."""
    response = _post_report(verified_client(teacher_a), school_b)
    assert response.status_code == 200 and "school" in response.context["form"].errors
    assert not Breach.objects.exists()


AWARE = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def incidents(school_a, school_b, teacher_a, teacher_b, make_breach):
    return {
        "a": make_breach(reporter=teacher_a, school=school_a, aware_at=AWARE),
        "b": make_breach(reporter=teacher_b, school=school_b, aware_at=AWARE),
    }


@pytest.mark.parametrize(
    "who,sees",
    [
        ("fg", {"a", "b"}),
        ("deputy", {"a", "b"}),
        ("board", {"a", "b"}),
        ("director_a", {"a"}),
        ("teacher_a", {"a"}),
        ("teacher_b", {"b"}),
        ("app_admin_a", set()),
        ("substitute_a", set()),
    ],
)
def test_who_sees_which_incident(who, sees, request, incidents, verified_client):
    """Issue 8 item 7, S-11, S-12: FG, deputy and bestuurder see all; a
    director their school's; other staff their own reports. The register
    lists exactly what the detail page opens; the rest is a 404."""
    user = request.getfixturevalue(who)
    client = verified_client(user)
    register = client.get(reverse("breach_register"))
    listed = {key for key, breach in incidents.items() if breach.number in register.content.decode()}
    assert listed == sees
    for key, breach in incidents.items():
        status = client.get(reverse("breach_detail", kwargs={"breach_id": breach.pk})).status_code
        assert status == (200 if key in sees else 404), (who, key)
    assert client.get(reverse("breach_detail", kwargs={"breach_id": 99999})).status_code == 404


def test_my_reports_show_status(incidents, teacher_a, verified_client):
    """The reporter follows the status of their own reports, and only those."""
    body = verified_client(teacher_a).get(reverse("breach_mine")).content.decode()
    assert incidents["a"].number in body and "Reported" in body
    assert incidents["b"].number not in body


def test_only_managers_change_an_incident(incidents, director_a, board, verified_client):
    """Directors and the bestuurder read; only the FG and deputy change (403)."""
    url = reverse("breach_step", kwargs={"breach_id": incidents["a"].pk, "step": "decide"})
    for user in (director_a, board):
        assert verified_client(user).post(url, {}).status_code == 403
