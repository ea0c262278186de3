from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from breaches.models import Breach
from privacy_admin.forms import MonthField

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
TEXT = forms.Textarea(attrs={"rows": 3})


class ReportForm(forms.Form):
    school = forms.ModelChoiceField(
        label=_("School"), queryset=None, required=False, empty_label=_("The whole foundation / not one school")
    )
    aware_at = forms.DateTimeField(label=_("When did you notice it?"), widget=DATETIME)
    what_happened = forms.CharField(label=_("What happened?"), widget=TEXT, max_length=5000)
    data_concerned = forms.CharField(label=_("Which data or system?"), widget=TEXT, max_length=2000)
    approx_pupils = forms.IntegerField(label=_("Roughly how many pupils?"), min_value=0, required=False)
    ongoing = forms.BooleanField(label=_("It is still going on"), required=False)

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        if schools.count() == 1:
            self.fields["school"].initial = schools.first()

    def clean_aware_at(self):
        value = self.cleaned_data["aware_at"]
        if value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError(_("This moment is in the future."))
        return value


class AssessForm(forms.ModelForm):
    effects = forms.MultipleChoiceField(
        label=_("What happened to the data"),
        choices=Breach.Effect.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    data_categories = forms.MultipleChoiceField(
        label=_("Data categories"),
        choices=Breach.DataCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Breach
        fields = [
            "started_at",
            "ended_at",
            "discovered_how",
            "effects",
            "data_categories",
            "approx_records",
            "approx_people",
            "groups_affected",
            "measures_before",
            "consequences",
            "measures_taken",
        ]
        widgets = {
            "started_at": DATETIME,
            "ended_at": DATETIME,
            "discovered_how": TEXT,
            "groups_affected": TEXT,
            "measures_before": TEXT,
            "consequences": TEXT,
            "measures_taken": TEXT,
        }

    def clean(self):
        data = super().clean()
        if data.get("started_at") and data.get("ended_at") and data["ended_at"] < data["started_at"]:
            self.add_error("ended_at", _("The end lies before the start."))
        return data


YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class _YesNoForm(forms.ModelForm):
    yes_no_field = ""
    reason_field = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.yes_no_field
        self.fields[field] = forms.TypedChoiceField(
            label=self._meta.model._meta.get_field(field).verbose_name.capitalize(),
            choices=YES_NO,
            coerce=lambda v: v == "yes",
            widget=forms.RadioSelect,
        )
        current = getattr(self.instance, field)
        if current is not None:
            self.initial[field] = "yes" if current else "no"
        self.fields[self.reason_field].required = True


class DecideForm(_YesNoForm):
    yes_no_field = "ap_notify"
    reason_field = "ap_notify_reason"

    class Meta:
        model = Breach
        fields = ["severity", "severity_explanation", "consequences", "ap_notify", "ap_notify_reason"]
        widgets = {"severity_explanation": TEXT, "consequences": TEXT, "ap_notify_reason": TEXT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["severity"].required = True
        self.fields["severity_explanation"].required = True


class ApNotifiedForm(forms.ModelForm):
    class Meta:
        model = Breach
        fields = ["ap_notified_at", "ap_reference", "late_reason"]
        widgets = {"ap_notified_at": DATETIME, "late_reason": TEXT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ap_notified_at"].required = True
        self.fields["ap_reference"].required = True

    def clean(self):
        data = super().clean()
        at = data.get("ap_notified_at")
        if at and at > timezone.now() + timezone.timedelta(minutes=5):
            self.add_error("ap_notified_at", _("This moment is in the future."))
        elif at and self.instance.is_late(at) and not (data.get("late_reason") or "").strip():
            # AVG art. 33(1): a notification after 72 hours states the reasons for the delay.
            self.add_error("late_reason", _("The AP was notified after the 72-hour deadline: give the reason."))
        return data


class PeopleForm(_YesNoForm):
    yes_no_field = "people_told"
    reason_field = "people_told_reason"

    class Meta:
        model = Breach
        fields = ["people_told", "people_told_at", "people_told_whom", "people_told_reason"]
        widgets = {"people_told_at": DATETIME, "people_told_whom": TEXT, "people_told_reason": TEXT}

    def clean(self):
        data = super().clean()
        if data.get("people_told"):
            if not data.get("people_told_at"):
                self.add_error("people_told_at", _("Say when the people concerned were told."))
            if not (data.get("people_told_whom") or "").strip():
                self.add_error("people_told_whom", _("Say who was told, and how."))
        return data


class CloseForm(forms.ModelForm):
    class Meta:
        model = Breach
        fields = ["measures_taken", "lessons_learned"]
        widgets = {"measures_taken": TEXT, "lessons_learned": TEXT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = True


STEP_FORMS = {
    "assess": (AssessForm, _("Record the details (register)")),
    "decide": (DecideForm, _("Decide: notify the AP or not")),
    "ap": (ApNotifiedForm, _("Record the notification to the AP")),
    "people": (PeopleForm, _("Tell the people concerned, or record why not")),
    "close": (CloseForm, _("Close the incident")),
}


class RegisterFilterForm(forms.Form):
    school = forms.ModelChoiceField(label=_("School"), queryset=None, required=False)
    state = forms.ChoiceField(
        label=_("State"),
        choices=[("", "---------"), ("open", _("Open (not closed)")), *Breach.State.choices],
        required=False,
    )
    notified = forms.ChoiceField(
        label=_("AP notified"), choices=[("", "---------"), ("yes", _("Yes")), ("no", _("No"))], required=False
    )
    # The month the incident was noticed (aware_at, local time), as the
    # dashboard's chart counts it.
    month = MonthField(label=_("Month noticed"))

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools

    def apply(self, qs):
        if not self.is_valid():
            return qs
        data = self.cleaned_data
        if data["school"]:
            qs = qs.filter(school=data["school"])
        if data["state"] == "open":
            qs = qs.open()
        elif data["state"]:
            qs = qs.filter(state=data["state"])
        if data["month"]:
            start, end = data["month"]
            qs = qs.filter(aware_at__gte=start, aware_at__lt=end)
        if data["notified"] == "yes":
            qs = qs.filter(ap_notified_at__isnull=False)
        elif data["notified"] == "no":
            qs = qs.filter(ap_notified_at__isnull=True)
        return qs
