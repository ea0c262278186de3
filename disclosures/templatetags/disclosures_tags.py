"""Disclosures on the dashboard: processors without a valid processing
agreement (R-DIS-5), and for the director the requests and emergencies that
wait (U-2). An inclusion tag, so the core's home view needs no import of this
app: `{% load disclosures_tags %}{% disclosures_warnings %}`."""

from django import template

register = template.Library()


@register.inclusion_tag("disclosures/_warnings.html", takes_context=True)
def disclosures_warnings(context):
    from disclosures.models import Disclosure
    from disclosures.policy import decidable_disclosures
    from disclosures.views import agreement_warnings

    request = context.get("request")
    user = getattr(request, "user", None)
    result = {"warnings": [], "can_register": False, "pending": 0, "to_review": 0}
    if user is None or not user.is_authenticated:
        return result
    if user.has_capability("disclosures.register") or user.has_capability("disclosures.view"):
        result["warnings"] = agreement_warnings(user)
        result["can_register"] = user.has_capability("disclosures.register")
    if user.has_capability("requests.decide"):
        rows = decidable_disclosures(user)
        result["pending"] = rows.filter(status=Disclosure.Status.PENDING).count()
        result["to_review"] = rows.filter(
            kind=Disclosure.Kind.EMERGENCY, status=Disclosure.Status.DISCLOSED, reviewed_at=None
        ).count()
    return result
