"""Bulk imports into the pupil dossiers: onboarding from the old pupil
administration (R-DOS-1) and address updates from the BRP via DUO (R-DOS-6).

Both work in three steps, each usable on its own:

* ``parse_*_file`` reads the CSV and checks every row, collecting every
  problem as a ``RowError(line, reason)``. It never raises for bad input and
  never writes (S-16). Given the school, it also runs the checks that need the
  database (unknown group, unknown BSN, a BSN of another pupil).
* ``plan_*_import`` compares the good rows with the database and says per row
  what would happen. It only reads: dry runs and the preview screen stop here.
* ``apply_*_import`` carries out a plan in ONE transaction, with one audit
  event per changed pupil or parent in that same transaction. A file with any
  bad row never gets a plan, so nothing of it is applied.

Reasons never quote a cell: they name the column and the line only, so they
can be printed, shown and logged without personal data (S-24). Audit details
hold counts and field names, never values. The BSN is matched through its
keyed hash, never by decrypting rows (S-25).

File rules (both formats)
-------------------------
* UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8" adds one).
* Comma- or semicolon-separated; the delimiter is taken from the header line
  (Dutch Excel writes semicolons). Fields may be quoted with ``"``.
* Line 1 is a header with exactly the columns below (any order, names are
  case-insensitive). Empty lines are skipped. Line numbers in errors count
  from the header as line 1.
* Dates are ``YYYY-MM-DD``; postcodes ``1234 AB`` or ``1234AB``; a BSN has 9
  digits (8 with a dropped leading zero are accepted) and passes the eleven
  test.

Pupil file (``import_pupils``), one row per pupil
-------------------------------------------------
``pupil_ref, first_name, last_name, birth_date, sex, bsn, group, enrolled_on,
left_on, destination, street, house_number, postcode, city, guardian1_name,
guardian1_email, guardian1_phone, guardian1_authority, guardian2_name,
guardian2_email, guardian2_phone, guardian2_authority``

* ``pupil_ref``: the pupil number of the old administration, unique in the
  file; a pupil is matched on it within the school. Required.
* ``first_name``, ``last_name`` (including a prefix such as "de"): required.
* ``birth_date``: required; the pupil is 3 to 14 years old on ``enrolled_on``.
* ``sex``: ``M``, ``V`` or ``X``.
* ``bsn``: optional (a pupil with only an onderwijsnummer has none); unique in
  the file and not the BSN of another pupil of the school. An empty cell never
  clears a BSN already recorded.
* ``group``: the name of a group of the school in the current school year,
  e.g. ``Groep 5``; required while enrolled, optional for a pupil who left
  during this school year, empty for one who left before it. An empty cell
  never clears a group already recorded. Unknown groups are errors: groups
  are not created by the import.
* ``enrolled_on``: required, at most a year ahead. ``left_on``: empty while
  enrolled, otherwise not before ``enrolled_on`` and not in the future.
* ``destination``: empty while enrolled, required with ``left_on``: one of
  ``regular``, ``special``, ``secondary``, ``abroad``, ``other``.
* ``street``, ``house_number``, ``postcode``, ``city``: the pupil's address,
  all four or none. A changed address adds a row to the address history; an
  address that came from the BRP is not overwritten by the import (the BRP is
  the authoritative register).
* ``guardianN_name`` (first name and last name in one cell, split at the first
  space), ``guardianN_email``, ``guardianN_phone``, ``guardianN_authority``
  (``yes``/``no``): guardian 1 is required, guardian 2 optional (all four
  empty). A parent is matched among the pupil's own parents by e-mail, then by
  name; the import never removes a parent.

BRP/DUO file (``import_brp`` and the upload screen), one row per person
-----------------------------------------------------------------------
``bsn, first_name, last_name, street, house_number, postcode, city,
date_of_change``

* ``bsn``: required, passes the eleven test, once per file, and belongs to a
  pupil or a parent of a pupil of the school.
* ``first_name``, ``last_name``: for the reader of the file; not compared and
  not applied (the school uses the call name, the BRP the official name).
* ``street``, ``house_number``, ``postcode``, ``city``: the new address, all
  required.
* ``date_of_change``: required, not in the future. For a pupil, a new address
  row valid from this date is added; a parent's address is replaced. A row
  older than the pupil's current address is shown as outdated and skipped.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from privacy_admin.auditlog import audit_record
from privacy_admin.models import Group
from privacy_admin.models.org import current_school_year
from students.models import (
    Address,
    Destination,
    Enrolment,
    EnrolmentEvent,
    Guardian,
    GuardianLink,
    Pupil,
    Sex,
    bsn_lookup_hash,
)
from students.validators import bsn_passes_elfproef, normalize_bsn, normalize_postcode, validate_phone

PUPIL_COLUMNS = (
    "pupil_ref",
    "first_name",
    "last_name",
    "birth_date",
    "sex",
    "bsn",
    "group",
    "enrolled_on",
    "left_on",
    "destination",
    "street",
    "house_number",
    "postcode",
    "city",
    "guardian1_name",
    "guardian1_email",
    "guardian1_phone",
    "guardian1_authority",
    "guardian2_name",
    "guardian2_email",
    "guardian2_phone",
    "guardian2_authority",
)
BRP_COLUMNS = ("bsn", "first_name", "last_name", "street", "house_number", "postcode", "city", "date_of_change")
ADDRESS_FIELDS = ("street", "house_number", "postcode", "city")

# Children may start at 4 and come for trial days a little before; a late
# newcomer in group 8 is 12 or 13. Outside this range the date is a typo.
MIN_AGE_AT_ENROLMENT = 3
MAX_AGE_AT_ENROLMENT = 14
MAX_DAYS_AHEAD = 366
OLDEST_DATE = date(1900, 1, 1)

_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# Control characters and lone surrogates: never valid in a name or address,
# and PostgreSQL refuses NUL outright.
_BAD_CHARS_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_YES = {"yes": True, "no": False}


# --- results -------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class RowError:
    line: int
    reason: str

    def __str__(self):
        return _("line %(line)d: %(reason)s") % {"line": self.line, "reason": self.reason}


class ImportRejected(Exception):
    """A plan was asked for rows that do not pass the school's checks."""

    def __init__(self, errors):
        self.errors = sorted(errors)
        super().__init__(f"{len(self.errors)} row errors")


