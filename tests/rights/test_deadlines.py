"""The legal deadline of a parent's request (R-RGT-3, AVG art. 12(3)), unit
tested on the arithmetic itself (STYLE 11), then through the extension
action."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from disclosures.rights import deadlines, services
from disclosures.rights.models import ParentRequest
from tests.rights.conftest import file_request

D = datetime.date


@pytest.mark.parametrize(
    "received,due",
    [
        (D(2026, 1, 31), D(2026, 2, 28)),  # clamped to the month's end
        (D(2028, 1, 31), D(2028, 2, 29)),  # a leap year
        (D(2026, 1, 15), D(2026, 2, 15)),
        (D(2026, 3, 31), D(2026, 4, 30)),
        (D(2026, 12, 20), D(2027, 1, 20)),  # over the year's end
    ],
)
def test_one_month_from_receipt(received, due):
    """R-RGT-3: answered within one calendar month, clamped to the month's end:
    received 31 January, due 28 February (29 in a leap year)."""
    assert deadlines.due_date(received) == due


def test_extension_counts_from_receipt_up_to_two_months():
    """R-RGT-3: the school may extend by up to two more months; the extended
    deadline counts from the receipt (31 Jan + 3 months is 30 April, not
    28 April), and more than two months is refused."""
    received = D(2026, 1, 31)
    assert deadlines.due_date(received, 1) == D(2026, 3, 31)
    assert deadlines.due_date(received, 2) == D(2026, 4, 30)
    with pytest.raises(ValueError):
        deadlines.due_date(received, 3)


def test_extension_is_possible_once_and_within_the_first_month():
    """R-RGT-3: once, and only while the first month runs."""
    received = D(2026, 1, 31)
    assert deadlines.may_extend(received, 0, D(2026, 2, 28))
    assert not deadlines.may_extend(received, 0, D(2026, 3, 1))
    assert not deadlines.may_extend(received, 1, D(2026, 2, 1))


def test_days_left():
    """R-RGT-3: the days left are shown; 0 on the day itself, negative after."""
    assert deadlines.days_left(D(2026, 2, 28), D(2026, 2, 21)) == 7
    assert deadlines.days_left(D(2026, 2, 28), D(2026, 2, 28)) == 0
    assert deadlines.days_left(D(2026, 2, 28), D(2026, 3, 2)) == -2


def test_filed_request_carries_its_deadline(mother):
    """R-RGT-3: the deadline is set on receipt."""
    received = datetime.datetime(2026, 1, 31, 10, 0, tzinfo=datetime.UTC)
    parent_request = file_request(mother, now=received)
    assert parent_request.received_on == D(2026, 1, 31)
    assert parent_request.due_on == D(2026, 2, 28)


def test_extension_action_once_only(mother, director_a):
    """R-RGT-3: the extension action moves the deadline once, with a reason;
    a second extension is refused and changes nothing."""
    parent_request = file_request(mother, now=datetime.datetime(2026, 1, 31, 10, 0, tzinfo=datetime.UTC))
    services.deadline_extend(
        parent_request,
        months=2,
        reason="Het dossier ligt deels in het archief.",
        acting_user=director_a,
        today=D(2026, 2, 10),
    )
    parent_request.refresh_from_db()
    assert parent_request.due_on == D(2026, 4, 30) and parent_request.extension_months == 2
    with pytest.raises(ValidationError):
        services.deadline_extend(
            parent_request, months=1, reason="Nog eens.", acting_user=director_a, today=D(2026, 2, 11)
        )
    parent_request.refresh_from_db()
    assert parent_request.due_on == D(2026, 4, 30)


def test_extension_needs_a_reason_and_the_first_month(mother, director_a):
    """R-RGT-3: no extension without a reason, nor after the first month."""
    parent_request = file_request(mother, now=datetime.datetime(2026, 1, 31, 10, 0, tzinfo=datetime.UTC))
    with pytest.raises(ValidationError):
        services.deadline_extend(parent_request, months=1, reason=" ", acting_user=director_a, today=D(2026, 2, 1))
    with pytest.raises(ValidationError):
        services.deadline_extend(parent_request, months=1, reason="Laat", acting_user=director_a, today=D(2026, 3, 1))
    assert ParentRequest.objects.get().extension_months == 0
