"""Forms of parents' requests: the parent's request (R-RGT-1, R-RGT-2) and the
director's appointment, extension, refusal and decision (R-RGT-3, R-RGT-4).
Bad input re-renders with a message and stores nothing."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from disclosures.rights import deadlines
from disclosures.rights.models import ParentRequest, Part
from disclosures.rights.policy import present_staff_choices
from students.forms import DateInput

TEXT_MAX = 4000


def _textarea(rows=4):
    return forms.Textarea(attrs={"rows": rows})


class ParentRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What do you ask for?"), choices=ParentRequest.Kind.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Anything the school should know for the appointment"),
        help_text=_("For example on which days or at which times you can come. Optional."),
        required=False,
        max_length=TEXT_MAX,
        widget=_textarea(3),
    )
    part = forms.ChoiceField(
        label=_("Which part of the dossier is it about?"),
        choices=[("", "---------"), *Part.choices],
        required=False,
    )
    what = forms.CharField(
        label=_("What is wrong?"),
        help_text=_("Point at the data: which record, which date, which words."),
        required=False,
        max_length=TEXT_MAX,
        widget=_textarea(),
    )
    reason = forms.CharField(
        label=_("Why should it be corrected or removed?"),
        help_text=_("For a correction, also say what is right."),
        required=False,
        max_length=TEXT_MAX,
        widget=_textarea(),
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") in (ParentRequest.Kind.CORRECT, ParentRequest.Kind.REMOVE):
            for name, message in (
                ("part", _("Choose the part of the dossier that is wrong.")),
                ("what", _("Say what is wrong.")),
                ("reason", _("Say why.")),
            ):
                if not data.get(name):
                    self.add_error(name, message)
        return data

    def values(self):
        data = self.cleaned_data
        if data["kind"] == ParentRequest.Kind.VIEW:
            return {"kind": data["kind"], "what": data["note"]}
        return {"kind": data["kind"], "part": data["part"], "what": data["what"], "reason": data["reason"]}


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class ScheduleForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput())
    time = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    place = forms.CharField(label=_("Place"), max_length=200, help_text=_("For example the room at school."))
    staff = StaffChoiceField(
        label=_("Staff member present"),
        queryset=None,
        help_text=_("Someone of the school who sees the whole dossier; they are present during the viewing."),
    )

    def __init__(self, *args, parent_request, **kwargs):
        super().__init__(*args, **kwargs)
        self.parent_request = parent_request
        self.fields["staff"].queryset = present_staff_choices(parent_request.pupil.school)
        if timezone.localdate() <= parent_request.due_on:
            self.fields["date"].help_text = _("On or before %(date)s, the deadline of this request.") % {
                "date": parent_request.due_on.strftime("%d-%m-%Y")
            }

    def clean(self):
        data = super().clean()
        if data.get("date") and data.get("time"):
            at = timezone.make_aware(datetime.datetime.combine(data["date"], data["time"]))
            # The same rule the action applies (R-RGT-3), as a field error.
            refusal = self.parent_request.appointment_refusal(at)
            if refusal:
                self.add_error("date", refusal)
            data["at"] = at
        return data


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Extend by"),
        coerce=int,
        choices=[(1, _("one month")), (2, _("two months"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        help_text=_("The parent reads this in the parents' portal."),
        max_length=TEXT_MAX,
        widget=_textarea(),
    )

    def __init__(self, *args, parent_request, **kwargs):
        super().__init__(*args, **kwargs)
        received_on = parent_request.received_on
        self.fields["months"].choices = [
            (months, _("%(months)s (new deadline %(date)s)") % {"months": label, "date": _date(received_on, months)})
            for months, label in ((1, _("one month")), (2, _("two months")))
        ]


def _date(received_on, months):
    return deadlines.due_date(received_on, months).strftime("%d-%m-%Y")


class RefuseForm(forms.Form):
    ground = forms.ChoiceField(
        label=_("Ground for the refusal (BW art. 1:377c)"),
        choices=ParentRequest.RefusalGround.choices,
        widget=forms.RadioSelect,
        help_text=_("A parent without parental authority is refused only on one of these grounds."),
    )
    motivation = forms.CharField(
        label=_("Written motivation"),
        help_text=_("The parent reads this in the parents' portal."),
        max_length=TEXT_MAX,
        widget=_textarea(6),
    )

    def __init__(self, *args, parent_request, **kwargs):
        super().__init__(*args, **kwargs)
        if parent_request.requester_has_authority:
            del self.fields["ground"]


class CompleteForm(forms.Form):
    decision = forms.CharField(
        label=_("What was done"),
        help_text=_("The parent reads this in the parents' portal."),
        max_length=TEXT_MAX,
        widget=_textarea(),
    )


class ViewingForm(forms.Form):
    held_on = forms.DateField(label=_("Held on"), widget=DateInput())
    attendees = forms.CharField(
        label=_("Who attended"),
        help_text=_("Names and roles: the parent(s), the staff member present, anyone else."),
        max_length=300,
    )

    def clean_held_on(self):
        value = self.cleaned_data["held_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("This date lies in the future."))
        return value


class ListFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("open", _("Open requests")), ("answered", _("Answered requests")), ("all", _("All requests"))],
    )

    def apply(self, requests):
        state = self.cleaned_data.get("state") if self.is_valid() else ""
        if state == "answered":
            return requests.filter(answered_at__isnull=False)
        if state == "all":
            return requests
        return requests.open()