@dataclass(frozen=True)
class ParsedFile:
    rows: tuple
    errors: tuple

    @property
    def ok(self):
        return not self.errors


@dataclass(frozen=True)
class AddressData:
    street: str
    house_number: str
    postcode: str
    city: str

    @classmethod
    def of(cls, obj):
        """The address of an Address or Guardian row; None when it has none."""
        values = [getattr(obj, name) or "" for name in ADDRESS_FIELDS]
        if not any(values):
            return None
        street, house_number, postcode, city = values
        return cls(street, house_number, normalize_postcode(postcode) or postcode, city)

    def differing_fields(self, other):
        if other is None:
            return ADDRESS_FIELDS
        return tuple(name for name in ADDRESS_FIELDS if getattr(self, name) != getattr(other, name))

    def __str__(self):
        return f"{self.street} {self.house_number}, {self.postcode} {self.city}"


@dataclass(frozen=True)
class GuardianData:
    position: int
    first_name: str
    last_name: str
    email: str
    phone: str
    has_authority: bool

    @property
    def name(self):
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass(frozen=True)
class PupilRow:
    line: int
    pupil_ref: str
    first_name: str
    last_name: str
    birth_date: date
    sex: str
    bsn: str
    group_name: str
    enrolled_on: date
    left_on: date | None
    destination: str
    address: AddressData | None
    guardians: tuple


@dataclass(frozen=True)
class BrpRow:
    line: int
    bsn: str
    address: AddressData
    date_of_change: date


# --- reading a CSV file ------------------------------------------------------------


def _read_text(source):
    """Text from a str, bytes or (binary or text) file object; a RowError when
    it is not UTF-8."""
    if hasattr(source, "read"):
        source = source.read()
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            return None, RowError(line, _("the file is not UTF-8 text (save it as 'CSV UTF-8')"))
    else:
        text = str(source)
    return text.removeprefix("\ufeff"), None


def _column_key(name):
    return name.strip().strip('"').strip().lower()


