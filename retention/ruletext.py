"""A deletion record's rule in the reader's language (R-RET-6, U-3).

PurgeRecord.rule keeps the plain English that RetentionRule.description (or,
for the audit log's own term, auditterm.rule_text) wrote when the batch was
purged, several joined by "; ". The record is evidence, so that text is never
rewritten; the pages translate it when they show it instead.

Each part is parsed back into its category and term, and accepted only when
writing that term again gives exactly the same text: a wording this module
does not know (an older one, or a text cut off at 200 characters) is never
misread, and the whole text is then shown as stored. The words are those of
the rule screens (retention/_term.html), so a term reads the same everywhere.
"""

import re

from django.utils.translation import gettext, ngettext

from privacy_admin.records import RetentionCategory
from retention import auditterm
from retention.models import AUDIT_CATEGORY, RECORD_CATEGORIES, RetentionRule

SEPARATOR = "; "

_RULE = re.compile(
    r"(?P<category>[a-z]+): "
    r"(?:(?P<permanent>permanent)|(?:(?P<years>\d+) years? ?)?(?:(?P<months>\d+) months?)? after unenrolment)"
    r"(?P<special> \(left for special education\))?"
)
_AUDIT = re.compile(r"audit log: (?P<years>\d+) years? after the event")


def _term(years, months):
    """The same words and order as retention/_term.html."""
    parts = []
    if years:
        parts.append(ngettext("%(n)s year", "%(n)s years", years) % {"n": years})
    if months or not parts:
        parts.append(ngettext("%(n)s month", "%(n)s months", months) % {"n": months})
    return f" {gettext('and')} ".join(parts)


def _rule_part(text):
    """One part written by RetentionRule.description, or None."""
    match = _RULE.fullmatch(text)
    if match is None or match["category"] not in RetentionCategory.values:
        return None
    rule = RetentionRule(
        category=match["category"],
        years=int(match["years"] or 0),
        months=int(match["months"] or 0),
        permanent=bool(match["permanent"]),
        condition=RetentionRule.Condition.SPECIAL if match["special"] else RetentionRule.Condition.NONE,
    )
    if rule.description != text:
        return None
    if rule.permanent:
        term = gettext("kept permanently")
    else:
        term = f"{_term(rule.years, rule.months)} {gettext('after unenrolment')}"
    if rule.condition:
        term = f"{term} ({RetentionRule.Condition.SPECIAL.label})"
    return f"{RetentionCategory(rule.category).label}: {term}"


def _audit_part(text):
    """The audit log's own term (auditterm.rule_text), or None."""
    match = _AUDIT.fullmatch(text)
    if match is None or auditterm.rule_text(int(match["years"])) != text:
        return None
    label = dict(RECORD_CATEGORIES)[AUDIT_CATEGORY]
    return f"{label}: {_term(int(match['years']), 0)} {gettext('after the event')}"


def display_rule(text):
    """The stored rule text in the active language; unchanged when any part
    of it is not a text this system writes."""
    if not text:
        return text
    parts = []
    for part in text.split(SEPARATOR):
        shown = _rule_part(part) or _audit_part(part)
        if shown is None:
            return text
        parts.append(shown)
    return SEPARATOR.join(parts)
