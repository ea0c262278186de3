"""The register of processing activities (AVG art. 30), generated, never typed.

It is put together from what the system already holds, so it cannot drift
from practice:
  - the recipients and processors of the register (disclosures.Recipient):
    name, kind, legal basis, purpose, the whitelisted fields and, for a
    processor, the state of its processing agreement;
  - the consent categories of each school (consent.ConsentCategory) with the
    current question;
  - the retention rules (retention.RetentionRule): category and term.
It holds no pupil data, only the register's own rows.

Who sees which schools: the FG (a foundation role with `disclosures.view`)
every school of the foundation; a director or application admin (a school role
with `disclosures.view`) their own school. Recipients for the whole foundation
(no school) appear for everyone who sees one of its schools; a school's own
recipients only with that school.
"""

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from consent.forms_staff import ui_language
from consent.models import ConsentCategory
from disclosures import policy
from disclosures.models import LegalBasis, Recipient
from privacy_admin.models import Foundation, School
from privacy_admin.records import RetentionCategory
from retention.models import RetentionRule

CAPABILITY = "disclosures.view"

LEGAL_BASIS_ARTICLES = {
    LegalBasis.CONSENT: "AVG art. 6(1)(a)",
    LegalBasis.LEGAL_OBLIGATION: "AVG art. 6(1)(c)",
    LegalBasis.VITAL_INTEREST: "AVG art. 6(1)(d)",
    LegalBasis.PUBLIC_TASK: "AVG art. 6(1)(e)",
}


def register_schools(user):
    """The schools whose register the user may read: the FG's whole
    foundation, a director's or application admin's own school."""
    return policy.schools_with(user, CAPABILITY).select_related("foundation").order_by("foundation__name", "name")


@dataclass
class RecipientRow:
    recipient: Recipient
    fields: list  # catalogue labels of the whitelist
    agreement: str | None = None  # Recipient.agreement_state(): ok, expiring, expired, missing

    @property
    def article(self):
        return LEGAL_BASIS_ARTICLES.get(self.recipient.legal_basis, "")


@dataclass
class SchoolCategories:
    school: School
    categories: list  # of (ConsentCategory, label, current question text)


@dataclass
class FoundationRegister:
    foundation: Foundation
    schools: list
    recipients: list = field(default_factory=list)
    processors: list = field(default_factory=list)
    consent: list = field(default_factory=list)


@dataclass(frozen=True)
class RetentionRow:
    category: str
    label: str
    rule: RetentionRule


def retention_rows():
    labels = dict(RetentionCategory.choices)
    order = {value: index for index, value in enumerate(RetentionCategory.values)}
    rules = sorted(RetentionRule.objects.all(), key=lambda r: (order.get(r.category, len(order)), r.condition))
    return [RetentionRow(rule.category, labels.get(rule.category, rule.category), rule) for rule in rules]


def processing_register(schools, today=None):
    """One FoundationRegister per foundation of `schools` (a queryset from
    register_schools), in a fixed number of queries."""
    today = today or timezone.localdate()
    language = ui_language()
    schools = list(schools)
    registers = {}
    for school in schools:
        registers.setdefault(
            school.foundation_id, FoundationRegister(foundation=school.foundation, schools=[])
        ).schools.append(school)
    school_ids = [s.pk for s in schools]
    recipients = (
        Recipient.objects.filter(foundation_id__in=registers, active=True)
        .filter(Q(school=None) | Q(school_id__in=school_ids))
        .select_related("school", "consent_category")
        .order_by("kind", "name", "pk")
    )
    for recipient in recipients:
        register = registers[recipient.foundation_id]
        if recipient.kind == Recipient.Kind.PROCESSOR:
            register.processors.append(
                RecipientRow(recipient, recipient.field_labels, recipient.agreement_state(today))
            )
        else:
            register.recipients.append(RecipientRow(recipient, recipient.field_labels))
    categories = (
        ConsentCategory.objects.filter(school_id__in=school_ids)
        .prefetch_related("versions")
        .order_by("school__name", "order", "pk")
    )
    by_school = {}
    for category in categories:
        versions = sorted(category.versions.all(), key=lambda v: v.number)
        question = versions[-1].text(language) if versions else ""
        by_school.setdefault(category.school_id, []).append((category, category.label(language), question))
    for school in schools:
        registers[school.foundation_id].consent.append(SchoolCategories(school, by_school.get(school.pk, [])))
    return list(registers.values())
