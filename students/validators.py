"""Validation of Dutch identifiers and contact data (R-DOS-6)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

POSTCODE_RE = re.compile(r"^([1-9][0-9]{3})\s?([A-Za-z]{2})$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{8,15}$")


def bsn_passes_elfproef(value):
    """The eleven test: 9 digits d1..d9, 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 divisible by 11."""
    # isascii: other scripts' digits pass isdigit(); "²" then fails int() (S-16).
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) == 9):
        return False
    total = sum(int(d) * w for d, w in zip(value[:8], range(9, 1, -1), strict=True)) - int(value[8])
    return total % 11 == 0 and value != "000000000"


def normalize_bsn(value):
    value = (value or "").strip().replace(".", "").replace(" ", "")
    if value.isdigit() and len(value) == 8:
        value = "0" + value  # leading zero lost by a spreadsheet
    return value


def validate_bsn(value):
    if not bsn_passes_elfproef(normalize_bsn(value)):
        raise ValidationError(_("This is not a valid BSN (it fails the eleven test)."), code="bsn")


def normalize_postcode(value):
    match = POSTCODE_RE.match((value or "").strip())
    if not match:
        return None
    return f"{match.group(1)} {match.group(2).upper()}"


def validate_postcode(value):
    if normalize_postcode(value) is None:
        raise ValidationError(_("A Dutch postcode looks like 1234 AB."), code="postcode")


def validate_phone(value):
    if value and not PHONE_RE.match(value.strip()):
        raise ValidationError(_("Enter a phone number of 10 digits, e.g. 010-1234567 or +31 10 1234567."))