def _read_csv(source, columns):
    """([(line, {column: value}) per non-empty row], [RowError]) with the file
    and shape errors. Values are stripped; a row with the wrong number of
    fields is reported and left out."""
    errors = []
    records = []
    text, error = _read_text(source)
    if error is not None:
        return records, [error]
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        return records, [RowError(1, _("the file is empty or does not start with the header line"))]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [_column_key(name) for name in next(reader)]
    except (csv.Error, StopIteration):
        return records, [RowError(1, _("the header line cannot be read"))]
    missing = [c for c in columns if c not in header]
    unknown = sorted({c for c in header if c not in columns})
    if missing:
        errors.append(RowError(1, _("the header misses the columns: %(columns)s") % {"columns": ", ".join(missing)}))
    if unknown:
        # Not quoted: a file without a header would put a pupil's data here.
        message = ngettext(
            "the header has %(count)d unknown column", "the header has %(count)d unknown columns", len(unknown)
        )
        errors.append(RowError(1, message % {"count": len(unknown)}))
    if len(set(header)) != len(header):
        errors.append(RowError(1, _("the header names a column twice")))
    if errors:
        return records, errors
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            errors.append(RowError(line, _("this line cannot be read as CSV (check the quotes); reading stopped here")))
            break
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            errors.append(
                RowError(
                    line,
                    _("expected %(expected)d fields separated by '%(delimiter)s', found %(found)d")
                    % {"expected": len(header), "delimiter": delimiter, "found": len(cells)},
                )
            )
            continue
        records.append((line, dict(zip(header, (cell.strip() for cell in cells), strict=True))))
    return records, errors


class _RowChecker:
    """Reads the typed values of one row, recording a reason per bad cell."""

    def __init__(self, line, values, errors):
        self.line = line
        self.values = values
        self.errors = errors
        self.ok = True

    def fail(self, reason):
        self.errors.append(RowError(self.line, reason))
        self.ok = False

    def text(self, column, *, required=False, max_length=100):
        value = " ".join(self.values[column].split())
        if _BAD_CHARS_RE.search(self.values[column].strip()):
            self.fail(_("%(column)s contains control characters") % {"column": column})
            return ""
        if required and not value:
            self.fail(_("%(column)s is required") % {"column": column})
        elif len(value) > max_length:
            self.fail(_("%(column)s is longer than %(max)d characters") % {"column": column, "max": max_length})
        return value

    def date(self, column, *, required=False):
        value = self.values[column]
        if not value:
            if required:
                self.fail(_("%(column)s is required") % {"column": column})
            return None
        try:
            if not _DATE_RE.match(value):
                raise ValueError
            parsed = date.fromisoformat(value)
        except ValueError:
            self.fail(_("%(column)s is not a date in the form YYYY-MM-DD") % {"column": column})
            return None
        if parsed < OLDEST_DATE:
            self.fail(_("%(column)s lies before 1900") % {"column": column})
            return None
        return parsed

    def bsn(self, column="bsn", *, required=False):
        value = normalize_bsn(self.values[column])
        if not value:
            if required:
                self.fail(_("%(column)s is required") % {"column": column})
            return ""
        if not (value.isascii() and bsn_passes_elfproef(value)):
            self.fail(_("%(column)s is not a valid BSN (it fails the eleven test)") % {"column": column})
            return ""
        return value

    def address(self, *, required):
        parts = [
            self.text(name, max_length=length) for name, length in zip(ADDRESS_FIELDS, (150, 12, 7, 100), strict=True)
        ]
        if not any(parts):
            if required:
                for name in ADDRESS_FIELDS:
                    self.fail(_("%(column)s is required") % {"column": name})
            return None
        if not all(parts):
            self.fail(_("fill in street, house_number, postcode and city together, or leave all four empty"))
            return None
        street, house_number, postcode, city = parts
        normalized = normalize_postcode(postcode)
        if normalized is None:
            self.fail(_("postcode is not a Dutch postcode (1234 AB)"))
            return None
        return AddressData(street, house_number, normalized, city)

    def guardian(self, position, *, required):
        prefix = f"guardian{position}_"
        name = self.text(prefix + "name", max_length=250)
        email = self.text(prefix + "email", max_length=254)
        phone = self.text(prefix + "phone", max_length=20)
        authority = self.values[prefix + "authority"].lower()
        if not name:
            if required:
                self.fail(_("%(column)s is required") % {"column": prefix + "name"})
            elif email or phone or authority:
                self.fail(
                    _("%(column)s is empty: fill in a name or leave all %(prefix)s columns empty")
                    % {"column": prefix + "name", "prefix": prefix.rstrip("_")}
                )
            return None
        first_name, _sep, last_name = name.partition(" ")
        if not last_name:
            first_name, last_name = "", first_name
        if len(first_name) > 100 or len(last_name) > 150:
            self.fail(_("%(column)s is too long") % {"column": prefix + "name"})
        if email:
            try:
                validate_email(email)
            except ValidationError:
                self.fail(_("%(column)s is not an e-mail address") % {"column": prefix + "email"})
        if phone:
            try:
                validate_phone(phone)
            except ValidationError:
                self.fail(_("%(column)s is not a phone number") % {"column": prefix + "phone"})
        if authority not in _YES:
            self.fail(_("%(column)s must be yes or no") % {"column": prefix + "authority"})
        return GuardianData(position, first_name, last_name, email, phone, _YES.get(authority, False))


