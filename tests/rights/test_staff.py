"""The director's side of parents' requests (U-2, R-RGT-1..4): the list with
the legal deadlines, the appointment with a staff member present, the
extension, the refusal with its motivation and R-RGT-4 ground, corrections
that keep the old value, the viewing's overview and its record."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from disclosures.models import Disclosure, DisclosurePupil, LegalBasis, Recipient
from disclosures.rights import services
from disclosures.rights.models import DossierCorrection, ParentRequest
from privacy_admin.models import AuditEvent
from privacy_admin.roles import SchoolRole
from students.models import AttendanceRecord, SupportNeed
from tests.conftest import make_staff
from tests.rights.conftest import file_request, parent_client
from tests.students.conftest import make_pupil

Status = ParentRequest.Status


def _post(client, url, data):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data)


def _backdate(parent_request, days):
    received_on = timezone.localdate() - datetime.timedelta(days=days)
    ParentRequest.objects.filter(pk=parent_request.pk).update(
        received_on=received_on,
        received_at=parent_request.received_at - datetime.timedelta(days=days),
        due_on=services.deadlines.due_date(received_on),
    )
    parent_request.refresh_from_db()
    return parent_request


def _schedule_data(staff, days=5):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return {"date": day.isoformat(), "time": "15:30", "place": "Kamer van de directeur", "staff": staff.pk}


def _scheduled(link, director, staff):
    parent_request = file_request(link)
    at = timezone.now() + datetime.timedelta(days=3)
    return services.viewing_schedule(parent_request, at=at, place="Kamer 1", staff=staff, acting_user=director)


# --- the list ------------------------------------------------------------------------


def test_director_sees_every_request_with_deadline_and_days_left(verified_client, director_a, mother, stepfather):
    """U-2, R-RGT-3: the director sees each request with its legal deadline
    and the days left; an overdue one comes first and is counted."""
    fresh = file_request(mother)
    late = _backdate(file_request(stepfather, ParentRequest.Kind.CORRECT), 40)
    page = verified_client(director_a).get("/verzoeken/").content.decode()
    assert page.index(late.number) < page.index(fresh.number)
    assert fresh.due_on.strftime("%d-%m-%Y") in page and late.due_on.strftime("%d-%m-%Y") in page
    left = (fresh.due_on - timezone.localdate()).days
    overdue = (timezone.localdate() - late.due_on).days
    assert f"{left} days left" in page and f"{overdue} days overdue" in page
    assert 'id="overdue-count"' in page and "1 request is past its deadline." in page


def test_list_queries_do_not_grow_per_request(verified_client, director_a, mother):
    """STYLE 12: the list costs the same number of queries for 1 or 6 requests."""
    client = verified_client(director_a)
    file_request(mother)
    client.get("/verzoeken/")
    with CaptureQueriesContext(connection) as one:
        client.get("/verzoeken/")
    for _ in range(5):
        file_request(mother)
    with CaptureQueriesContext(connection) as six:
        client.get("/verzoeken/")
    assert len(six) == len(one)


def test_other_school_is_a_404(verified_client, school_b, mother):
    """S-11: the director of another school gets a 404 for the request, the
    same as for one that does not exist, and an empty list."""
    director_b = make_staff("director_b", school=school_b, role=SchoolRole.DIRECTOR)
    parent_request = file_request(mother)
    client = verified_client(director_b)
    for url in (
        f"/verzoeken/{parent_request.pk}/",
        f"/verzoeken/{parent_request.pk}/afspraak/",
        f"/verzoeken/{parent_request.pk}/weigeren/",
        f"/verzoeken/{parent_request.pk}/inzage/",
        "/verzoeken/999999/",
    ):
        assert client.get(url).status_code == 404, url
    assert parent_request.number not in client.get("/verzoeken/").content.decode()
    assert client.post(f"/verzoeken/{parent_request.pk}/weigeren/", {"motivation": "x"}).status_code == 404
    assert ParentRequest.objects.get().status == Status.RECEIVED


# --- the appointment ----------------------------------------------------------------


def test_director_schedules_the_viewing_with_a_staff_member(verified_client, director_a, teacher_a, child, mother):
    """R-RGT-1, U-2: date, time, place and the staff member present; the
    parent and the staff member are told by e-mail with a link only."""
    parent_request = file_request(mother)
    url = f"/verzoeken/{parent_request.pk}/afspraak/"
    response = _post(verified_client(director_a), url, _schedule_data(teacher_a))
    assert response.status_code == 302
    parent_request.refresh_from_db()
    assert parent_request.status == Status.SCHEDULED and parent_request.present_staff == teacher_a
    assert parent_request.answered_at is not None and parent_request.appointment_place == "Kamer van de directeur"
    assert timezone.localtime(parent_request.appointment_at).strftime("%H:%M") == "15:30"
    assert sorted(m.to[0] for m in mail.outbox) == ["marieke.kwast@example.org", "teacher_a@example.org"]
    for message in mail.outbox:
        assert "Sanne" not in message.body and "Kamer" not in message.body and "15:30" not in message.body
    assert f"/parents/verzoeken/{parent_request.pk}/" in mail.outbox[0].body + mail.outbox[1].body
    event = AuditEvent.objects.get(action="rights.viewing_scheduled")
    assert (
        event.pupil_id == child.pk
        and event.actor_id == director_a.pk
        and event.details["present_staff"] == teacher_a.pk
    )


def test_staff_member_present_is_of_the_school(verified_client, director_a, teacher_b, substitute_a, mother):
    """R-RGT-1: the staff member present is someone of the school who sees
    the whole dossier; another school's teacher or a substitute is refused,
    as is an appointment in the past."""
    parent_request = file_request(mother)
    url = f"/verzoeken/{parent_request.pk}/afspraak/"
    client = verified_client(director_a)
    for staff in (teacher_b, substitute_a):
        response = _post(client, url, _schedule_data(staff))
        assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = _post(client, url, _schedule_data(director_a, days=-1))
    assert response.status_code == 200 and "The appointment lies in the past." in response.content.decode()
    assert ParentRequest.objects.get().status == Status.RECEIVED and not mail.outbox


# --- extension and refusal --------------------------------------------------------------


def test_extension_form_once_with_a_reason(verified_client, director_a, mother):
    """R-RGT-3: the deadline is extended once, by up to two months, with a
    reason; a second extension is refused with a message."""
    parent_request = file_request(mother)
    url = f"/verzoeken/{parent_request.pk}/verlengen/"
    client = verified_client(director_a)
    assert _post(client, url, {"months": "3", "reason": "x"}).status_code == 200
    assert _post(client, url, {"months": "2", "reason": "Archief"}).status_code == 302
    parent_request.refresh_from_db()
    assert parent_request.due_on == services.deadlines.due_date(parent_request.received_on, 2)
    response = _post(client, url, {"months": "1", "reason": "Nog eens"})
    assert response.status_code == 200 and "already extended once" in response.content.decode()
    assert ParentRequest.objects.get().extension_reason == "Archief"
    assert AuditEvent.objects.filter(action="rights.deadline_extended").count() == 1


def test_no_extension_after_the_first_month(verified_client, director_a, mother):
    """R-RGT-3: after the first month the page says the deadline can no
    longer be extended, and a post changes nothing."""
    parent_request = _backdate(file_request(mother), 35)
    url = f"/verzoeken/{parent_request.pk}/verlengen/"
    client = verified_client(director_a)
    page = client.get(url).content.decode()
    assert 'id="blocked"' in page and "within the first month" in page and 'name="reason"' not in page
    assert _post(client, url, {"months": "1", "reason": "Te laat"}).status_code == 200
    assert ParentRequest.objects.get().extension_months == 0


def test_refusal_needs_a_written_motivation(verified_client, director_a, mother):
    """R-RGT-4: a refusal is only possible with a written motivation; for a
    parent with authority the form asks no R-RGT-4 ground."""
    parent_request = file_request(mother)
    url = f"/verzoeken/{parent_request.pk}/weigeren/"
    client = verified_client(director_a)
    page = client.get(url).content.decode()
    assert 'name="ground"' not in page
    response = _post(client, url, {"motivation": "   "})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert ParentRequest.objects.get().status == Status.RECEIVED and not mail.outbox
    assert _post(client, url, {"motivation": "Gegevens kloppen."}).status_code == 302
    refused = ParentRequest.objects.get()
    assert refused.status == Status.REFUSED and refused.decision == "Gegevens kloppen." and refused.refusal_ground == ""
    assert [m.to for m in mail.outbox] == [["marieke.kwast@example.org"]]
    assert "kloppen" not in mail.outbox[0].body


def test_refusal_of_parent_without_authority_asks_the_ground(verified_client, director_a, stepfather):
    """R-RGT-4: for a parent without parental authority the refusal form asks
    which ground applies (the child's interest, or the same would not be
    given to the parent with authority), and a motivation."""
    parent_request = file_request(stepfather)
    url = f"/verzoeken/{parent_request.pk}/weigeren/"
    client = verified_client(director_a)
    page = client.get(url).content.decode()
    assert "child_interest" in page and "not_for_authority" in page
    response = _post(client, url, {"motivation": "Zie het dossier."})
    assert response.status_code == 200 and ParentRequest.objects.get().status == Status.RECEIVED
    response = _post(client, url, {"ground": "child_interest", "motivation": ""})
    assert response.status_code == 200 and ParentRequest.objects.get().status == Status.RECEIVED
    assert _post(client, url, {"ground": "child_interest", "motivation": "Belang van het kind."}).status_code == 302
    refused = ParentRequest.objects.get()
    assert refused.refusal_ground == "child_interest" and refused.status == Status.REFUSED
    page = parent_client(stepfather.guardian.email).get(f"/parents/verzoeken/{refused.pk}/").content.decode()
    assert "against the child&#x27;s interest" in page and "Belang van het kind." in page


# --- corrections ------------------------------------------------------------------------


@pytest.fixture
def need(child):
    return SupportNeed.objects.create(pupil=child, since=datetime.date(2024, 9, 1), description="Leest zwak.")


def test_correction_keeps_the_old_value_in_the_history(verified_client, director_a, child, mother, need):
    """R-RGT-2: the correction goes through the dossier's own record action
    (audited as a change of the record), and the old and new value stay in
    the request's history, on the request and on the dossier's tab."""
    parent_request = file_request(mother, ParentRequest.Kind.CORRECT)
    client = verified_client(director_a)
    listing = client.get(f"/verzoeken/{parent_request.pk}/correcties/").content.decode()
    assert f"/verzoeken/{parent_request.pk}/correcties/support/{need.pk}/" in listing
    url = f"/verzoeken/{parent_request.pk}/correcties/support/{need.pk}/"
    assert "Leest zwak." in client.get(url).content.decode()
    response = _post(client, url, {"since": "2024-09-01", "description": "Leest op niveau."})
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.description == "Leest op niveau."
    correction = DossierCorrection.objects.get()
    assert correction.action == "changed" and correction.part == "support" and correction.record_id == need.pk
    assert correction.change_rows() == [
        {"field": "description", "label": "Support need", "old": "Leest zwak.", "new": "Leest op niveau."}
    ]
    changed = AuditEvent.objects.get(action="dossier.record_changed")
    assert changed.details == {"record_type": "support", "fields": ["description"]}
    applied = AuditEvent.objects.get(action="rights.correction_applied")
    assert applied.details["fields"] == ["description"] and "zwak" not in str(applied.details)
    with connection.cursor() as cursor:
        cursor.execute("SELECT changes FROM rights_dossiercorrection")
        assert "zwak" not in repr(cursor.fetchall())  # sealed at rest (S-25)
    for page_url in (f"/verzoeken/{parent_request.pk}/", f"/leerlingen/{child.pk}/verzoeken/"):
        page = client.get(page_url).content.decode()
        assert "Leest zwak." in page and "Leest op niveau." in page, page_url


def test_correction_that_changes_nothing_is_refused(verified_client, director_a, mother, need):
    """R-RGT-2: saving the form unchanged records no correction."""
    parent_request = file_request(mother, ParentRequest.Kind.CORRECT)
    url = f"/verzoeken/{parent_request.pk}/correcties/support/{need.pk}/"
    response = _post(verified_client(director_a), url, {"since": "2024-09-01", "description": "Leest zwak."})
    assert response.status_code == 200 and "Nothing was changed." in response.content.decode()
    assert not DossierCorrection.objects.exists()


def test_correction_of_pupil_data_and_of_a_parent(verified_client, director_a, child, mother):
    """R-RGT-2: the child's own data and a parent's details are corrected
    through the dossier's forms too, keeping the old values."""
    parent_request = file_request(mother, ParentRequest.Kind.CORRECT, part="pupil")
    client = verified_client(director_a)
    data = {"first_name": "Sanna", "name_prefix": "", "last_name": "Kwast", "birth_date": "2017-03-14", "sex": "V"}
    data |= {"group": child.group_id, "year_group": ""}
    assert _post(client, f"/verzoeken/{parent_request.pk}/correcties/pupil/{child.pk}/", data).status_code == 302
    child.refresh_from_db()
    assert child.first_name == "Sanna"
    rows = {row["field"]: row for row in DossierCorrection.objects.get().change_rows()}
    assert rows["first_name"]["old"] == "Sanne" and rows["sex"]["old"] == "boy" and rows["sex"]["new"] == "girl"
    url = f"/verzoeken/{parent_request.pk}/correcties/guardian/{mother.pk}/"
    data = {"first_name": "Marieke", "last_name": "Kwast", "email": "marieke.kwast@example.org"}
    data |= {"phone": "06-12345678", "has_authority": "on"}
    assert _post(client, url, data).status_code == 302
    correction = DossierCorrection.objects.filter(part="guardian").get()
    assert [(r["field"], r["old"], r["new"]) for r in correction.change_rows()] == [("phone", "", "06-12345678")]
    assert AuditEvent.objects.filter(action__in=["dossier.changed", "dossier.guardian_changed"]).count() == 2


