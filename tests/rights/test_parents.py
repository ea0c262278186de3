"""The parents' side of requests (U-4, R-RGT-1, R-RGT-2, R-RGT-4, R-DIS-6): a
parent asks, follows the request and sees the appointment, the extension
reason and the decision; only their own requests."""

import datetime
import re

from django.core import mail
from django.test import TestCase
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from disclosures.rights import services
from disclosures.rights.models import ParentRequest
from privacy_admin.models import AuditEvent
from tests.rights.conftest import file_request, parent_client

NEW = "/parents/kind/{}/verzoek/"


def _post(client, url, data):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data)


def test_parent_asks_to_view_the_dossier(child, mother, director_a):
    """R-RGT-1, U-4: a parent asks to view the child's dossier in the portal;
    the request gets its deadline, the parent a confirmation and the director
    a notice, both a link only (R-DIS-6)."""
    client = parent_client(mother.guardian.email)
    home = client.get("/parents/").content.decode()
    assert NEW.format(child.pk) in home and "/parents/verzoeken/" in home
    assert client.get(NEW.format(child.pk)).status_code == 200
    response = _post(client, NEW.format(child.pk), {"kind": "view", "note": "Liefst woensdag."})
    parent_request = ParentRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/parents/verzoeken/{parent_request.pk}/"
    assert parent_request.kind == "view" and parent_request.guardian == mother.guardian
    assert parent_request.requester_has_authority and parent_request.what == "Liefst woensdag."
    assert parent_request.due_on == services.deadlines.due_date(timezone.localdate())
    assert sorted(m.to[0] for m in mail.outbox) == ["director_a@example.org", "marieke.kwast@example.org"]
    for message in mail.outbox:
        assert "Sanne" not in message.body and "Kwast" not in message.body and "woensdag" not in message.body
    event = AuditEvent.objects.get(action="rights.request_filed")
    assert event.actor_id is None and event.actor_label == "parent" and event.pupil_id == child.pk
    assert "woensdag" not in str(event.details)


def test_parent_without_authority_can_ask(child, stepfather):
    """R-RGT-4: a parent without parental authority can ask too; the form
    tells them on what grounds the school may refuse."""
    client = parent_client(stepfather.guardian.email)
    page = client.get(NEW.format(child.pk)).content.decode()
    assert "1:377c" in page
    response = _post(client, NEW.format(child.pk), {"kind": "view"})
    assert response.status_code == 302
    parent_request = ParentRequest.objects.get()
    assert parent_request.requester_has_authority is False and parent_request.guardian == stepfather.guardian