def _duplicates(rows, key, column, errors):
    seen = {}
    for row in rows:
        value = key(row)
        if not value:
            continue
        if value in seen:
            errors.append(
                RowError(
                    row.line, _("%(column)s also appears on line %(other)d") % {"column": column, "other": seen[value]}
                )
            )
        else:
            seen[value] = row.line


# --- pupils: parse -------------------------------------------------------------------


def _pupil_row(line, values, errors, today, school_year_start):
    check = _RowChecker(line, values, errors)
    pupil_ref = check.text("pupil_ref", required=True, max_length=40)
    first_name = check.text("first_name", required=True)
    last_name = check.text("last_name", required=True)
    birth_date = check.date("birth_date", required=True)
    sex = values["sex"].upper()
    if sex not in Sex.values:
        check.fail(_("sex must be M, V or X"))
    bsn = check.bsn()
    group_name = check.text("group", max_length=40)
    enrolled_on = check.date("enrolled_on", required=True)
    left_on = check.date("left_on")
    destination = values["destination"].lower()
    if left_on and destination not in Destination.values:
        check.fail(
            _("destination is required with left_on: one of %(choices)s") % {"choices": ", ".join(Destination.values)}
        )
    if not left_on and destination:
        check.fail(_("destination must be empty while the pupil is enrolled (left_on is empty)"))
    if not left_on and not group_name:
        check.fail(_("group is required while the pupil is enrolled"))
    if left_on and group_name and left_on < school_year_start:
        # Groups are those of this school year: a pupil who left before it was in none of them.
        check.fail(_("group must be empty for a pupil who left before this school year"))
    if birth_date and birth_date > today:
        check.fail(_("birth_date lies in the future"))
    elif birth_date and enrolled_on:
        age = _age_on(birth_date, enrolled_on)
        if not MIN_AGE_AT_ENROLMENT <= age <= MAX_AGE_AT_ENROLMENT:
            check.fail(
                _("birth_date and enrolled_on do not fit: the pupil must be %(min)d to %(max)d years old on enrolment")
                % {"min": MIN_AGE_AT_ENROLMENT, "max": MAX_AGE_AT_ENROLMENT}
            )
    if enrolled_on and enrolled_on > today + timedelta(days=MAX_DAYS_AHEAD):
        check.fail(_("enrolled_on lies more than a year ahead"))
    if left_on and enrolled_on and left_on < enrolled_on:
        check.fail(_("left_on lies before enrolled_on"))
    if left_on and left_on > today:
        check.fail(_("left_on lies in the future: import the unenrolment once the pupil has left"))
    address = check.address(required=False)
    guardians = tuple(g for g in (check.guardian(1, required=True), check.guardian(2, required=False)) if g)
    if not check.ok:
        return None
    return PupilRow(
        line=line,
        pupil_ref=pupil_ref,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        sex=sex,
        bsn=bsn,
        group_name=group_name,
        enrolled_on=enrolled_on,
        left_on=left_on,
        destination=destination if left_on else "",
        address=address,
        guardians=guardians,
    )


def _age_on(birth_date, day):
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def parse_pupil_file(fileobj_or_text, school=None):
    """Read and check a pupil file. Returns ParsedFile(rows, errors); rows
    holds only the good rows, so use them only when `errors` is empty. With a
    school, the checks against its groups and pupils are included."""
    records, errors = _read_csv(fileobj_or_text, PUPIL_COLUMNS)
    today = timezone.localdate()
    year_start = date(int(current_school_year(today)[:4]), 8, 1)
    rows = [row for line, values in records if (row := _pupil_row(line, values, errors, today, year_start)) is not None]
    _duplicates(rows, lambda r: r.pupil_ref, "pupil_ref", errors)
    _duplicates(rows, lambda r: r.bsn, "bsn", errors)
    if school is not None:
        errors.extend(_pupil_school_errors(rows, school))
    return ParsedFile(tuple(rows), tuple(sorted(errors)))


def _group_key(name):
    return " ".join(name.split()).casefold()


def _current_groups(school):
    groups = Group.objects.filter(school=school, school_year=current_school_year())
    return {_group_key(g.name): g for g in groups}


