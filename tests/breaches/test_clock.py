"""The 72-hour clock (R-BRK-2): 72 real hours from awareness, across a
weekend and across the changes to and from summer time in Europe/Amsterdam."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from breaches.clock import countdown
from breaches.models import Breach, deadline_for

AMS = ZoneInfo("Europe/Amsterdam")


def local(*args):
    return datetime.datetime(*args, tzinfo=AMS)


@pytest.mark.parametrize(
    "aware,due",
    [
        # Friday afternoon: the weekend counts, due Monday afternoon.
        (local(2026, 11, 20, 16, 0), local(2026, 11, 23, 16, 0)),
        # Summer time ends on Sunday 25 October 2026 (03:00 → 02:00): 72 real
        # hours end an hour earlier on the clock.
        (local(2026, 10, 24, 12, 0), local(2026, 10, 27, 11, 0)),
        # Summer time starts on Sunday 29 March 2026 (02:00 → 03:00): an hour later.
        (local(2026, 3, 28, 12, 0), local(2026, 3, 31, 13, 0)),
    ],
)
def test_deadline_is_72_real_hours(aware, due):
    """R-BRK-2: the deadline is 72 elapsed hours, whatever the wall clock does."""
    deadline = deadline_for(aware)
    assert deadline == due
    assert deadline.astimezone(AMS).hour == due.hour
    assert (deadline - aware).total_seconds() == 72 * 3600


def test_naive_wall_clock_addition_would_be_wrong():
    """Why deadline_for goes through UTC: adding to a local datetime keeps
    the wall clock and is an hour off across the DST change."""
    aware = local(2026, 10, 24, 12, 0)
    assert aware + datetime.timedelta(hours=72) != deadline_for(aware)


def test_countdown_text():
    """R-BRK-2: the countdown is server-rendered text: hours and minutes
    left, urgent under 12 hours, and how long ago once the deadline passed."""
    breach = Breach(aware_at=local(2026, 11, 20, 16, 0))
    now = local(2026, 11, 21, 16, 30)
    assert countdown(breach, now) == ("clock-running", "47 h 30 min left")
    assert countdown(breach, local(2026, 11, 23, 10, 0))[0] == "clock-urgent"
    assert countdown(breach, local(2026, 11, 23, 18, 5)) == ("clock-late", "Deadline passed 2 h 5 min ago")
    breach.ap_notified_at = now
    assert countdown(breach, now)[0] == "clock-done"