def test_removal_keeps_no_content(verified_client, director_a, child, mother):
    """R-RGT-2: a record removed on request goes through the dossier's delete
    action; the request keeps that it was removed, not what it said."""
    record = AttendanceRecord.objects.create(
        pupil=child, date=datetime.date(2026, 3, 3), hours=4, reason="Ziek-SENTINEL"
    )
    parent_request = file_request(mother, ParentRequest.Kind.REMOVE, part="attendance")
    url = f"/verzoeken/{parent_request.pk}/correcties/attendance/{record.pk}/verwijderen/"
    client = verified_client(director_a)
    assert "03-03-2026" in client.get(url).content.decode()
    assert _post(client, url, {}).status_code == 302
    assert not AttendanceRecord.objects.exists()
    correction = DossierCorrection.objects.get()
    assert correction.action == "removed" and correction.changes == "" and "SENTINEL" not in correction.record_label
    assert AuditEvent.objects.filter(action="dossier.record_deleted").count() == 1
    assert AuditEvent.objects.filter(action="rights.record_removed").count() == 1


def test_another_pupils_record_is_a_404(verified_client, director_a, school_a, mother):
    """S-11: a correction reaches only the records of the request's pupil."""
    stranger = make_pupil(school_a, first="Vreemd")
    record = SupportNeed.objects.create(pupil=stranger, since=datetime.date(2024, 1, 1), description="x")
    parent_request = file_request(mother, ParentRequest.Kind.CORRECT)
    client = verified_client(director_a)
    for url in (
        f"/verzoeken/{parent_request.pk}/correcties/support/{record.pk}/",
        f"/verzoeken/{parent_request.pk}/correcties/support/{record.pk}/verwijderen/",
        f"/verzoeken/{parent_request.pk}/correcties/pupil/{stranger.pk}/",
        f"/verzoeken/{parent_request.pk}/correcties/bsn/1/",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        _post(client, f"/verzoeken/{parent_request.pk}/correcties/support/{record.pk}/verwijderen/", {}).status_code
        == 404
    )
    assert SupportNeed.objects.filter(pk=record.pk).exists()


