"""The legal deadline of a parent's request (R-RGT-3, AVG art. 12(3)).

A request is answered within one month of receipt; the school may extend that
once by up to two further months, telling the parent why, and only while the
first month runs (the extension must be told "within one month of receipt").
Months are calendar months clamped to the month's end: received 31 January,
due 28 February (29 in a leap year). An extended deadline counts from the
receipt, not from the first deadline, so 31 January + 1 + 2 months is 30
April, not 28 April.

The same arithmetic as retention.engine.add_months, kept here: the rights app
sits in the disclosures layer and does not lean on the retention side branch.
"""

import calendar
import datetime

TERM_MONTHS = 1
MAX_EXTENSION_MONTHS = 2
# The director is warned this many days before a deadline (S-28: once each).
WARN_DAYS = (7, 2)


def add_months(day, months):
    """`day` plus `months`, clamped to the last day of the month reached."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year = day.year + years
    return datetime.date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def due_date(received_on, extension_months=0):
    """The last day on which a request received on `received_on` is answered
    in time, after an extension of `extension_months` (0, 1 or 2)."""
    if not 0 <= extension_months <= MAX_EXTENSION_MONTHS:
        raise ValueError("an extension is at most two months")
    return add_months(received_on, TERM_MONTHS + extension_months)


def days_left(due_on, today):
    """Whole days until the deadline: 0 on the day itself, negative after it."""
    return (due_on - today).days


def may_extend(received_on, extension_months, today):
    """Once, and only while the first month runs (AVG art. 12(3))."""
    return extension_months == 0 and today <= due_date(received_on)
