"""Corrections and removals on a parent's request (R-RGT-2), made through the
dossier's own forms and named actions (students.actions), so the dossier's
audit trail stays one: a correction is the same `dossier.record_changed` (or
`dossier.changed`, `dossier.guardian_changed`) event a change on the dossier
page writes, plus the request's own record of it.

The dossier's records keep no history of their own, so the old and the new
value of every changed field are kept in the DossierCorrection (encrypted).
What a correction may touch is what the handler's dossier access lets them
edit (students.policy); anything else is a 404.
"""

import datetime
from dataclasses import dataclass

from django.db import models
from django.http import Http404
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from disclosures.rights.models import Part
from students import actions, forms
from students.models import Document, GuardianLink
from students.policy import record_for
from students.views import RECORD_TYPES

# Parts a handler can change here, and parts whose records can be removed.
CORRECTABLE = ("pupil", "guardian", *RECORD_TYPES)
REMOVABLE = (*RECORD_TYPES, "document")
_DATE_FIELDS = ("date", "since", "valid_from", "reference_date")
_TITLES = {
    "pupil": gettext_lazy("Pupil data"),
    "guardian": gettext_lazy("Parent/guardian"),
    "document": gettext_lazy("Document"),
}


@dataclass
class Target:
    """One thing in the dossier a correction or removal is about."""

    part: str
    record: object
    link: GuardianLink | None = None

    @property
    def title(self):
        if self.part in RECORD_TYPES:
            return RECORD_TYPES[self.part][2]
        return _TITLES[self.part]

    @property
    def label(self):
        """Type and date: enough to find the record, no content (it is kept
        beside the audit log and after a removal)."""
        day = next((getattr(self.record, n) for n in _DATE_FIELDS if getattr(self.record, n, None)), None)
        if self.part == "document":
            day = self.record.uploaded_at.date() if self.record.uploaded_at else None
        if self.part == "guardian" and self.link is not None and self.link.relation:
            return f"{self.title} ({self.link.relation})"
        return f"{self.title} {day:%d-%m-%Y}" if day else str(self.title)

    @property
    def record_id(self):
        return self.link.pk if self.link is not None else self.record.pk

    @property
    def removable(self):
        return self.part in REMOVABLE

    @property
    def correctable(self):
        return self.part in CORRECTABLE


def _may_edit(access, part):
    if part in ("pupil", "guardian"):
        return access.edit_core
    return access.can_edit(part)


def part_choices(access):
    """The parts this access can correct or remove records of."""
    return [
        (value, label) for value, label in Part.choices if value in CORRECTABLE + REMOVABLE and _may_edit(access, value)
    ]


def targets(access, part):
    """Every record of `part` in the pupil's dossier that the access may edit."""
    if part not in CORRECTABLE + REMOVABLE or not _may_edit(access, part):
        return []
    pupil = access.pupil
    if part == "pupil":
        return [Target("pupil", pupil)]
    if part == "guardian":
        links = GuardianLink.objects.filter(pupil=pupil).select_related("guardian").order_by("pk")
        return [Target("guardian", link.guardian, link) for link in links]
    if part == "document":
        documents = Document.objects.filter(pupil=pupil).only("pk", "pupil_id", "uploaded_at", "size", "filename")
        return [Target("document", d) for d in documents.order_by("-uploaded_at", "-pk")]
    model = RECORD_TYPES[part][0]
    return [Target(part, record) for record in model.objects.filter(pupil=pupil)]


def target(access, part, record_id):
    """One record of the pupil's dossier the access may edit; 404 otherwise,
    the same for a record of another pupil (S-11)."""
    if part not in CORRECTABLE + REMOVABLE or not _may_edit(access, part):
        raise Http404
    if part == "pupil":
        if record_id != access.pupil.pk:
            raise Http404
        return Target("pupil", access.pupil)
    if part == "guardian":
        link = GuardianLink.objects.filter(pk=record_id, pupil=access.pupil).select_related("guardian").first()
        if link is None:
            raise Http404
        return Target("guardian", link.guardian, link)
    model = Document if part == "document" else RECORD_TYPES[part][0]
    return Target(part, record_for(access, model, record_id))


def correction_form(target, data=None):
    """The dossier's own form for the record, with the values as they stand
    taken before validation (a ModelForm writes the posted values into its
    instance while it validates)."""
    if not target.correctable:
        raise Http404
    if target.part == "pupil":
        form = forms.PupilForm(data, instance=target.record, show_bsn=False)
    elif target.part == "guardian":
        initial = {"has_authority": target.link.has_authority, "relation": target.link.relation}
        form = forms.GuardianForm(data, instance=target.record, initial=initial)
    else:
        form = RECORD_TYPES[target.part][1](data, instance=target.record)
    form.values_before = {name: _current(form, name) for name in form.fields}
    return form


def _current(form, name):
    instance = form.instance
    try:
        field = instance._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a form field that is no model field
        return form.initial.get(name)
    return getattr(instance, field.name)


def _text(form, name, value):
    """How a value reads in the record of a correction."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime.date):
        return date_format(value, "d-m-Y")
    if isinstance(value, models.Model):
        return str(value)
    choices = getattr(form.fields[name], "choices", None)
    if choices is not None:
        return str(dict(choices).get(value, value))
    return str(value)


def changes(form):
    """[{field, label, old, new}] for every field the valid form changes."""
    rows = []
    for name in form.changed_data:
        old = _text(form, name, form.values_before.get(name))
        new = _text(form, name, form.cleaned_data.get(name))
        if old == new:
            continue
        rows.append({"field": name, "label": str(form.fields[name].label), "old": old, "new": new})
    return rows


def save(access, target, form, *, request):
    """Write the change through the dossier's named action (it audits)."""
    if target.part == "pupil":
        actions.pupil_update(access, form, request=request)
    elif target.part == "guardian":
        actions.guardian_save(access, form, request=request, link=target.link)
    else:
        actions.record_save(access, form, request=request, record_type=target.part)


def remove(access, target, *, request):
    if not target.removable:
        raise Http404
    actions.record_delete(access, target.record, request=request, record_type=target.part)