def test_closing_a_correction_request_tells_the_parent(verified_client, director_a, mother, need):
    """R-RGT-2: the request is closed only after a correction, with words for
    the parent, who is told by a link-only e-mail and reads the decision."""
    parent_request = file_request(mother, ParentRequest.Kind.CORRECT)
    client = verified_client(director_a)
    url = f"/verzoeken/{parent_request.pk}/afronden/"
    response = _post(client, url, {"decision": "Aangepast."})
    assert response.status_code == 200 and "Make the correction first" in response.content.decode()
    _post(
        client,
        f"/verzoeken/{parent_request.pk}/correcties/support/{need.pk}/",
        {"since": "2024-09-01", "description": "Goed."},
    )
    assert _post(client, url, {"decision": "De ondersteuningsbehoefte is aangepast."}).status_code == 302
    done = ParentRequest.objects.get()
    assert done.status == Status.DONE and done.answered_at is not None
    assert [m.to for m in mail.outbox] == [["marieke.kwast@example.org"]] and "aangepast" not in mail.outbox[0].body
    page = parent_client(mother.guardian.email).get(f"/parents/verzoeken/{done.pk}/").content.decode()
    assert "De ondersteuningsbehoefte is aangepast." in page and "Support need" in page


# --- the viewing ------------------------------------------------------------------------