def _pupil_school_errors(rows, school):
    errors = []
    groups = _current_groups(school)
    year = current_school_year()
    for row in rows:
        if row.group_name and _group_key(row.group_name) not in groups:
            errors.append(
                RowError(row.line, _("group: the school has no group of this name in %(year)s") % {"year": year})
            )
    by_hash = {bsn_lookup_hash(row.bsn): row for row in rows if row.bsn}
    owners = Pupil.objects.filter(school=school, bsn_hash__in=list(by_hash)).values_list("bsn_hash", "pupil_ref")
    for bsn_hash, pupil_ref in owners:
        row = by_hash[bsn_hash]
        if pupil_ref != row.pupil_ref:
            if pupil_ref:
                reason = _("bsn belongs to another pupil of this school (pupil_ref %(ref)s)") % {"ref": pupil_ref}
            else:
                reason = _("bsn belongs to another pupil of this school, one without pupil_ref")
            errors.append(RowError(row.line, reason))
    return errors


# --- pupils: plan ------------------------------------------------------------------------


@dataclass(frozen=True)
class PupilAction:
    kind: str  # "create", "update" or "unchanged"
    row: PupilRow
    pupil: Pupil | None = None
    group: Group | None = None
    changes: tuple = ()  # names of what differs, never values


@dataclass(frozen=True)
class PupilPlan:
    school_id: int
    actions: tuple

    def count(self, kind):
        return sum(1 for a in self.actions if a.kind == kind)

    @property
    def has_changes(self):
        return any(a.kind != "unchanged" for a in self.actions)


def _enrolment_of(pupil):
    try:
        return pupil.enrolment
    except Enrolment.DoesNotExist:
        return None


def _current_address(pupil):
    addresses = list(pupil.addresses.all())  # prefetched, newest first (Meta.ordering)
    return addresses[0] if addresses else None


def _full_last_name(pupil):
    return " ".join(p for p in (pupil.name_prefix, pupil.last_name) if p)


def _match_links(links, guardians):
    """Pair each guardian of the row with one of the pupil's own links: by
    e-mail first, then by name, each link used once. {position: link or None}."""
    free = list(links)
    matched = {}
    rules = (
        lambda data, guardian: bool(data.email) and guardian.email.casefold() == data.email.casefold(),
        lambda data, guardian: str(guardian).casefold() == data.name.casefold(),
    )
    for rule in rules:
        for data in guardians:
            if data.position in matched:
                continue
            link = next((x for x in free if rule(data, x.guardian)), None)
            if link is not None:
                matched[data.position] = link
                free.remove(link)
    return {data.position: matched.get(data.position) for data in guardians}


def _guardian_changes(link, data):
    if link is None:
        return [f"guardian{data.position}"]
    guardian = link.guardian
    prefix = f"guardian{data.position}."
    changes = []
    # The file has one name cell: compare the whole name, so that a split
    # made by hand ("Anna Maria" + "de Vries") is not undone.
    if str(guardian) != data.name:
        changes.append(prefix + "name")
    if guardian.email != data.email:
        changes.append(prefix + "email")
    if guardian.phone != data.phone:
        changes.append(prefix + "phone")
    if link.has_authority != data.has_authority:
        changes.append(prefix + "authority")
    return changes


def _address_changes(pupil, row):
    if row.address is None:
        return []
    current = _current_address(pupil)
    if current is None:
        return ["address"]
    if current.source == Address.Source.BRP:
        return []  # the BRP is the authoritative register: the import does not overwrite it
    return ["address"] if row.address.differing_fields(AddressData.of(current)) else []


def _pupil_changes(pupil, row, group):
    changes = []
    if pupil.first_name != row.first_name:
        changes.append("first_name")
    if _full_last_name(pupil) != row.last_name:
        changes.append("last_name")
    if pupil.birth_date != row.birth_date:
        changes.append("birth_date")
    if pupil.sex != row.sex:
        changes.append("sex")
    if row.bsn and pupil.bsn_hash != bsn_lookup_hash(row.bsn):
        changes.append("bsn")
    if group is not None and pupil.group_id != group.pk:
        changes.append("group")
    if group is not None and pupil.year_group != group.grade:
        changes.append("year_group")
    enrolment = _enrolment_of(pupil)
    if enrolment is None:
        changes.append("enrolment")
    else:
        for name in ("enrolled_on", "left_on", "destination"):
            if getattr(enrolment, name) != getattr(row, name):
                changes.append(name)
    changes.extend(_address_changes(pupil, row))
    matched = _match_links(pupil.guardian_links.all(), row.guardians)
    for data in row.guardians:
        changes.extend(_guardian_changes(matched[data.position], data))
    return tuple(changes)


