"""Bounds of the moments and counts on the breach forms (S-16, R-BRK-2,
R-BRK-4): a huge count or a moment in year 1 was a 500 (the database's range
overflowed), a mistyped year such as 0202 was stored and set the 72-hour clock
centuries back, and the AP notice could be dated before the school knew of
the breach. Each is now a field error, the form comes back, nothing is stored."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from breaches.forms import AVG_IN_FORCE, OLDEST_START
from breaches.models import MAX_PEOPLE, MAX_RECORDS, Breach, BreachEvent
from privacy_admin.models import AuditEvent

HUGE = "99999999999999999999"


def fmt(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def step_url(breach, step):
    return reverse("breach_step", kwargs={"breach_id": breach.pk, "step": step})


def _report(client, school, **overrides):
    data = {
        "school": school.pk,
        "aware_at": fmt(timezone.now() - datetime.timedelta(hours=1)),
        "what_happened": "Lijst naar verkeerde ouder gemaild",
        "data_concerned": "Groepslijst",
        "approx_pupils": "27",
        **overrides,
    }
    return client.post(reverse("breach_report"), data)


@pytest.fixture
def fg_client(fg, verified_client):
    return verified_client(fg)


@pytest.fixture
def breach(school_a, teacher_a, make_breach):
    return make_breach(reporter=teacher_a, school=school_a, aware_at=timezone.now() - datetime.timedelta(hours=10))


def _at_state(breach, state, **fields):
    breach.state = state
    for name, value in fields.items():
        setattr(breach, name, value)
    breach.save()
    return breach


def _unchanged(breach, state):
    """Nothing of a refused step was stored: same state, no event, no audit row."""
    fresh = Breach.objects.get(pk=breach.pk)
    assert fresh.state == state
    assert fresh.started_at is None and fresh.ended_at is None and fresh.approx_records is None
    assert fresh.ap_notified_at is None and fresh.ap_reference == ""
    assert fresh.people_told is None and fresh.people_told_at is None
    assert not BreachEvent.objects.filter(breach=breach).exists()
    assert not AuditEvent.objects.filter(object_id=str(breach.pk), action__startswith="breach.").exists()


# --- the report (any staff member) --------------------------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [
        ("approx_pupils", HUGE),
        ("approx_pupils", str(MAX_PEOPLE + 1)),
        ("aware_at", "0001-01-01T00:00"),
        ("aware_at", "0202-12-06T13:49"),
        ("aware_at", "2018-05-24T23:59"),
        ("aware_at", "9999-12-31T23:59"),
    ],
)
def test_report_out_of_range_is_a_field_error(field, value, school_a, teacher_a, fg, verified_client):
    """S-16, R-BRK-2: a count beyond MAX_PEOPLE, a moment before the AVG took
    effect (25 May 2018) or in the future is an error on that field: the form
    comes back with the other input kept, nothing is stored, nobody mailed."""
    response = _report(verified_client(teacher_a), school_a, **{field: value})
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert form[field].value() == value and form["what_happened"].value() == "Lijst naar verkeerde ouder gemaild"
    assert form.errors[field][0] in response.content.decode()
    assert not Breach.objects.exists()
    assert not AuditEvent.objects.filter(action="breach.reported").exists()
    assert mail.outbox == []


def test_report_names_the_earliest_date(school_a, teacher_a, verified_client):
    """S-16: the message for a mistyped year says where the bound lies."""
    response = _report(verified_client(teacher_a), school_a, aware_at="0202-12-06T13:49")
    assert "25-05-2018" in response.context["form"].errors["aware_at"][0]


def test_report_at_the_bounds_is_accepted(school_a, teacher_a, verified_client):
    """R-BRK-2: the first minute of the AVG and MAX_PEOPLE pupils are still valid."""
    response = _report(
        verified_client(teacher_a), school_a, aware_at=f"{AVG_IN_FORCE:%Y-%m-%d}T00:00", approx_pupils=str(MAX_PEOPLE)
    )
    assert response.status_code == 302
    breach = Breach.objects.get()
    assert timezone.localtime(breach.aware_at).date() == AVG_IN_FORCE and breach.approx_pupils == MAX_PEOPLE


# --- the FG's register step ----------------------------------------------------------------


ASSESS = {
    "started_at": "2026-11-19T08:00",
    "ended_at": "2026-11-19T09:00",
    "discovered_how": "Een ouder belde de school",
    "approx_records": "31",
    "approx_people": "29",
}


@pytest.mark.parametrize(
    "field,value",
    [
        ("approx_records", HUGE),
        ("approx_records", str(MAX_RECORDS + 1)),
        ("approx_people", HUGE),
        ("approx_people", str(MAX_PEOPLE + 1)),
        ("started_at", "0001-01-01T00:00"),
        ("started_at", "1999-12-31T23:59"),
        ("ended_at", "0202-11-19T09:00"),
        ("ended_at", "9999-12-31T23:59"),
    ],
)
def test_assess_out_of_range_is_a_field_error(field, value, breach, fg_client):
    """S-16, R-BRK-4: the register's counts and moments are bounded; a bad
    one is an error on its field and the step stores nothing."""
    data = {**ASSESS, field: value}
    response = fg_client.post(step_url(breach, "assess"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    _unchanged(breach, Breach.State.REPORTED)


def test_assess_may_record_a_start_long_before_the_avg(breach, fg_client):
    """R-BRK-4: a breach may have begun years before anyone noticed it."""
    data = {**ASSESS, "started_at": f"{OLDEST_START:%Y-%m-%d}T00:00", "approx_records": str(MAX_RECORDS)}
    assert fg_client.post(step_url(breach, "assess"), data).status_code == 302
    breach.refresh_from_db()
    assert timezone.localtime(breach.started_at).date() == OLDEST_START and breach.approx_records == MAX_RECORDS


# --- the AP notice -------------------------------------------------------------------------


def test_ap_notice_before_the_school_knew_is_refused(school_a, teacher_a, make_breach, fg_client):
    """R-BRK-2: the tester's case. Known since 13:49, a notice dated five days
    earlier at 10:00 is an error on its field naming the moment the school
    knew; nothing is stored."""
    aware = timezone.now() - datetime.timedelta(hours=4)
    breach = make_breach(
        reporter=teacher_a, school=school_a, aware_at=aware, state=Breach.State.DECIDED, ap_notify=True
    )
    notified = timezone.localtime(aware - datetime.timedelta(days=5)).replace(hour=10, minute=0)
    response = fg_client.post(step_url(breach, "ap"), {"ap_notified_at": fmt(notified), "ap_reference": "M-1"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["ap_notified_at"]
    assert timezone.localtime(aware).strftime("%d-%m-%Y %H:%M") in errors["ap_notified_at"][0]
    _unchanged(breach, Breach.State.DECIDED)


def test_ap_notice_in_the_first_minute_is_accepted(breach, fg_client):
    """R-BRK-2: the notice may be in the same minute the school knew of it."""
    _at_state(breach, Breach.State.DECIDED, ap_notify=True)
    aware = timezone.localtime(breach.aware_at).replace(second=0, microsecond=0)
    breach.aware_at = aware
    breach.save(update_fields=["aware_at"])
    response = fg_client.post(step_url(breach, "ap"), {"ap_notified_at": fmt(aware), "ap_reference": "M-2"})
    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.state == Breach.State.AP_NOTIFIED and breach.ap_notified_at == aware


@pytest.mark.parametrize("value", ["0001-01-01T00:00", "0202-12-06T13:49", "9999-12-31T23:59"])
def test_ap_notice_out_of_range_is_a_field_error(value, breach, fg_client):
    """S-16, R-BRK-2: year 1 was a 500; an absurd year or the future is refused."""
    _at_state(breach, Breach.State.DECIDED, ap_notify=True)
    response = fg_client.post(step_url(breach, "ap"), {"ap_notified_at": value, "ap_reference": "M-3"})
    assert response.status_code == 200 and list(response.context["form"].errors) == ["ap_notified_at"]
    _unchanged(breach, Breach.State.DECIDED)


# --- telling the people concerned ----------------------------------------------------------


@pytest.mark.parametrize("value", ["0001-01-01T00:00", "0202-12-06T13:49", "9999-12-31T23:59", "before_aware"])
def test_people_told_out_of_range_is_a_field_error(value, breach, fg_client):
    """S-16, R-BRK-3: the moment the people concerned were told is bounded like
    the AP notice, and cannot lie before the school knew of the breach."""
    _at_state(breach, Breach.State.DECIDED, ap_notify=False)
    if value == "before_aware":
        value = fmt(breach.aware_at - datetime.timedelta(days=1))
    data = {"people_told": "yes", "people_told_at": value, "people_told_whom": "Ouders", "people_told_reason": "Hoog"}
    response = fg_client.post(step_url(breach, "people"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["people_told_at"] and len(errors["people_told_at"]) == 1
    _unchanged(breach, Breach.State.DECIDED)


# --- generated moments and counts ----------------------------------------------------------

# Wall-clock moments from year 1 to 9999 (hypothesis' default range), posted
# as the datetime-local text a browser sends.
MOMENTS = st.datetimes()
COUNTS = st.integers(min_value=-(10**25), max_value=10**25)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None)
@given(aware=MOMENTS, pupils=COUNTS)
def test_generated_report_moments_and_counts(aware, pupils, school_a, teacher_a, verified_client):
    """S-16: any moment from year 1 to 9999 and any count: never a 500; what is
    stored lies within the bounds, what is refused stores nothing."""
    before = Breach.objects.count()
    client = verified_client(teacher_a)
    response = _report(client, school_a, aware_at=aware.strftime("%Y-%m-%dT%H:%M"), approx_pupils=pupils)
    if response.status_code == 302:
        breach = Breach.objects.latest("pk")
        assert 0 <= breach.approx_pupils <= MAX_PEOPLE
        assert timezone.localtime(breach.aware_at).date() >= AVG_IN_FORCE
    else:
        assert response.status_code == 200 and response.context["form"].errors
        assert Breach.objects.count() == before


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None)
@given(notified=MOMENTS)
def test_generated_ap_notice_moments(notified, school_a, teacher_a, make_breach, fg_client):
    """S-16, R-BRK-2: any notice moment: never a 500; a stored one lies
    between the moment the school knew and now."""
    aware = timezone.now() - datetime.timedelta(days=3)
    breach = make_breach(
        reporter=teacher_a, school=school_a, aware_at=aware, state=Breach.State.DECIDED, ap_notify=True
    )
    data = {"ap_notified_at": notified.strftime("%Y-%m-%dT%H:%M"), "ap_reference": "M-4", "late_reason": "Laat"}
    response = fg_client.post(step_url(breach, "ap"), data)
    breach.refresh_from_db()
    if response.status_code == 302:
        assert aware <= breach.ap_notified_at <= timezone.now() + datetime.timedelta(minutes=5)
    else:
        assert response.status_code == 200 and "ap_notified_at" in response.context["form"].errors
        assert breach.state == Breach.State.DECIDED and breach.ap_notified_at is None
