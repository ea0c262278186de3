"""Filters for the deletion records' pages (R-RET-6, U-3)."""

from django import template

from retention.ruletext import display_rule

register = template.Library()


@register.filter
def record_rule(text):
    """A PurgeRecord's stored rule text in the active language."""
    return display_rule(text)