def plan_pupil_import(rows, school):
    """What importing `rows` into `school` would do, row by row. Only reads.
    Raises ImportRejected when rows fail the school's checks (unknown group, a
    BSN of another pupil)."""
    errors = _pupil_school_errors(rows, school)
    if errors:
        raise ImportRejected(errors)
    groups = _current_groups(school)
    existing = {
        p.pupil_ref: p
        for p in Pupil.objects.filter(school=school, pupil_ref__in=[r.pupil_ref for r in rows])
        .select_related("enrolment", "group")
        .prefetch_related("addresses", "guardian_links__guardian")
    }
    actions = []
    for row in rows:
        group = groups.get(_group_key(row.group_name)) if row.group_name else None
        pupil = existing.get(row.pupil_ref)
        if pupil is None:
            actions.append(PupilAction("create", row, group=group))
            continue
        changes = _pupil_changes(pupil, row, group)
        actions.append(PupilAction("update" if changes else "unchanged", row, pupil, group, changes))
    return PupilPlan(school.pk, tuple(actions))


# --- pupils: apply -----------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def apply_pupil_import(plan, school, acting_user=None, request=None, actor_label="import_pupils"):
    """Carry out `plan` in one transaction: pupils, enrolments, addresses,
    parents and enrolment events, with one audit event per created or changed
    pupil. Re-applying a plan of the same file finds everything unchanged."""
    if plan.school_id != school.pk:
        raise ValueError("the plan was made for another school")
    today = timezone.localdate()
    with transaction.atomic():
        for action in plan.actions:
            if action.kind == "create":
                pupil, details = _create_pupil(action, school)
            elif action.kind == "update":
                pupil, details = _update_pupil(action, today)
            else:
                continue
            audit_record(
                "dossier.imported",
                actor=acting_user,
                actor_label=actor_label,
                request=request,
                obj=pupil,
                pupil_id=pupil.pk,
                school_id=school.pk,
                details={"result": action.kind, **details},
            )
    return ImportResult(plan.count("create"), plan.count("update"), plan.count("unchanged"))


def _new_guardian(pupil, data):
    guardian = Guardian.objects.create(
        first_name=data.first_name, last_name=data.last_name, email=data.email, phone=data.phone
    )
    GuardianLink.objects.create(pupil=pupil, guardian=guardian, has_authority=data.has_authority)


def _new_address(pupil, address, valid_from, source, phone=""):
    Address.objects.create(
        pupil=pupil,
        street=address.street,
        house_number=address.house_number,
        postcode=address.postcode,
        city=address.city,
        phone=phone,
        valid_from=valid_from,
        source=source,
    )


def _create_pupil(action, school):
    row, group = action.row, action.group
    pupil = Pupil(
        school=school,
        pupil_ref=row.pupil_ref,
        first_name=row.first_name,
        last_name=row.last_name,
        birth_date=row.birth_date,
        sex=row.sex,
        group=group,
        year_group=group.grade if group else None,
    )
    pupil.set_bsn(row.bsn)
    pupil.save()
    Enrolment.objects.create(
        pupil=pupil,
        application_date=row.enrolled_on,
        placement_guarantee=True,
        enrolled_on=row.enrolled_on,
        left_on=row.left_on,
        destination=row.destination,
    )
    events = [EnrolmentEvent(pupil=pupil, date=row.enrolled_on, kind=EnrolmentEvent.Kind.ENROLMENT)]
    if row.left_on:
        events.append(
            EnrolmentEvent(pupil=pupil, date=row.left_on, kind=EnrolmentEvent.Kind.UNENROLMENT, note=row.destination)
        )
    EnrolmentEvent.objects.bulk_create(events)
    if row.address is not None:
        _new_address(pupil, row.address, row.enrolled_on, Address.Source.IMPORT)
    for data in row.guardians:
        _new_guardian(pupil, data)
    return pupil, {
        "bsn": bool(row.bsn),
        "addresses": int(row.address is not None),
        "guardians": len(row.guardians),
        "enrolment_events": len(events),
    }


def _ensure_event(pupil, day, kind, note=""):
    if not pupil.enrolment_events.filter(date=day, kind=kind).exists():
        EnrolmentEvent.objects.create(pupil=pupil, date=day, kind=kind, note=note)