def _disclosure(school, director, pupil, *, name, restricted=False):
    recipient = Recipient.objects.create(
        foundation=school.foundation,
        school=school,
        name=name,
        kind=Recipient.Kind.MANDATORY,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        purpose="p",
    )
    disclosure = Disclosure.objects.create(
        school=school,
        recipient=recipient,
        kind=Disclosure.Kind.TRANSFER,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        purpose="Overstap naar een andere school",
        method=Disclosure.Method.PDF,
        status=Disclosure.Status.DISCLOSED,
        requested_by=director,
        requested_at=timezone.now(),
        disclosed_at=timezone.now(),
        restricted=restricted,
    )
    DisclosurePupil.objects.create(disclosure=disclosure, pupil=pupil)


def test_viewing_overview_shows_both_parts_disclosures_and_reads(
    verified_client, school_a, director_a, teacher_a, child, mother, need
):
    """R-RGT-1, R-DIS-7, U-2: the overview made for the appointment holds the
    administrative and the substantive part, the disclosures (not restricted
    ones) and who viewed the dossier; opening it is audited as a read of the
    dossier and as the overview of the request; the PDF too."""
    _disclosure(school_a, director_a, child, name="OBS De Overstap")
    _disclosure(school_a, director_a, child, name="Veilig Thuis", restricted=True)
    verified_client(director_a).get(f"/leerlingen/{child.pk}/inhoudelijk/")
    parent_request = _scheduled(mother, director_a, teacher_a)
    client = verified_client(teacher_a)
    page = client.get(f"/verzoeken/{parent_request.pk}/inzage/").content.decode()
    for text in ("Sanne", "Marieke", "Leest zwak.", "OBS De Overstap", "Overstap naar een andere school", "Director_A"):
        assert text in page, text
    assert "Veilig Thuis" not in page
    assert (
        AuditEvent.objects.filter(action="rights.overview_made", actor_id=teacher_a.pk, pupil_id=child.pk).count() == 1
    )
    assert AuditEvent.objects.filter(action="dossier.read_substantive", actor_id=teacher_a.pk).count() == 1
    response = client.get(f"/verzoeken/{parent_request.pk}/inzage/?format=pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.get(action="rights.overview_made", details__format="pdf").actor_id == teacher_a.pk


def test_staff_member_present_records_who_attended(verified_client, director_a, teacher_a, app_admin_a, child, mother):
    """R-RGT-1: afterwards the staff member present records who attended;
    the viewing is an audit event of the dossier. Someone not named gets a 404."""
    parent_request = _scheduled(mother, director_a, teacher_a)
    url = f"/verzoeken/{parent_request.pk}/inzage/verslag/"
    assert verified_client(app_admin_a).get(url).status_code == 404
    client = verified_client(teacher_a)
    assert parent_request.number not in client.get("/verzoeken/mijn-inzages/").content.decode()
    assert "Kamer 1" in client.get("/verzoeken/mijn-inzages/").content.decode()
    response = _post(client, url, {"held_on": timezone.localdate().isoformat(), "attendees": ""})
    assert response.status_code == 200 and ParentRequest.objects.get().status == Status.SCHEDULED
    data = {"held_on": timezone.localdate().isoformat(), "attendees": "Moeder; leerkracht Teacher_A"}
    assert _post(client, url, data).status_code == 302
    held = ParentRequest.objects.get()
    assert (
        held.status == Status.VIEWED and held.attendees == data["attendees"] and held.viewing_recorded_by == teacher_a
    )
    event = AuditEvent.objects.get(action="rights.viewing_held")
    assert event.pupil_id == child.pk and event.actor_id == teacher_a.pk and "Moeder" not in str(event.details)
    log = verified_client(director_a).get(f"/leerlingen/{child.pk}/logboek/").content.decode()
    assert "rights.viewing_held" in log
