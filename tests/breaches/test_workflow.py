"""The FG's workflow: reported → assessing → decided → AP notified → people
concerned told (or why not) → closed, every R-BRK-4 field captured, the
register and its CSV export (R-BRK-2, R-BRK-3, R-BRK-4, S-17, S-8)."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from breaches.models import Breach, BreachEvent, ParentLetterTemplate
from privacy_admin.actions import OTP_AT_KEY
from privacy_admin.csvsafe import csv_cell
from privacy_admin.models import AuditEvent
from tests.conftest import age_session


def step_url(breach, step):
    return reverse("breach_step", kwargs={"breach_id": breach.pk, "step": step})


def fmt(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


ASSESS = {
    "started_at": "2026-11-19T08:00",
    "ended_at": "2026-11-19T09:00",
    "discovered_how": "Een ouder belde de school",
    "effects": ["read", "copied"],
    "data_categories": ["contact", "health"],
    "approx_records": "31",
    "approx_people": "29",
    "groups_affected": "Leerlingen groep 6 en hun ouders",
    "measures_before": "Versleuteling van de laptop",
    "consequences": "Adresgegevens bij een onbevoegde",
    "measures_taken": "Ontvanger gevraagd de mail te verwijderen",
}
DECIDE = {
    "severity": "high",
    "severity_explanation": "Gezondheidsgegevens",
    "consequences": "Adresgegevens en medische info bij een onbevoegde",
    "ap_notify": "yes",
    "ap_notify_reason": "Risico voor de betrokkenen",
}


@pytest.fixture
def breach(school_a, teacher_a, make_breach):
    return make_breach(reporter=teacher_a, school=school_a, aware_at=timezone.now() - datetime.timedelta(hours=10))


@pytest.fixture
def fg_client(fg, verified_client):
    return verified_client(fg)


def test_full_workflow_records_every_step(breach, fg, fg_client):
    """R-BRK-2..4: each step moves the state, writes an event and an audit row."""
    assert fg_client.post(step_url(breach, "assess"), ASSESS).status_code == 302
    breach.refresh_from_db()
    assert breach.state == Breach.State.ASSESSING and breach.effects == ["read", "copied"]
    assert fg_client.post(step_url(breach, "decide"), DECIDE).status_code == 302
    notified = fmt(timezone.now() - datetime.timedelta(hours=1))
    response = fg_client.post(step_url(breach, "ap"), {"ap_notified_at": notified, "ap_reference": "M-123"})
    assert response.status_code == 302
    response = fg_client.post(
        step_url(breach, "people"),
        {
            "people_told": "yes",
            "people_told_at": notified,
            "people_told_whom": "Ouders groep 6, per brief",
            "people_told_reason": "Hoog risico",
        },
    )
    assert response.status_code == 302
    response = fg_client.post(
        step_url(breach, "close"), {"measures_taken": "Nieuwe werkwijze", "lessons_learned": "BCC"}
    )
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.state == Breach.State.CLOSED
    assert breach.ap_reference == "M-123" and breach.people_told is True and breach.closed_at
    states = list(BreachEvent.objects.filter(breach=breach).values_list("to_state", flat=True))
    assert states == ["assessing", "decided", "ap_notified", "people_told", "closed"]
    assert AuditEvent.objects.filter(object_id=str(breach.pk), action__startswith="breach.").count() == 5


def test_history_speaks_the_page_language_not_stored_keys(breach, fg_client):
    """R-BRK-3: the incident's history names its steps and states in words
    of the page's language (here English; the Dutch catalogue has them all),
    never the stored keys."""
    BreachEvent.objects.create(breach=breach, action="reported", to_state=Breach.State.REPORTED)
    fg_client.post(step_url(breach, "assess"), ASSESS)
    fg_client.post(step_url(breach, "decide"), DECIDE)
    BreachEvent.objects.create(breach=breach, action="escalation_24h")
    page = fg_client.get(reverse("breach_detail", kwargs={"breach_id": breach.pk})).content.decode()
    for text in (
        "reported (- → Reported)",
        "assessed (Reported → Being assessed)",
        "decided (Being assessed → Decided)",
        "reminder after 24h",
    ):
        assert text in page, text
    assert "(reported" not in page and "assessing →" not in page and "escalation_24h" not in page


def test_decide_form_keeps_the_capitals_of_the_ap(breach, fg_client):
    """R-BRK-3: the yes/no question reads "Notify the AP" (in Dutch "Melden
    bij de AP"), not "Notify the ap"."""
    form = fg_client.get(step_url(breach, "decide")).context["form"]
    assert str(form.fields["ap_notify"].label) == "Notify the AP"


def test_late_notification_requires_a_reason(breach, fg_client):
    """R-BRK-2 (AVG art. 33(1)): after 72 hours the notification states why it was late."""
    breach.aware_at = timezone.now() - datetime.timedelta(hours=80)
    breach.state = Breach.State.DECIDED
    breach.ap_notify = True
    breach.save()
    data = {"ap_notified_at": fmt(timezone.now()), "ap_reference": "M-9"}
    response = fg_client.post(step_url(breach, "ap"), data)
    assert response.status_code == 200 and "late_reason" in response.context["form"].errors
    breach.refresh_from_db()
    assert breach.state == Breach.State.DECIDED and breach.ap_reference == ""
    response = fg_client.post(step_url(breach, "ap"), {**data, "late_reason": "Pas na het weekend ontdekt"})
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.state == Breach.State.AP_NOTIFIED and breach.late_reason == "Pas na het weekend ontdekt"


def test_notification_in_time_needs_no_reason(breach, fg_client):
    breach.state, breach.ap_notify = Breach.State.DECIDED, True
    breach.save()
    response = fg_client.post(step_url(breach, "ap"), {"ap_notified_at": fmt(timezone.now()), "ap_reference": "M-1"})
    assert response.status_code == 302


def test_recording_the_ap_notice_asks_for_the_second_factor_again(breach, fg_client):
    """S-8: the AP step is a sensitive act."""
    breach.state, breach.ap_notify = Breach.State.DECIDED, True
    breach.save()
    age_session(fg_client, **{OTP_AT_KEY: 3600})
    response = fg_client.get(step_url(breach, "ap"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("step_up"))


@pytest.mark.parametrize(
    "step,data",
    [
        ("decide", {**DECIDE, "ap_notify_reason": ""}),
        ("decide", {**DECIDE, "severity": "extreme"}),
        ("assess", {**ASSESS, "effects": ["burnt"]}),
        ("assess", {**ASSESS, "ended_at": "2026-11-18T08:00"}),
        ("assess", {**ASSESS, "approx_people": "many"}),
    ],
)
def test_bad_input_re_renders_and_stores_nothing(step, data, breach, fg_client):
    """A form with bad input shows the errors and changes nothing."""
    response = fg_client.post(step_url(breach, step), data)
    assert response.status_code == 200 and response.context["form"].errors
    breach.refresh_from_db()
    assert breach.state == Breach.State.REPORTED and breach.severity == "" and breach.effects == []
    assert not BreachEvent.objects.filter(breach=breach).exists()


def test_steps_out_of_order_are_404(breach, fg_client):
    """The state machine: no closing or AP notice before the decision."""
    assert fg_client.get(step_url(breach, "close")).status_code == 404
    assert fg_client.get(step_url(breach, "ap")).status_code == 404
    assert fg_client.get(step_url(breach, "nonsense")).status_code == 404


def test_no_ap_step_when_decided_not_to_notify(breach, fg_client):
    """R-BRK-2: decided not to notify; the next step is the people concerned."""
    fg_client.post(step_url(breach, "decide"), {**DECIDE, "ap_notify": "no", "severity": "low"})
    breach.refresh_from_db()
    assert breach.state == Breach.State.DECIDED and breach.ap_notify is False
    assert fg_client.get(step_url(breach, "ap")).status_code == 404
    response = fg_client.post(step_url(breach, "people"), {"people_told": "no", "people_told_reason": "Geen risico"})
    assert response.status_code == 302


def test_ap_form_holds_every_r_brk_4_field(breach, fg_client):
    """R-BRK-4: the AP form (sections 0-9) shows every field of the register."""
    fg_client.post(step_url(breach, "assess"), ASSESS)
    fg_client.post(step_url(breach, "decide"), DECIDE)
    breach.refresh_from_db()
    breach.people_told, breach.people_told_whom = True, "Ouders groep 6 per brief"
    breach.people_told_reason, breach.lessons_learned = "Hoog risico", "Altijd BCC gebruiken"
    breach.ap_reference, breach.late_reason = "M-77", "Laat ontdekt"
    breach.ap_notified_at = timezone.now()
    breach.save()
    body = fg_client.get(reverse("breach_ap_form", kwargs={"breach_id": breach.pk})).content.decode()
    for section in range(10):
        assert f'id="ap-{section}"' in body
    expected = [
        breach.what_happened,
        breach.data_concerned,
        "19-11-2026 08:00",
        "19-11-2026 09:00",
        ASSESS["discovered_how"],
        "Read",
        "Copied",
        "Health data",
        "31",
        "29",
        ASSESS["groups_affected"],
        ASSESS["measures_before"],
        DECIDE["consequences"],
        "High risk",
        DECIDE["severity_explanation"],
        ASSESS["measures_taken"],
        DECIDE["ap_notify_reason"],
        "M-77",
        "Laat ontdekt",
        "Ouders groep 6 per brief",
        "Hoog risico",
        "Altijd BCC gebruiken",
        "Follow-up report",
    ]
    for value in expected:
        assert value in body, value


def test_csv_cells_neutralise_formulas():
    """S-17: cells starting with = + - @ are prefixed."""
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell("+31") == "'+31"
    assert csv_cell("-1") == "'-1"
    assert csv_cell("@SUM") == "'@SUM"
    assert csv_cell("gewoon") == "gewoon"
    assert csv_cell(None) == ""


def test_register_export_is_filtered_and_neutralised(school_a, school_b, teacher_a, teacher_b, make_breach, fg_client):
    """R-BRK-2, S-17: the CSV holds every incident of the filter, formulas neutralised, and is audited."""
    aware = timezone.now() - datetime.timedelta(hours=3)
    make_breach(reporter=teacher_a, school=school_a, aware_at=aware, what_happened='=cmd|" /C calc"!A0')
    make_breach(reporter=teacher_b, school=school_b, aware_at=aware)
    response = fg_client.get(reverse("breach_export"), {"school": school_a.pk})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "number" and "late_reason" in rows[0] and "lessons_learned" in rows[0]
    assert len(rows) == 2
    assert rows[1][rows[0].index("what_happened")].startswith("'=")
    assert AuditEvent.objects.filter(action="breach.register_export").count() == 1


def test_register_filters(school_a, school_b, teacher_a, teacher_b, make_breach, fg_client):
    """R-BRK-2: filters by school, state and notified or not."""
    aware = timezone.now() - datetime.timedelta(hours=3)
    a = make_breach(reporter=teacher_a, school=school_a, aware_at=aware)
    b = make_breach(
        reporter=teacher_b,
        school=school_b,
        aware_at=aware,
        state=Breach.State.AP_NOTIFIED,
        ap_notify=True,
        ap_notified_at=aware,
        ap_reference="M-5",
    )
    url = reverse("breach_register")

    def listed(params):
        body = fg_client.get(url, params).content.decode()
        return {x.number for x in (a, b) if x.number in body}

    assert listed({}) == {a.number, b.number}
    assert listed({"school": school_a.pk}) == {a.number}
    assert listed({"state": "ap_notified"}) == {b.number}
    assert listed({"notified": "no"}) == {a.number}


def test_dashboard_tops_with_open_incidents_and_clock(breach, fg_client, teacher_a, verified_client):
    """R-BRK-1: the FG's dashboard lists open incidents with their countdown."""
    body = fg_client.get(reverse("home")).content.decode()
    assert breach.number in body and "min left" in body
    assert breach.number not in verified_client(teacher_a).get(reverse("home")).content.decode()


def test_letter_to_parents_uses_the_school_template(breach, school_a, fg_client):
    """R-BRK-3: the letter is drafted from the school's own template."""
    url = reverse("breach_letter", kwargs={"breach_id": breach.pk})
    assert "Dear parent(s)" in fg_client.get(url).content.decode()
    ParentLetterTemplate.objects.create(
        school=school_a, body="Beste ouders van {school}: {what_happened} {x.__class__}"
    )
    body = fg_client.get(url).content.decode()
    assert "Beste ouders van School A: Lijst verstuurd naar verkeerde ouder {x.__class__}" in body


def test_ap_form_as_pdf(breach, fg_client):
    """R-BRK-4, issue 8 item 5: the AP form also comes as a PDF with the same
    sections 0-9; downloading it is audited."""
    from privacy_admin.models import AuditEvent
    from privacy_admin.pdf import _Collector

    fg_client.post(step_url(breach, "assess"), ASSESS)
    url = reverse("breach_ap_form", kwargs={"breach_id": breach.pk})
    response = fg_client.get(url + "?format=pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and len(response.content) > 1500
    collector = _Collector()
    collector.feed(fg_client.get(url).content.decode())
    headings = [text for kind, text in collector.blocks if kind == "h2"]
    assert [h.split(".")[0] for h in headings] == [str(n) for n in range(10)]
    assert AuditEvent.objects.filter(action="breach.ap_form_pdf").exists()