def test_correction_request_points_at_the_part_and_says_why(child, mother):
    """R-RGT-2: a correction or removal names the part of the dossier, what
    is wrong and why; without them the form comes back with its errors and
    nothing is stored."""
    client = parent_client(mother.guardian.email)
    response = _post(client, NEW.format(child.pk), {"kind": "correct", "what": "Het klopt niet"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose the part of the dossier that is wrong." in page and "Say why." in page
    assert 'value="Het klopt niet"' not in page  # a textarea keeps it as content
    assert "Het klopt niet" in page
    assert not ParentRequest.objects.exists()
    data = {"kind": "remove", "part": "attendance", "what": "Absence 3 March", "reason": "She was on a school trip"}
    assert _post(client, NEW.format(child.pk), data).status_code == 302
    stored = ParentRequest.objects.get()
    assert (stored.kind, stored.part, stored.what, stored.reason) == (
        "remove",
        "attendance",
        data["what"],
        data["reason"],
    )


def test_free_texts_are_encrypted_at_rest(child, mother):
    """S-25: what the parent writes may touch on health; it is sealed."""
    from django.db import connection

    file_request(mother, ParentRequest.Kind.CORRECT, what="SENTINEL-what", reason="SENTINEL-reason")
    with connection.cursor() as cursor:
        cursor.execute("SELECT what, reason FROM rights_parentrequest")
        assert "SENTINEL" not in repr(cursor.fetchall())


def test_parent_sees_appointment_extension_and_decision(child, mother, director_a, teacher_a):
    """U-4, R-RGT-1, R-RGT-3: the parent sees the status, the deadline, the
    appointment with the staff member present, and the extension's reason."""
    parent_request = file_request(mother)
    at = timezone.make_aware(
        datetime.datetime.combine(timezone.localdate() + datetime.timedelta(days=5), datetime.time(15, 0))
    )
    services.viewing_schedule(parent_request, at=at, place="Kamer 12", staff=teacher_a, acting_user=director_a)
    other = file_request(mother, ParentRequest.Kind.CORRECT)
    services.deadline_extend(other, months=1, reason="De leerkracht is ziek.", acting_user=director_a)
    client = parent_client(mother.guardian.email)
    listing = client.get("/parents/verzoeken/").content.decode()
    assert "Kamer 12" in listing and "Appointment made" in listing
    page = client.get(f"/parents/verzoeken/{parent_request.pk}/").content.decode()
    assert "Kamer 12" in page and "Teacher_A" in page and at.astimezone().strftime("%d-%m-%Y") in page
    page = client.get(f"/parents/verzoeken/{other.pk}/").content.decode()
    assert "De leerkracht is ziek." in page
    services.request_refuse(other, motivation="Het gegeven klopt volgens de toets.", acting_user=director_a)
    page = client.get(f"/parents/verzoeken/{other.pk}/").content.decode()
    assert "Het gegeven klopt volgens de toets." in page and "Refused" in page


def test_parent_cannot_see_another_familys_requests(child, mother, other_family):
    """S-11 analogue: a request of another family is a 404, the same as one
    that does not exist; another family's child cannot be asked about."""
    theirs = file_request(other_family)
    client = parent_client(mother.guardian.email)
    assert client.get(f"/parents/verzoeken/{theirs.pk}/").status_code == 404
    assert client.get("/parents/verzoeken/999999/").status_code == 404
    assert "Otto" not in client.get("/parents/verzoeken/").content.decode()
    assert client.get(NEW.format(other_family.pupil.pk)).status_code == 404
    assert _post(client, NEW.format(other_family.pupil.pk), {"kind": "view"}).status_code == 404
    assert ParentRequest.objects.count() == 1


def test_other_parent_of_the_same_child_does_not_see_the_request(child, mother, stepfather):
    """R-RGT-4: a request is the asking parent's own; the other parent of the
    same child does not see it (a parent without authority may not want the
    other to know)."""
    theirs = file_request(stepfather)
    client = parent_client(mother.guardian.email)
    assert client.get(f"/parents/verzoeken/{theirs.pk}/").status_code == 404


def test_aria_describedby_targets_exist_on_the_request_form(child, mother):
    """WCAG 1.3.1: help texts and errors of the form are tied to their field."""
    client = parent_client(mother.guardian.email)
    page = _post(client, NEW.format(child.pk), {"kind": "correct"}).content.decode()
    ids = set(re.findall(r'id="([^"]+)"', page))
    for refs in re.findall(r'aria-describedby="([^"]+)"', page):
        for ref in refs.split():
            assert ref in ids, ref


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["view", "correct", "remove", "", "other"]),
    part=st.one_of(st.sampled_from(["support", "health", "other", ""]), st.text(max_size=12)),
    what=st.text(max_size=40),
    reason=st.text(max_size=40),
)
def test_generated_request_input_never_fails(child, mother, kind, part, what, reason):
    """S-16: generated input gives a request or the form again with its
    messages, never a 500; anything stored is a complete request."""
    client = parent_client(mother.guardian.email)
    data = {"kind": kind, "part": part, "what": what, "reason": reason, "note": what}
    response = _post(client, NEW.format(child.pk), data)
    assert response.status_code in (200, 302)
    for stored in ParentRequest.objects.all():
        assert stored.kind in ParentRequest.Kind.values
        if stored.kind != "view":
            assert stored.part and stored.what.strip() and stored.reason.strip()