def _update_pupil(action, today):
    pupil, row, group, changes = action.pupil, action.row, action.group, set(action.changes)
    fields = []
    for name in ("first_name", "birth_date", "sex"):
        if name in changes:
            setattr(pupil, name, getattr(row, name))
            fields.append(name)
    if "last_name" in changes:
        # The file has no prefix column: its last name includes the prefix.
        pupil.last_name, pupil.name_prefix = row.last_name, ""
        fields += ["last_name", "name_prefix"]
    if "bsn" in changes:
        pupil.set_bsn(row.bsn)
        fields += ["bsn", "bsn_hash"]
    old_group = pupil.group
    if "group" in changes:
        pupil.group = group
        fields.append("group")
    if "year_group" in changes:
        pupil.year_group = group.grade
        fields.append("year_group")
    if fields:
        pupil.save(update_fields=fields)
    if "group" in changes and old_group is not None:
        note = f"{old_group.name} → {group.name}"[:200]
        _ensure_event(pupil, today, EnrolmentEvent.Kind.GROUP_CHANGE, note)

    enrolment = _enrolment_of(pupil)
    if enrolment is None:
        Enrolment.objects.create(
            pupil=pupil,
            application_date=row.enrolled_on,
            placement_guarantee=True,
            enrolled_on=row.enrolled_on,
            left_on=row.left_on,
            destination=row.destination,
        )
        _ensure_event(pupil, row.enrolled_on, EnrolmentEvent.Kind.ENROLMENT)
    else:
        enrolment_fields = [n for n in ("enrolled_on", "left_on", "destination") if n in changes]
        for name in enrolment_fields:
            setattr(enrolment, name, getattr(row, name))
        if enrolment_fields:
            enrolment.save(update_fields=enrolment_fields)
        if "enrolled_on" in changes:
            _ensure_event(pupil, row.enrolled_on, EnrolmentEvent.Kind.ENROLMENT)
    if row.left_on and ("left_on" in changes or enrolment is None):
        _ensure_event(pupil, row.left_on, EnrolmentEvent.Kind.UNENROLMENT, row.destination)

    addresses = 0
    if "address" in changes:
        current = _current_address(pupil)
        # The new address must become the current one (newest valid_from), so
        # it is dated today, never before the address it replaces.
        if current is None:
            valid_from = row.enrolled_on
        else:
            valid_from = max(today, row.enrolled_on, current.valid_from)
        _new_address(pupil, row.address, valid_from, Address.Source.IMPORT, phone=current.phone if current else "")
        addresses = 1

    matched = _match_links(pupil.guardian_links.all(), row.guardians)
    guardians_created = guardians_updated = 0
    for data in row.guardians:
        link = matched[data.position]
        if link is None:
            _new_guardian(pupil, data)
            guardians_created += 1
            continue
        guardian, prefix, guardian_fields = link.guardian, f"guardian{data.position}.", []
        if prefix + "name" in changes:
            guardian.first_name, guardian.last_name = data.first_name, data.last_name
            guardian_fields += ["first_name", "last_name"]
        for name in ("email", "phone"):
            if prefix + name in changes:
                setattr(guardian, name, getattr(data, name))
                guardian_fields.append(name)
        if guardian_fields:
            guardian.save(update_fields=guardian_fields)
        if prefix + "authority" in changes:
            link.has_authority = data.has_authority
            link.save(update_fields=["has_authority"])
        if guardian_fields or prefix + "authority" in changes:
            guardians_updated += 1
    return pupil, {
        "changed": sorted(changes),
        "addresses": addresses,
        "guardians_created": guardians_created,
        "guardians_updated": guardians_updated,
    }


# --- BRP/DUO address updates -------------------------------------------------------------


def _brp_row(line, values, errors, today):
    check = _RowChecker(line, values, errors)
    bsn = check.bsn(required=True)
    check.text("first_name", max_length=200)
    check.text("last_name", max_length=200)
    address = check.address(required=True)
    date_of_change = check.date("date_of_change", required=True)
    if date_of_change and date_of_change > today:
        check.fail(_("date_of_change lies in the future"))
    if not check.ok:
        return None
    return BrpRow(line=line, bsn=bsn, address=address, date_of_change=date_of_change)


def parse_brp_file(fileobj_or_text, school=None):
    """Read and check a BRP/DUO file. Returns ParsedFile(rows, errors). With a
    school, a BSN that is neither a pupil's nor a parent's there is an error."""
    records, errors = _read_csv(fileobj_or_text, BRP_COLUMNS)
    today = timezone.localdate()
    rows = [row for line, values in records if (row := _brp_row(line, values, errors, today)) is not None]
    _duplicates(rows, lambda r: r.bsn, "bsn", errors)
    if school is not None:
        errors.extend(_brp_school_errors(rows, school))
    return ParsedFile(tuple(rows), tuple(sorted(errors)))


