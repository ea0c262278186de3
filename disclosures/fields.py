"""The fixed catalogue of dossier fields that can leave the school (R-DIS-3,
R-DIS-5, R-DIS-7).

A recipient's whitelist is a list of keys of CATALOGUE; every export, report
and on-screen disclosure reads pupil data only through `rows()` below, and only
for the keys it is given, so a field that is not on the whitelist cannot leak
by accident. Each field says which part of the dossier it belongs to and, for
the BSN and health data, which capability the person disclosing must hold
(S-13). Values are plain text (or a list of lines for fields with several
records); formatting for CSV or PDF is the caller's business.

Reading many pupils costs a fixed number of queries: each field names the
relations it needs, and `rows()` prefetches them once for all pupils.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

ADMINISTRATIVE = "administrative"
SUBSTANTIVE = "substantive"


def _date(value):
    return value.isoformat() if value else ""


def _current_address(pupil):
    addresses = list(pupil.addresses.all())  # newest first (Address.Meta.ordering)
    return addresses[0] if addresses else None


def _address(pupil):
    address = _current_address(pupil)
    if address is None:
        return ""
    return f"{address.street} {address.house_number}, {address.postcode} {address.city}".strip()


def _postcode(pupil):
    address = _current_address(pupil)
    return address.postcode if address else ""


def _house_number(pupil):
    address = _current_address(pupil)
    return address.house_number if address else ""


def _guardians(pupil):
    return [link.guardian for link in sorted(pupil.guardian_links.all(), key=lambda link: link.pk)]


def _guardian_names(pupil):
    return [str(g) for g in _guardians(pupil)]


def _guardian_emails(pupil):
    return [g.email for g in _guardians(pupil) if g.email]


def _guardian_phones(pupil):
    return [g.phone for g in _guardians(pupil) if g.phone]


def _last_name(pupil):
    return " ".join(part for part in (pupil.name_prefix, pupil.last_name) if part)


def _group(pupil):
    return pupil.group.name if pupil.group_id else ""


def _year_group(pupil):
    return str(pupil.year_group) if pupil.year_group else ""


def _school_history(pupil):
    lines = []
    enrolment = getattr(pupil, "enrolment", None)
    if enrolment is not None:
        lines.append(
            _("%(school)s: applied %(applied)s, enrolled %(enrolled)s")
            % {
                "school": pupil.school.name,
                "applied": _date(enrolment.application_date),
                "enrolled": _date(enrolment.enrolled_on) or "-",
            }
        )
        if enrolment.left_on:
            lines.append(
                _("Left %(date)s (%(destination)s)")
                % {"date": _date(enrolment.left_on), "destination": enrolment.get_destination_display() or "-"}
            )
    for event in pupil.enrolment_events.all():
        note = f": {event.note}" if event.note else ""
        lines.append(f"{_date(event.date)} {event.get_kind_display()}{note}")
    return lines


def _results(pupil):
    lines = []
    for result in pupil.results.all():
        level = f" ({result.level})" if result.level else ""
        lines.append(f"{_date(result.date)} {result.test}, {result.subject}: {result.score}{level}")
    return lines


def _support_given(pupil):
    lines = [f"{_date(need.since)} {need.description}" for need in pupil.support_needs.all()]
    lines += [f"{_date(agreement.date)} {agreement.text}" for agreement in pupil.agreements.all()]
    return lines


def _social_emotional(pupil):
    return [f"{_date(report.date)} {report.report}" for report in pupil.conversations.all()]


def _absence_last_year(pupil):
    since = timezone.localdate() - datetime.timedelta(days=365)
    records = [r for r in pupil.attendance.all() if r.date >= since]
    authorised = sum((r.hours for r in records if r.authorised), start=0)
    unauthorised = sum((r.hours for r in records if not r.authorised), start=0)
    lines = [
        _("Since %(since)s: %(authorised)s hours authorised, %(unauthorised)s hours unauthorised absence")
        % {"since": _date(since), "authorised": authorised, "unauthorised": unauthorised}
    ]
    for record in records:
        kind = _("authorised") if record.authorised else _("unauthorised")
        reason = f", {record.reason}" if record.reason else ""
        lines.append(f"{_date(record.date)} {record.hours} h ({kind}{reason})")
    return lines


def _health(pupil):
    return [f"{_date(note.date)} {note.note} ({note.needed_for})" for note in pupil.health_notes.all()]


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    part: str
    read: object  # pupil -> str | list[str]
    prefetch: tuple = ()
    # S-13: the capability the person disclosing must hold at the pupil's school.
    capability: str | None = None
    # The dossier's record type, for the access policy (students.policy).
    record_type: str = field(default="contact")


_FIELDS = [
    Field("full_name", gettext_lazy("Full name"), ADMINISTRATIVE, lambda p: p.full_name),
    Field("first_name", gettext_lazy("First name"), ADMINISTRATIVE, lambda p: p.first_name),
    Field("last_name", gettext_lazy("Last name"), ADMINISTRATIVE, _last_name),
    Field("birth_date", gettext_lazy("Birth date"), ADMINISTRATIVE, lambda p: _date(p.birth_date)),
    Field("sex", gettext_lazy("Sex"), ADMINISTRATIVE, lambda p: p.get_sex_display()),
    Field("bsn", gettext_lazy("BSN"), ADMINISTRATIVE, lambda p: p.bsn or "", capability="pupil.bsn"),
    Field("group", gettext_lazy("Group"), ADMINISTRATIVE, _group, prefetch=("group",)),
    Field("year_group", gettext_lazy("Year group (leerjaar)"), ADMINISTRATIVE, _year_group),
    Field("address", gettext_lazy("Address"), ADMINISTRATIVE, _address, prefetch=("addresses",)),
    Field("postcode", gettext_lazy("Postcode"), ADMINISTRATIVE, _postcode, prefetch=("addresses",)),
    Field("house_number", gettext_lazy("House number"), ADMINISTRATIVE, _house_number, prefetch=("addresses",)),
    Field(
        "guardian_names",
        gettext_lazy("Parents/guardians: names"),
        ADMINISTRATIVE,
        _guardian_names,
        prefetch=("guardian_links__guardian",),
    ),
    Field(
        "guardian_emails",
        gettext_lazy("Parents/guardians: e-mail"),
        ADMINISTRATIVE,
        _guardian_emails,
        prefetch=("guardian_links__guardian",),
    ),
    Field(
        "guardian_phones",
        gettext_lazy("Parents/guardians: phone"),
        ADMINISTRATIVE,
        _guardian_phones,
        prefetch=("guardian_links__guardian",),
    ),
    Field(
        "school_history",
        gettext_lazy("School history (enrolment and events)"),
        ADMINISTRATIVE,
        _school_history,
        prefetch=("school", "enrolment", "enrolment_events"),
        record_type="enrolment_event",
    ),
    Field(
        "absence_last_year",
        gettext_lazy("Absence of the last year"),
        ADMINISTRATIVE,
        _absence_last_year,
        prefetch=("attendance",),
        record_type="attendance",
    ),
    Field(
        "results",
        gettext_lazy("Progress and results"),
        SUBSTANTIVE,
        _results,
        prefetch=("results",),
        record_type="progress",
    ),
    Field(
        "support_given",
        gettext_lazy("Support given (support needs and agreements)"),
        SUBSTANTIVE,
        _support_given,
        prefetch=("support_needs", "agreements"),
        record_type="support",
    ),
    Field(
        "social_emotional",
        gettext_lazy("Social-emotional development (conversation reports)"),
        SUBSTANTIVE,
        _social_emotional,
        prefetch=("conversations",),
        record_type="conversation",
    ),
    Field(
        "health",
        gettext_lazy("Health data needed for care"),
        SUBSTANTIVE,
        _health,
        prefetch=("health_notes",),
        capability="pupil.health",
        record_type="health",
    ),
]

CATALOGUE = {f.key: f for f in _FIELDS}

# R-DIS-5: a processor gets at most name, birth date and year group.
PROCESSOR_FIELDS = ("full_name", "birth_date", "year_group")

# R-DIS-2: the onderwijskundig rapport for the receiving school, in this order.
TRANSFER_FIELDS = (
    "full_name",
    "birth_date",
    "sex",
    "address",
    "postcode",
    "house_number",
    "guardian_names",
    "guardian_phones",
    "guardian_emails",
    "group",
    "year_group",
    "school_history",
    "results",
    "social_emotional",
    "support_given",
    "absence_last_year",
)


def choices(keys=None):
    """(key, label) pairs in catalogue order, for a form's checkboxes."""
    keys = CATALOGUE.keys() if keys is None else set(keys)
    return [(f.key, f.label) for f in _FIELDS if f.key in keys]


