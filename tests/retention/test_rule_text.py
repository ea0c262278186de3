"""A deletion record's stored English rule text, shown in the reader's
language (R-RET-6): the parser of retention.ruletext, unit-tested directly."""

import re

import pytest
from django.utils import translation

from retention import auditterm
from retention.models import RetentionRule
from retention.ruletext import display_rule

# Words of the stored English that must not survive a Dutch rendering.
ENGLISH = re.compile(r"\b(?:years?|months?|after|unenrolment|permanent|left for special education|event)\b")

CONSTRUCTED = [
    (RetentionRule(category="attendance", years=1), "Attendance and absence: 1 year after unenrolment"),
    (RetentionRule(category="funding", months=1), "Funding data: 1 month after unenrolment"),
    (
        RetentionRule(category="consent", years=2, months=6),
        "Consent history: 2 years and 6 months after unenrolment",
    ),
    (RetentionRule(category="contact", permanent=True), "Address and contact data: kept permanently"),
    (
        RetentionRule(category="substantive", years=3, condition="special"),
        "Substantive part: 3 years after unenrolment (left for special education)",
    ),
    (RetentionRule(category="enrolment", months=7), "Enrolment and unenrolment: 7 months after unenrolment"),
]


def _seeded():
    return list(RetentionRule.objects.all())


def test_constructed_rules_read_back_in_english_and_dutch():
    """R-RET-6: every shape of term description writes (1 year, 1 month,
    years and months, permanent, special education) reads back as a text
    with the category's label in English, and without English in Dutch."""
    for rule, english in CONSTRUCTED:
        with translation.override("en"):
            assert display_rule(rule.description) == english
        with translation.override("nl"):
            dutch = display_rule(rule.description)
        assert dutch != rule.description and not ENGLISH.search(dutch), dutch
        assert not dutch.startswith(f"{rule.category}:"), dutch
    with translation.override("nl"):
        assert display_rule(CONSTRUCTED[2][0].description) == (
            "Geschiedenis van toestemmingen: 2 jaar en 6 maanden na uitschrijving"
        )
        assert display_rule(CONSTRUCTED[4][0].description) == (
            "Inhoudelijk gedeelte: 3 jaar na uitschrijving (uitgestroomd naar speciaal onderwijs)"
        )


@pytest.mark.django_db
def test_every_seeded_rule_and_their_joined_text_read_back():
    """R-RET-6: each seeded rule's description, and all of them joined by
    "; " as a record joins a category's rules, is understood in English and
    shown without English words in Dutch."""
    rules = _seeded()
    assert len(rules) >= 9
    for rule in rules:
        with translation.override("en"):
            english = display_rule(rule.description)
        assert english != rule.description and english.endswith(
            ("after unenrolment", "kept permanently", "(left for special education)")
        ), english
        assert english.startswith(f"{rule.get_category_display()}: "), english
        with translation.override("nl"):
            dutch = display_rule(rule.description)
        assert not ENGLISH.search(dutch), dutch
    joined = "; ".join(rule.description for rule in rules)
    with translation.override("en"):
        parts = display_rule(joined).split("; ")
        assert parts == [display_rule(rule.description) for rule in rules]
    with translation.override("nl"):
        assert not ENGLISH.search(display_rule(joined))


def test_audit_log_term_reads_back():
    """R-RET-6 (S-23): the audit log's own term, as auditterm writes it."""
    with translation.override("en"):
        assert display_rule(auditterm.rule_text(5)) == "Audit log: 5 years after the event"
        assert display_rule(auditterm.rule_text(1)) == "Audit log: 1 year after the event"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "substantive: 2 years",
        "substantive: 2 year after unenrolment",  # not how description writes 2
        "substantive: 1 years after unenrolment",
        "substantive: 0 years 3 months after unenrolment",
        "unknown: 2 years after unenrolment",
        "contact: permanent after unenrolment",
        "Substantive: 2 years after unenrolment",
        "substantive: 2 years after unenrolment; substantive: 3 years after unenr",  # cut off at 200
        "free text from an older version",
    ],
)
def test_text_it_cannot_parse_is_shown_unchanged(text):
    """R-RET-6: a text that is not exactly one description writes is shown
    as stored, whole, in any language."""
    for language in ("en", "nl"):
        with translation.override(language):
            assert display_rule(text) == text
