"""The NCO export to CBS (R-DIS-4): language and arithmetic results of one
school year, with the data CBS needs to link them to the Nationaal
Cohortonderzoek Onderwijs.

What goes: one CSV row per result, with exactly the columns of `COLUMNS`: BSN,
sex (M/V/X), birth date, full name, postcode and house number of the pupil,
then the result: domain ("taal" or "rekenen", below), the subject as recorded,
test, date, score and level. The address is the pupil's current one (the newest
students.Address, as everywhere in the dossier); a pupil without one is sent
with empty postcode and house number, and one without a BSN with an empty
BSN, so CBS can still link on the other fields.

Which results: students.ProgressResult rows dated inside the school year
(1 August to 31 July) whose subject is language or arithmetic, decided by
`result_domain`. The subject is free text in the dossier, so it is split into
words and a word that starts with one of the stems below decides the domain:
  language ("taal"):       taal, lezen, lees, spelling, woordenschat,
                           language, reading, vocabulary
                           (Begrijpend lezen, Technisch lezen, Spelling, Taal)
  arithmetic ("rekenen"):  reken, wiskunde, arithmetic, math, numeracy
                           (Rekenen, Rekenen-Wiskunde, Maths)
Any other subject (social-emotional, world orientation, ...) is not sent.

Who is left out: pupils whose parents objected to the research, recorded as
an answer in the consent category "onderzoek-nco" (kind objection; see
consent.services.effective_answers: one parent with parental authority who
objects is enough). A school without that category cannot export: without it
no objection could have been recorded.

Who may: a staff member who makes disclosures and may see the BSN at that
school (`disclosures.make` and `pupil.bsn`, S-13), and pupils only through
students.policy.visible_pupils. Every export is one Disclosure to CBS with the
pupil count and a DisclosurePupil row per pupil (R-DIS-7), audited in the same
transaction; a second export is a new act and a new disclosure. Cells that a
spreadsheet would read as a formula are neutralised (S-17).
"""

import csv
import io
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import ConsentCategory
from consent.services import effective_answers
from disclosures.leerplicht import school_year_bounds
from disclosures.models import Disclosure, DisclosurePupil, LegalBasis
from disclosures.policy import disclosable_pupils
from disclosures.seed import seeded_recipient
from privacy_admin.auditlog import audit_record
from privacy_admin.csvsafe import csv_cell
from privacy_admin.models import School
from privacy_admin.roles import capabilities_for
from students.models import Address, ProgressResult

COLUMNS = (
    "bsn",
    "sex",
    "birth_date",
    "full_name",
    "postcode",
    "house_number",
    "domain",
    "subject",
    "test",
    "test_date",
    "score",
    "level",
)

LANGUAGE = "taal"
ARITHMETIC = "rekenen"
LANGUAGE_STEMS = ("taal", "lezen", "lees", "spelling", "woordenschat", "language", "reading", "vocabulary")
ARITHMETIC_STEMS = ("reken", "wiskunde", "arithmetic", "math", "numeracy")

OBJECTION_CATEGORY_KEY = "onderzoek-nco"
NEEDED_CAPABILITIES = ("disclosures.make", "pupil.bsn")

# Keys of the field catalogue (disclosures/fields.py) that leave with the
# export: the whitelist of the seeded recipient "cbs". The columns themselves
# follow CBS's delivery format (codes, one row per result), so the export
# reads them here rather than through fields.rows().
EXPORT_FIELDS = ["bsn", "sex", "birth_date", "full_name", "postcode", "house_number", "results"]
RECIPIENT_KEY = "cbs"


class NcoRefused(Exception):
    """The export cannot be made; the message says why (no personal data)."""


def result_domain(subject):
    """LANGUAGE, ARITHMETIC or None for a result's free-text subject."""
    for word in re.split(r"[^\w]+", (subject or "").lower()):
        if not word:
            continue
        if word.startswith(ARITHMETIC_STEMS):
            return ARITHMETIC
        if word.startswith(LANGUAGE_STEMS):
            return LANGUAGE
    return None


def nco_schools(user):
    """Schools where the user may make the NCO export: both capabilities
    through one current membership."""
    ids = [
        m.school_id
        for m in user.memberships_today()
        if all(cap in capabilities_for(m.role) for cap in NEEDED_CAPABILITIES)
    ]
    return School.objects.filter(pk__in=ids).order_by("name")


