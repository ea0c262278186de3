import datetime

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from breaches.models import MAX_PEOPLE, Breach
from privacy_admin.forms import MonthField

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
TEXT = forms.Textarea(attrs={"rows": 3})

# Bounds of every moment on the breach forms (S-16). Without them year 1
# overflows the database's date range (a 500) and a mistyped year (0202 for
# 2026) is stored and sets the 72-hour clock centuries back.
#
# Noticing the breach, and notifying the AP or the people concerned after it:
# not before 25 May 2018, when the AVG took effect. This is the AVG's register
# (art. 33(5)) and its 72-hour clock (art. 33(1)); a breach the school knew of
# before then fell under the old Wbp, not under this register.
AVG_IN_FORCE = datetime.date(2018, 5, 25)
# When the breach itself started and ended: it may have begun long before
# anyone noticed (a share left open for years), so a looser floor. A start
# before 2000, 18 years before the AVG, is far likelier a mistyped year than a
# fact; the description can still tell of anything older.
OLDEST_START = datetime.date(2000, 1, 1)
# A workstation clock a few minutes fast must not make "just now" the future.
CLOCK_SKEW = datetime.timedelta(minutes=5)


def _local(moment):
    return timezone.localtime(moment).strftime("%d-%m-%Y %H:%M")


def moment_validator(earliest):
    """A validator for a moment: not before local midnight of `earliest`,
    not in the future."""

    def validate(value):
        floor = datetime.datetime.combine(earliest, datetime.time.min, tzinfo=timezone.get_default_timezone())
        if value < floor:
            raise forms.ValidationError(
                _("This moment lies before %(earliest)s: check the year."),
                code="too_early",
                params={"earliest": earliest.strftime("%d-%m-%Y")},
            )
        if value > timezone.now() + CLOCK_SKEW:
            raise forms.ValidationError(_("This moment is in the future."), code="future")

    return validate


class _BoundedMoments:
    """Puts moment_validator on the date-time fields named in `moments`
    (field name: earliest date)."""

    moments = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, earliest in self.moments.items():
            self.fields[name].validators.append(moment_validator(earliest))

    def _not_before_aware(self, name, message):
        """The school cannot have acted on a breach before it knew of it."""
        at = self.cleaned_data.get(name)
        if at and at < self.instance.aware_at:
            self.add_error(name, forms.ValidationError(message, params={"aware": _local(self.instance.aware_at)}))
            return False
        return True


class ReportForm(forms.Form):
    school = forms.ModelChoiceField(
        label=_("School"), queryset=None, required=False, empty_label=_("The whole foundation / not one school")
    )
    aware_at = forms.DateTimeField(
        label=_("When did you notice it?"), widget=DATETIME, validators=[moment_validator(AVG_IN_FORCE)]
    )
    what_happened = forms.CharField(label=_("What happened?"), widget=TEXT, max_length=5000)
    data_concerned = forms.CharField(label=_("Which data or system?"), widget=TEXT, max_length=2000)
    approx_pupils = forms.IntegerField(
        label=_("Roughly how many pupils?"), min_value=0, max_value=MAX_PEOPLE, required=False
    )
    ongoing = forms.BooleanField(label=_("It is still going on"), required=False)

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        if schools.count() == 1:
            self.fields["school"].initial = schools.first()


class AssessForm(_BoundedMoments, forms.ModelForm):
    moments = {"started_at": OLDEST_START, "ended_at": OLDEST_START}

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
            # capfirst, not str.capitalize: "melden bij de AP" keeps its AP.
            label=capfirst(self._meta.model._meta.get_field(field).verbose_name),
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


class ApNotifiedForm(_BoundedMoments, forms.ModelForm):
    moments = {"ap_notified_at": AVG_IN_FORCE}

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
        in_order = self._not_before_aware(
            "ap_notified_at",
            _("The AP cannot have been notified before the school knew of the breach (%(aware)s)."),
        )
        if in_order and at and self.instance.is_late(at) and not (data.get("late_reason") or "").strip():
            # AVG art. 33(1): a notification after 72 hours states the reasons for the delay.
            self.add_error("late_reason", _("The AP was notified after the 72-hour deadline: give the reason."))
        return data


class PeopleForm(_BoundedMoments, _YesNoForm):
    yes_no_field = "people_told"
    reason_field = "people_told_reason"
    moments = {"people_told_at": AVG_IN_FORCE}

    class Meta:
        model = Breach
        fields = ["people_told", "people_told_at", "people_told_whom", "people_told_reason"]
        widgets = {"people_told_at": DATETIME, "people_told_whom": TEXT, "people_told_reason": TEXT}

    def clean(self):
        data = super().clean()
        self._not_before_aware(
            "people_told_at",
            _("The people concerned cannot have been told before the school knew of the breach (%(aware)s)."),
        )
        if data.get("people_told"):
            if not data.get("people_told_at") and "people_told_at" not in self.errors:
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
