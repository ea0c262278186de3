"""Mandatory disclosures from the dossier (R-DIS-2): an emergency
(break-glass, the director told at once and reviewing afterwards), suspected
child abuse (restricted to the director and the IB, legal hold), and the
transfer report with the parents' copy and view."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from disclosures import actions
from disclosures.models import Disclosure, DisclosurePupil
from privacy_admin.models import AuditEvent
from retention.models import LegalHold
from students.models import AttendanceRecord, ConversationReport, ProgressResult, SupportNeed
from tests.disclosures.conftest import age_second_factor


def pupil_url(pupil, slug):
    return reverse("disclosure_pupil_new", args=[pupil.pk, slug])


# --- Emergency ---------------------------------------------------------------------------


def break_glass(client, pupil):
    return client.post(
        pupil_url(pupil, "noodgeval"),
        {
            "recipient_detail": "Ambulance 112",
            "purpose": "Gevallen van het klimrek",
            "fields": ["full_name", "guardian_phones", "health"],
            "method": "phone",
        },
    )


def test_break_glass_is_immediate_and_notifies_the_director(
    verified_client, teacher_a, director_a, pupil_a5, mother_a5, django_capture_on_commit_callbacks
):
    """R-DIS-2: a teacher discloses at once in an emergency, even with an old
    code check (no step-up waits); the disclosure is recorded and the director
    gets a link-only notice at once; the teacher sees the data to pass on."""
    client = age_second_factor(verified_client(teacher_a))
    with django_capture_on_commit_callbacks(execute=True):
        response = break_glass(client, pupil_a5)
    disclosure = Disclosure.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("disclosure_data", args=[disclosure.pk])
    assert disclosure.status == Disclosure.Status.DISCLOSED and disclosure.legal_basis == "vital_interest"
    assert disclosure.requested_by == teacher_a and disclosure.reviewed_at is None
    [notice] = [m for m in mail.outbox if director_a.email in m.to]
    assert reverse("disclosure_review", args=[disclosure.pk]) in notice.body
    assert pupil_a5.first_name not in notice.body and "klimrek" not in notice.body
    data = client.get(response["Location"]).content.decode()
    assert "0600000001" in data and "Anna Vijfje" in data
    assert AuditEvent.objects.filter(action="disclosure.emergency").count() == 1
    assert AuditEvent.objects.filter(action="disclosure.data_read").count() == 1


def test_break_glass_is_reviewed_by_the_director(verified_client, teacher_a, director_a, pupil_a5):
    """R-DIS-2: the emergency waits in the director's inbox until reviewed;
    the review needs a note and happens once."""
    break_glass(verified_client(teacher_a), pupil_a5)
    disclosure = Disclosure.objects.get()
    client = verified_client(director_a)
    inbox = client.get(reverse("disclosure_inbox")).content.decode()
    assert f'id="review-{disclosure.pk}"' in inbox
    url = reverse("disclosure_review", args=[disclosure.pk])
    assert client.post(url, {"note": ""}).status_code == 200
    assert client.post(url, {"note": "Terecht, alleen het nodige gegeven"}).status_code == 302
    disclosure.refresh_from_db()
    assert disclosure.reviewed_by == director_a and disclosure.review_note.startswith("Terecht")
    assert f'id="review-{disclosure.pk}"' not in client.get(reverse("disclosure_inbox")).content.decode()
    assert AuditEvent.objects.filter(action="disclosure.reviewed").count() == 1
    with pytest.raises(ValidationError):
        actions.disclosure_review(disclosure=disclosure, note="nog eens", acting_user=director_a)
    with pytest.raises(PermissionDenied):
        actions.disclosure_review(disclosure=disclosure, note="x", acting_user=teacher_a)


def test_emergency_fields_follow_the_role(verified_client, school_a, pupil_a5, admin_staff_a):
    """S-13: health data go out only from a role that may see them."""
    page = verified_client(admin_staff_a).get(pupil_url(pupil_a5, "noodgeval")).content.decode()
    assert 'value="guardian_phones"' in page and 'value="health"' not in page
    with pytest.raises(ValidationError):
        actions.disclosure_emergency_make(
            pupil=pupil_a5,
            fields=["health"],
            purpose="x",
            recipient_detail="y",
            method="phone",
            acting_user=admin_staff_a,
        )


def test_emergency_needs_the_dossier(verified_client, substitute_a, teacher_b, pupil_a5):
    """S-11: a pupil outside one's dossier access is a 404, here too."""
    for user in (substitute_a, teacher_b):
        assert verified_client(user).get(pupil_url(pupil_a5, "noodgeval")).status_code == 404