def ordered(keys):
    """The known keys among `keys`, in catalogue order, without duplicates."""
    wanted = set(keys)
    return [f.key for f in _FIELDS if f.key in wanted]


def labels(keys):
    return [str(CATALOGUE[k].label) for k in keys if k in CATALOGUE]


def unknown(keys):
    return [k for k in keys if k not in CATALOGUE]


def missing_capabilities(keys, capabilities):
    """Keys among `keys` whose capability the holder of `capabilities` lacks (S-13)."""
    return [k for k in keys if CATALOGUE[k].capability and CATALOGUE[k].capability not in capabilities]


def allowed_for(keys, capabilities):
    """The keys whose capability (if any) is among `capabilities`."""
    return [k for k in keys if k in CATALOGUE and k not in missing_capabilities([k], capabilities)]


def rows(pupils, keys):
    """[(pupil, {key: value})] for exactly `keys`, which must all be in the
    catalogue. The one way disclosures read pupil data."""
    bad = unknown(keys)
    if bad:
        raise KeyError(f"not in the field catalogue: {bad}")
    pupils = list(pupils)
    lookups = sorted({lookup for k in keys for lookup in CATALOGUE[k].prefetch})
    if lookups and pupils:
        prefetch_related_objects(pupils, *lookups)
    return [(pupil, {k: CATALOGUE[k].read(pupil) for k in keys}) for pupil in pupils]


def as_text(value, separator=" | "):
    """One cell of text: lists joined."""
    if isinstance(value, list | tuple):
        return separator.join(str(v) for v in value)
    return "" if value is None else str(value)
