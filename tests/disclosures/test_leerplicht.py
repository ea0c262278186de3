"""The leerplicht rule and report (R-DIS-2): 16 hours or more of unauthorised
absence within 4 consecutive ISO weeks flags a pupil; the report to the
leerplichtambtenaar is recorded as a disclosure (R-DIS-7) after a fresh
second factor (S-8)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from disclosures import leerplicht
from disclosures.leerplicht import truancy_window
from disclosures.models import Disclosure, DisclosurePupil, LegalBasis
from privacy_admin.actions import OTP_AT_KEY
from privacy_admin.models import AuditEvent
from privacy_admin.models.org import current_school_year
from students.models import Address, AttendanceRecord
from tests.conftest import age_session
from tests.students.conftest import make_pupil

MONDAY = datetime.date(2025, 9, 8)  # ISO week 37
D = datetime.timedelta


def week(n, weekday=0):
    """A day of the n-th week (1-based) counted from MONDAY."""
    return MONDAY + D(weeks=n - 1, days=weekday)


# --- The rule at its boundaries (a pure function) --------------------------------


def test_r_dis_2_fifteen_and_a_half_hours_is_not_flagged():
    """R-DIS-2: 15.5 hours within one week is below the limit."""
    records = [(week(1, 0), Decimal("8")), (week(1, 1), Decimal("7.5"))]
    assert truancy_window(records) is None


def test_r_dis_2_sixteen_hours_is_flagged():
    """R-DIS-2: exactly 16 hours reaches the limit."""
    records = [(week(1, 0), Decimal("8")), (week(1, 1), Decimal("7.5")), (week(2, 2), Decimal("0.5"))]
    window = truancy_window(records)
    assert window is not None and window.hours == Decimal("16")
    assert window.start == MONDAY and window.end == MONDAY + D(days=27)
    assert window.weeks == [37, 38, 39, 40]


def test_r_dis_2_first_monday_and_fourth_sunday_are_one_window():
    """R-DIS-2: the window runs from a Monday to the Sunday of the fourth
    week; hours on both edges count together."""
    records = [(week(1, 0), Decimal("8")), (week(4, 6), Decimal("8"))]
    assert truancy_window(records).hours == Decimal("16")


def test_r_dis_2_first_monday_and_fifth_monday_are_not():
    """R-DIS-2: the Monday of the fifth week is outside the window."""
    records = [(week(1, 0), Decimal("8")), (week(5, 0), Decimal("8"))]
    assert truancy_window(records) is None


def test_r_dis_2_sixteen_hours_spread_over_five_weeks_is_not_flagged():
    """R-DIS-2: 16 hours over 5 weeks, never 16 within 4 of them."""
    records = [(week(n), Decimal("4")) for n in (1, 2, 3, 5)]
    assert truancy_window(records) is None


def test_r_dis_2_sixteen_hours_within_four_weeks_is_flagged():
    """R-DIS-2: the same 16 hours within 4 consecutive weeks are flagged."""
    records = [(week(n), Decimal("4")) for n in (1, 2, 3, 4)]
    assert truancy_window(records).hours == Decimal("16")


def test_r_dis_2_the_heaviest_window_is_given():
    """R-DIS-2: of several windows over the limit, the one with most hours."""
    records = [(week(n), Decimal("4")) for n in (1, 2, 3, 4)] + [(week(5), Decimal("6"))]
    window = truancy_window(records)
    assert window.start == week(2) and window.hours == Decimal("18")


def test_school_year_bounds():
    assert leerplicht.school_year_bounds("2025-2026") == (datetime.date(2025, 8, 1), datetime.date(2026, 7, 31))
    for bad in ("2025-2027", "2025", "２０２５-２０２６", "abcd-efgh", ""):
        with pytest.raises(ValueError):
            leerplicht.school_year_bounds(bad)


# --- The list and the report --------------------------------------------------------


def absent(pupil, day, hours, authorised=False):
    return AttendanceRecord.objects.create(pupil=pupil, date=day, hours=Decimal(hours), authorised=authorised)


@pytest.fixture
def this_year_monday():
    """A Monday well inside the current school year, four weeks from its end
    at the latest."""
    start, _end = leerplicht.school_year_bounds(current_school_year())
    return start + D(days=7 - start.weekday())


@pytest.fixture
def truant(school_a, group5_a, this_year_monday):
    pupil = make_pupil(school_a, group5_a, first="Tim", last="Spijbel")
    Address.objects.create(
        pupil=pupil, street="Molenweg", house_number="12", postcode="3811 AB", city="Amersfoort", valid_from=MONDAY
    )
    absent(pupil, this_year_monday, "8")
    absent(pupil, this_year_monday + D(days=15), "8")
    return pupil


def test_r_dis_2_list_shows_flagged_pupils_of_the_school(
    verified_client, director_a, truant, school_a, group5_a, school_b, this_year_monday
):
    """R-DIS-2: the list flags the pupil with 16 unauthorised hours; sick
    days (authorised) do not count, and another school's pupil is not shown."""
    sick = make_pupil(school_a, group5_a, first="Sam", last="Ziek")
    absent(sick, this_year_monday, "12", authorised=True)
    absent(sick, this_year_monday + D(days=1), "12", authorised=True)
    other = make_pupil(school_b, first="Olaf", last="Anderschool")
    absent(other, this_year_monday, "12")
    absent(other, this_year_monday + D(days=1), "12")
    page = verified_client(director_a).get(reverse("leerplicht_list"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Tim Spijbel" in body and "16.0" in body
    assert "Sam Ziek" not in body and "Olaf Anderschool" not in body


def test_list_needs_the_capability(verified_client, teacher_a, truant):
    """A teacher does not make disclosures: 403."""
    assert verified_client(teacher_a).get(reverse("leerplicht_list")).status_code == 403


def test_r_dis_2_report_is_recorded_as_a_disclosure(verified_client, director_a, truant):
    """R-DIS-2, R-DIS-7: recording the report makes one disclosure to the
    leerplichtambtenaar on the ground of a legal obligation, with name, birth
    date, address and absence, on the pupil's tab, audited."""
    client = verified_client(director_a)
    url = reverse("leerplicht_report", kwargs={"pupil_id": truant.pk})
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Molenweg 12, 3811 AB Amersfoort" in body and "16.0 hours" in body
    response = client.post(url, {"method": "phone", "purpose": "16 uur ongeoorloofd verzuim", "recipient_detail": ""})
    assert response.status_code == 302 and response["Location"].startswith(reverse("leerplicht_list"))
    disclosure = Disclosure.objects.get()
    assert disclosure.kind == Disclosure.Kind.LEERPLICHT
    assert disclosure.recipient.key == "leerplicht"
    assert disclosure.legal_basis == LegalBasis.LEGAL_OBLIGATION
    assert disclosure.fields == ["full_name", "birth_date", "address", "absence_last_year"]
    assert set(disclosure.fields) <= set(disclosure.recipient.fields)
    assert disclosure.status == Disclosure.Status.DISCLOSED and disclosure.disclosed_at is not None
    assert disclosure.method == "phone" and disclosure.pupil_count == 1
    assert disclosure.requested_by == director_a == disclosure.decided_by
    assert list(DisclosurePupil.objects.values_list("pupil_id", flat=True)) == [truant.pk]
    event = AuditEvent.objects.get(action="disclosure.leerplicht_report")
    assert event.pupil_id == truant.pk and event.object_id == str(disclosure.pk)
    listed = client.get(reverse("leerplicht_list")).content.decode()
    assert timezone.localdate().strftime("%d-%m-%Y") in listed


def test_report_without_method_loses_nothing(verified_client, director_a, truant):
    """A form without a method comes back with the error and the typed reason."""
    url = reverse("leerplicht_report", kwargs={"pupil_id": truant.pk})
    response = verified_client(director_a).post(url, {"purpose": "Mijn reden"})
    assert response.status_code == 200
    assert "Mijn reden" in response.content.decode() and "This field is required" in response.content.decode()
    assert not Disclosure.objects.exists()


def test_s_8_report_asks_for_the_second_factor_again(verified_client, director_a, truant, settings):
    """S-8: with an old second-factor check the report is not recorded; the
    user is sent to confirm a code first."""
    client = verified_client(director_a)
    age_session(client, **{OTP_AT_KEY: settings.STEP_UP_MINUTES * 60 + 1})
    url = reverse("leerplicht_report", kwargs={"pupil_id": truant.pk})
    response = client.post(url, {"method": "phone", "purpose": "x"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("step_up"))
    assert not Disclosure.objects.exists()


def test_report_of_another_schools_pupil_is_404(verified_client, director_a, school_b):
    """S-11: a pupil of another school is the same 404 as a missing one."""
    other = make_pupil(school_b, first="Olaf", last="Anderschool")
    client = verified_client(director_a)
    assert client.get(reverse("leerplicht_report", kwargs={"pupil_id": other.pk})).status_code == 404
    assert client.get(reverse("leerplicht_report", kwargs={"pupil_id": 999999})).status_code == 404


def test_list_queries_do_not_grow_with_the_pupils(verified_client, director_a, truant, school_a, group5_a):
    """The list costs the same number of queries for one flagged pupil as
    for four (no query per pupil)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = verified_client(director_a)
    url = reverse("leerplicht_list")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    monday = truant.attendance.order_by("date").first().date
    for n in range(3):
        pupil = make_pupil(school_a, group5_a, first=f"Extra{n}", last="Spijbel")
        absent(pupil, monday, "8")
        absent(pupil, monday + D(days=1), "8")
        leerplicht.leerplicht_report(pupil=pupil, method="phone", purpose="x", acting_user=director_a)
    with CaptureQueriesContext(connection) as four:
        body = client.get(url).content.decode()
    assert body.count("Spijbel") == 4
    assert len(four) == len(one)


def test_r_dis_2_report_keeps_to_the_register_whitelist(verified_client, director_a, truant):
    """R-DIS-2: when the register no longer allows the report's fields for
    the leerplichtambtenaar, nothing is recorded and the form says why."""
    from disclosures.seed import seeded_recipient

    recipient = seeded_recipient(truant.school.foundation, "leerplicht")
    recipient.fields = ["full_name"]
    recipient.save(update_fields=["fields"])
    url = reverse("leerplicht_report", kwargs={"pupil_id": truant.pk})
    response = verified_client(director_a).post(url, {"method": "phone", "purpose": "x"})
    assert response.status_code == 200 and "correct the register first" in response.content.decode()
    assert not Disclosure.objects.exists()