# --- Suspected child abuse -------------------------------------------------------------------


@pytest.fixture
def abuse_report(verified_client, ib_a, pupil_a5):
    response = verified_client(ib_a).post(
        pupil_url(pupil_a5, "melding"),
        {
            "recipient_detail": "Veilig Thuis, mevr. Jansen",
            "purpose": "Signalen volgens de meldcode",
            "fields": ["full_name", "birth_date", "social_emotional"],
            "method": "phone",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Disclosure.objects.get()


def test_child_abuse_is_restricted_and_sets_a_legal_hold(abuse_report, ib_a, pupil_a5):
    """R-DIS-2, R-RET-6: the report is restricted and the pupil is under a
    legal hold; the log names neither kind nor recipient."""
    assert abuse_report.restricted and abuse_report.kind == Disclosure.Kind.CHILD_ABUSE
    hold = LegalHold.objects.get(pupil=pupil_a5)
    assert hold.active and hold.set_by == ib_a
    event = AuditEvent.objects.get(action="disclosure.disclosed")
    assert "kind" not in event.details and "recipient" not in event.details


def test_child_abuse_is_visible_only_to_director_and_ib(
    abuse_report, verified_client, ib_a, director_a, teacher_a, app_admin_a, fg, pupil_a5, mother_a5, parent_client
):
    """R-DIS-2, R-DIS-7: the director and the IB see the report; teachers,
    the application admin, the FG and the parents do not, anywhere."""
    detail = reverse("disclosure_detail", args=[abuse_report.pk])
    tab = reverse("dossier_disclosures", args=[pupil_a5.pk])
    for user in (director_a, ib_a):
        client = verified_client(user)
        assert client.get(detail).status_code == 200
        assert f'id="disclosure-{abuse_report.pk}"' in client.get(tab).content.decode()
    for user in (teacher_a, app_admin_a, fg):
        client = verified_client(user)
        assert client.get(detail).status_code == 404
        assert client.get(reverse("disclosure_data", args=[abuse_report.pk])).status_code == 404
    for user in (teacher_a, app_admin_a):
        assert "Veilig Thuis" not in verified_client(user).get(tab).content.decode()
    for user in (app_admin_a, fg):
        assert "Veilig Thuis" not in verified_client(user).get(reverse("disclosure_list")).content.decode()
    parent = parent_client(mother_a5.email)
    assert "Veilig Thuis" not in parent.get(reverse("parent_disclosures", args=[pupil_a5.pk])).content.decode()


def test_only_director_and_ib_report_child_abuse(verified_client, teacher_a, admin_staff_a, pupil_a5):
    """R-DIS-2: the form is for the holders of the restricted capability."""
    for user in (teacher_a, admin_staff_a):
        assert verified_client(user).get(pupil_url(pupil_a5, "melding")).status_code == 403
    with pytest.raises(PermissionDenied):
        actions.disclosure_child_abuse_make(
            pupil=pupil_a5,
            fields=["full_name"],
            purpose="x",
            recipient_detail="y",
            method="phone",
            acting_user=teacher_a,
        )
    assert not LegalHold.objects.exists()


# --- Transfer to another school -------------------------------------------------------------


@pytest.fixture
def dossier(pupil_a5, teacher_a):
    today = timezone.localdate()
    ProgressResult.objects.create(pupil=pupil_a5, date=today, test="Cito", subject="Rekenen", score="52", level="B")
    ConversationReport.objects.create(
        pupil=pupil_a5,
        date=today,
        participants="ouders, leerkracht",
        report="Voelt zich veilig in de groep",
        author=teacher_a,
    )
    SupportNeed.objects.create(pupil=pupil_a5, since=today, description="Extra instructie begrijpend lezen")
    AttendanceRecord.objects.create(pupil=pupil_a5, date=today, hours=3, authorised=False, reason="te laat")
    AttendanceRecord.objects.create(
        pupil=pupil_a5, date=today - datetime.timedelta(days=400), hours=5, authorised=False, reason="oud"
    )
    return pupil_a5


@pytest.fixture
def transfer(verified_client, director_a, dossier, mother_a5, stepfather_a5, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = verified_client(director_a).post(
            pupil_url(dossier, "overdracht"), {"recipient_detail": "Basisschool De Regenboog", "method": "secure_link"}
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Disclosure.objects.get()


def test_transfer_report_holds_the_onderwijskundig_rapport(transfer, verified_client, director_a):
    """R-DIS-2: the report holds the administrative data, results and school
    history, social-emotional development, support given and the absence of
    the last year (not older), as a page and as a PDF."""
    client = verified_client(director_a)
    page = client.get(reverse("disclosure_data", args=[transfer.pk])).content.decode()
    for text in (
        "Onderwijskundig rapport",
        "Anna Vijfje",
        "Basisschool De Regenboog",
        "Cito, Rekenen: 52 (B)",
        "Voelt zich veilig in de groep",
        "Extra instructie begrijpend lezen",
        "3.0 h (unauthorised, te laat)",
        "School A: applied 2020-09-01",
    ):
        assert text in page, text
    assert "oud" not in page.split('id="report-absence_last_year"')[1].split("</section>")[0]
    pdf = client.get(reverse("disclosure_data", args=[transfer.pk]) + "?format=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_parents_get_a_copy_and_add_their_view(
    transfer, mother_a5, stepfather_a5, parent_client, verified_client, director_a, pupil_a5
):
    """R-DIS-2: the parents with authority get a link-only notice; they read
    the report in the portal and add their view, which goes with the report;
    a parent without authority reads but cannot add."""
    report_url = reverse("parent_disclosure_report", args=[pupil_a5.pk, transfer.pk])
    notices = [m for m in mail.outbox if report_url in m.body]
    assert [m.to for m in notices] == [[mother_a5.email]]
    assert "Vijfje" not in notices[0].body and "Cito" not in notices[0].body

    mother = parent_client(mother_a5.email)
    page = mother.get(report_url).content.decode()
    assert "Voelt zich veilig in de groep" in page and "Add your view" in page
    assert AuditEvent.objects.filter(action="parent.transfer_report_read", pupil_id=pupil_a5.pk).count() == 1
    assert mother.post(report_url, {"text": ""}).status_code == 200
    assert mother.post(report_url, {"text": "Wij zien vooral zijn inzet."}).status_code == 302
    assert DisclosurePupil.objects.get(disclosure=transfer).parent_view == "Wij zien vooral zijn inzet."
    staff_page = verified_client(director_a).get(reverse("disclosure_data", args=[transfer.pk])).content.decode()
    assert "Wij zien vooral zijn inzet." in staff_page.split('id="report-parent-view"')[1]
    assert AuditEvent.objects.filter(action="disclosure.parent_view").count() == 1

    stepfather = parent_client(stepfather_a5.email)
    assert "Voelt zich veilig" in stepfather.get(report_url).content.decode()
    assert stepfather.post(report_url, {"text": "Anders"}).status_code == 403
    assert DisclosurePupil.objects.get(disclosure=transfer).parent_view == "Wij zien vooral zijn inzet."


def test_transfer_asks_the_second_factor_and_the_capability(verified_client, director_a, teacher_a, pupil_a5):
    """S-8: the transfer asks for a fresh code; a teacher may not make one."""
    assert verified_client(teacher_a).get(pupil_url(pupil_a5, "overdracht")).status_code == 403
    client = age_second_factor(verified_client(director_a))
    assert client.get(pupil_url(pupil_a5, "overdracht"))["Location"].startswith(reverse("step_up"))


def test_disclosed_rows_are_not_edited(transfer, director_a):
    """R-DIS-7: a disclosed record is not changed by a later decision."""
    with pytest.raises(ValidationError):
        actions.disclosure_approve(disclosure=transfer, reason="x", acting_user=director_a)
    with pytest.raises(ValidationError):
        actions.disclosure_review(disclosure=transfer, note="x", acting_user=director_a)
    transfer.refresh_from_db()
    assert transfer.decided_by is None and transfer.reviewed_at is None