def _brp_matches(rows, school):
    hashes = {bsn_lookup_hash(row.bsn) for row in rows}
    pupils = list(Pupil.objects.filter(school=school, bsn_hash__in=hashes).prefetch_related("addresses"))
    guardians = list(
        Guardian.objects.filter(bsn_hash__in=hashes, pupil_links__pupil__school=school)
        .distinct()
        .prefetch_related("pupil_links__pupil")
    )
    return pupils, guardians


def _brp_school_errors(rows, school):
    pupils, guardians = _brp_matches(rows, school)
    known = {p.bsn_hash for p in pupils} | {g.bsn_hash for g in guardians}
    return [
        RowError(row.line, _("bsn is not known at this school (no pupil or parent has it)"))
        for row in rows
        if bsn_lookup_hash(row.bsn) not in known
    ]


@dataclass(frozen=True)
class AddressChange:
    line: int
    kind: str  # "change", "unchanged" or "outdated" (older than the current address)
    pupil: Pupil | None
    guardian: Guardian | None
    old: AddressData | None
    new: AddressData
    valid_from: date
    fields: tuple  # names of the address fields that change
    pupil_ids: tuple = ()  # the pupils of the school a parent is linked to

    @property
    def target(self):
        return self.pupil or self.guardian


@dataclass(frozen=True)
class BrpPlan:
    school_id: int
    changes: tuple

    def count(self, kind):
        return sum(1 for c in self.changes if c.kind == kind)


def plan_brp_import(rows, school):
    """Old and new address per matched pupil and parent. Only reads. Raises
    ImportRejected when a BSN is not known at the school."""
    errors = _brp_school_errors(rows, school)
    if errors:
        raise ImportRejected(errors)
    pupils, guardians = _brp_matches(rows, school)
    pupils_by_hash, guardians_by_hash = {}, {}
    for pupil in pupils:
        pupils_by_hash.setdefault(pupil.bsn_hash, []).append(pupil)
    for guardian in guardians:
        guardians_by_hash.setdefault(guardian.bsn_hash, []).append(guardian)
    changes = []
    for row in rows:
        bsn_hash = bsn_lookup_hash(row.bsn)
        for pupil in pupils_by_hash.get(bsn_hash, ()):
            current = _current_address(pupil)
            old = AddressData.of(current) if current else None
            fields = row.address.differing_fields(old)
            if not fields:
                kind = "unchanged"
            elif current is not None and current.valid_from > row.date_of_change:
                kind = "outdated"
            else:
                kind = "change"
            changes.append(AddressChange(row.line, kind, pupil, None, old, row.address, row.date_of_change, fields))
        for guardian in guardians_by_hash.get(bsn_hash, ()):
            old = AddressData.of(guardian)
            fields = row.address.differing_fields(old)
            pupil_ids = sorted(
                link.pupil_id for link in guardian.pupil_links.all() if link.pupil.school_id == school.pk
            )
            changes.append(
                AddressChange(
                    line=row.line,
                    kind="change" if fields else "unchanged",
                    pupil=None,
                    guardian=guardian,
                    old=old,
                    new=row.address,
                    valid_from=row.date_of_change,
                    fields=fields,
                    pupil_ids=tuple(pupil_ids),
                )
            )
    return BrpPlan(school.pk, tuple(changes))


def apply_brp_import(plan, school, acting_user=None, request=None, actor_label="import_brp"):
    """Carry out the changes of `plan` in one transaction, each audited. Returns
    the number of addresses changed."""
    if plan.school_id != school.pk:
        raise ValueError("the plan was made for another school")
    applied = 0
    with transaction.atomic():
        for change in plan.changes:
            if change.kind != "change":
                continue
            if change.pupil is not None:
                current = _current_address(change.pupil)
                _new_address(
                    change.pupil,
                    change.new,
                    change.valid_from,
                    Address.Source.BRP,
                    phone=current.phone if current else "",
                )
                pupil_id = change.pupil.pk
            else:
                guardian = change.guardian
                for name in ADDRESS_FIELDS:
                    setattr(guardian, name, getattr(change.new, name))
                guardian.save(update_fields=list(ADDRESS_FIELDS))
                pupil_id = change.pupil_ids[0] if change.pupil_ids else None
            audit_record(
                "dossier.address_updated_brp",
                actor=acting_user,
                actor_label=actor_label,
                request=request,
                obj=change.target,
                pupil_id=pupil_id,
                school_id=school.pk,
                details={
                    "source": "brp",
                    "person": "pupil" if change.pupil is not None else "guardian",
                    "fields": list(change.fields),
                    "linked_pupils": list(change.pupil_ids),
                },
            )
            applied += 1
    return applied