@dataclass
class NcoExport:
    school: School
    school_year: str
    rows: list = field(default_factory=list)
    pupils: list = field(default_factory=list)
    objected: int = 0

    def csv_text(self):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for row in self.rows:
            writer.writerow([csv_cell(value) for value in row])
        return buffer.getvalue()

    @property
    def filename(self):
        return f"nco-{self.school.brin}-{self.school_year}.csv"


def _current_address(pupil):
    addresses = pupil.addresses.all()  # prefetched, newest first (Address.Meta.ordering)
    return addresses[0] if addresses else None


def nco_collect(*, school, school_year, user):
    """What the export would hold; reads only. NcoRefused when the user may
    not export for the school or there is nothing to send."""
    if not nco_schools(user).filter(pk=school.pk).exists():
        raise NcoRefused(_("You cannot make the NCO export for this school."))
    try:
        start, end = school_year_bounds(school_year)
    except ValueError:
        raise NcoRefused(_("Give the school year as 2025-2026.")) from None
    category = ConsentCategory.objects.filter(school=school, key=OBJECTION_CATEGORY_KEY).first()
    if category is None:
        raise NcoRefused(
            _("The school has no consent category for the NCO research, so objections cannot have been recorded.")
        )
    results = ProgressResult.objects.filter(date__gte=start, date__lte=end).order_by("date", "pk")
    pupils = list(
        disclosable_pupils(user, school)
        .filter(results__date__gte=start, results__date__lte=end)
        .distinct()
        .order_by("last_name", "first_name", "pk")
        .prefetch_related(
            Prefetch("results", queryset=results, to_attr="year_results"),
            Prefetch("addresses", queryset=Address.objects.order_by("-valid_from", "-pk")),
        )
    )
    answers = effective_answers(pupils, [category])
    export = NcoExport(school=school, school_year=school_year)
    for pupil in pupils:
        mapped = [(result_domain(r.subject), r) for r in pupil.year_results]
        mapped = [(domain, r) for domain, r in mapped if domain is not None]
        if not mapped:
            continue
        if not answers[(pupil.pk, category.pk)].allowed:
            export.objected += 1
            continue
        address = _current_address(pupil)
        person = [
            pupil.bsn,
            pupil.sex,
            pupil.birth_date.isoformat(),
            pupil.full_name,
            address.postcode if address else "",
            address.house_number if address else "",
        ]
        for domain, result in mapped:
            export.rows.append(
                [*person, domain, result.subject, result.test, result.date.isoformat(), result.score, result.level]
            )
        export.pupils.append(pupil)
    if not export.pupils:
        raise NcoRefused(_("There are no language or arithmetic results to export for this school year."))
    return export


@transaction.atomic
def nco_export(*, school, school_year, acting_user, request=None):
    """Collect the export and record it as one disclosure to CBS with its
    pupils, audited in the same transaction. Returns (disclosure, export)."""
    export = nco_collect(school=school, school_year=school_year, user=acting_user)
    recipient = seeded_recipient(school.foundation, RECIPIENT_KEY)
    if not recipient.active or set(EXPORT_FIELDS) - set(recipient.fields):
        raise NcoRefused(
            _("The register's entry for CBS is inactive or does not allow every NCO field; correct the register first.")
        )
    now = timezone.now()
    disclosure = Disclosure.objects.create(
        school=school,
        recipient=recipient,
        recipient_detail="CBS",
        kind=Disclosure.Kind.NCO,
        legal_basis=LegalBasis.PUBLIC_TASK,
        # The record is the school's own register: in Dutch, like the recipients.
        purpose=f"NCO: toetsresultaten taal en rekenen van schooljaar {school_year}",
        fields=list(EXPORT_FIELDS),
        method=Disclosure.Method.CSV,
        status=Disclosure.Status.DISCLOSED,
        requested_by=acting_user,
        requested_at=now,
        decided_by=acting_user,
        decided_at=now,
        disclosed_at=now,
        pupil_count=len(export.pupils),
    )
    DisclosurePupil.objects.bulk_create([DisclosurePupil(disclosure=disclosure, pupil=p) for p in export.pupils])
    audit_record(
        "disclosure.nco_export",
        actor=acting_user,
        request=request,
        obj=disclosure,
        school_id=school.pk,
        details={
            "school_year": school_year,
            "pupils": len(export.pupils),
            "results": len(export.rows),
            "left_out_objection": export.objected,
        },
    )
    return disclosure, export
