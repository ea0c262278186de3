"""Retention categories every record model declares (S-26).

A model that holds pupil data says which category it belongs to with a class
attribute `retention_category`; the retention engine (retention/) finds the
models through Django's app registry and never imports an app by name. The
terms themselves are configuration (R-RET-5), not code.
"""

import functools

from django.db import models
from django.utils.translation import gettext_lazy as _


class RetentionCategory(models.TextChoices):
    CONTACT = "contact", _("Address and contact data")
    ENROLMENT = "enrolment", _("Enrolment and unenrolment")
    ATTENDANCE = "attendance", _("Attendance and absence")
    FUNDING = "funding", _("Funding data")
    SUBSTANTIVE = "substantive", _("Substantive part")
    # Consent answers are evidence (R-CON-7): kept as long as enrolment data.
    CONSENT = "consent", _("Consent history")
    # The disclosure log (R-DIS-7) and parents' requests (R-RGT-1..4): shown to
    # parents and evidence of what the school did; kept like enrolment data.
    DISCLOSURES = "disclosures", _("Disclosures to third parties")
    REQUESTS = "requests", _("Parents' requests")


def retention_category_of(model):
    return getattr(model, "retention_category", None)


def pupil_linked_models():
    """Every concrete model with a foreign key (or one-to-one) to the pupil model."""
    from django.apps import apps

    if apps.ready:
        # The registry is fixed once ready; the retention screen asks for
        # every category on every page view (bench/portal.py).
        return list(_pupil_linked_models_ready())
    return _pupil_linked_models()


@functools.cache
def _pupil_linked_models_ready():
    return tuple(_pupil_linked_models())


def _pupil_linked_models():
    from django.apps import apps

    try:
        pupil_model = apps.get_model("students", "Pupil")
    except LookupError:
        return []
    linked = []
    for model in apps.get_models():
        if model is pupil_model:
            linked.append(model)
            continue
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model is pupil_model:
                linked.append(model)
                break
            if field.many_to_many and field.concrete and field.related_model is pupil_model:
                linked.append(model)
                break
    return linked
