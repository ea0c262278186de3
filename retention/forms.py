"""Forms of the retention screen and the legal holds. Bad input comes back
with a message on the field concerned and loses nothing already typed."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from retention.engine import LOCK_STALE_AFTER
from retention.models import PurgeRun, RetentionLock, RetentionSettings

MAX_YEARS = 100


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


# The dates the screen counts terms to: no data of this system is from before
# 2000, and terms of up to MAX_YEARS are counted back from the date.
EARLIEST_AS_OF = datetime.date(2000, 1, 1)
LATEST_AS_OF = datetime.date(2999, 12, 31)


def check_as_of(value):
    if value is not None and not EARLIEST_AS_OF <= value <= LATEST_AS_OF:
        raise forms.ValidationError(
            _("Choose a date between %(earliest)s and %(latest)s."),
            params={"earliest": EARLIEST_AS_OF.strftime("%d-%m-%Y"), "latest": LATEST_AS_OF.strftime("%d-%m-%Y")},
        )


class AsOfForm(forms.Form):
    """The date the screen counts the terms to (GET); today by default."""

    as_of = forms.DateField(
        label=_("Due on"),
        widget=DateInput(),
        validators=[check_as_of],
        help_text=_("What is due on this date. A purge can be confirmed for today or an earlier date."),
    )

    def __init__(self, data=None, **kwargs):
        if data is not None and not data.get("as_of"):
            data = None
        super().__init__(data, initial={"as_of": timezone.localdate()}, **kwargs)

    def chosen_date(self):
        """The chosen date, or today when none (or no valid one) was given."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["as_of"]
        return timezone.localdate()


def purge_busy(now=None):
    """A purge holds the lock, or a confirmed one waits for its worker: a new
    confirmation would only fail on the lock (S-27)."""
    now = now or timezone.now()
    locked = RetentionLock.objects.filter(pk=1, heartbeat_at__gte=now - LOCK_STALE_AFTER).exclude(holder="")
    waiting = PurgeRun.objects.filter(status=PurgeRun.Status.QUEUED, requested_at__gte=now - PurgeRun.STALLED_AFTER)
    return locked.exists() or waiting.exists()


class PurgeConfirmForm(forms.Form):
    """U-3: the date comes from the preview the admin saw; the box says they
    mean it. Checked again on posting: no date in the future, nothing else
    running."""

    as_of = forms.DateField(widget=forms.HiddenInput, validators=[check_as_of])
    confirm = forms.BooleanField(
        label=_("I have checked the list: delete this data for good"),
        help_text=_("Pupils under a legal hold are skipped. Address and contact data are kept."),
    )

    def clean(self):
        cleaned = super().clean()
        as_of = cleaned.get("as_of")
        if as_of is None:
            # A hidden field's own error would not show: say it here.
            raise forms.ValidationError(_("The date of the preview is missing or not valid. Open the preview again."))
        if as_of > timezone.localdate():
            raise forms.ValidationError(
                _("Data can only be purged as of today or an earlier date, never ahead of its term.")
            )
        if purge_busy():
            raise forms.ValidationError(_("Another purge is running at the moment. Try again when it has finished."))
        return cleaned


class RetentionModeForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("Nightly purge"),
        choices=RetentionSettings.Mode.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Propose: every night the job only notes what is due, and you confirm the purge here. "
            "Automatic: every night the job purges what is due, in the same way."
        ),
    )


class RuleTermForm(forms.Form):
    """A rule's term: years and months after unenrolment, or permanent."""

    years = forms.IntegerField(label=_("Years"), min_value=0, max_value=MAX_YEARS, required=False)
    months = forms.IntegerField(label=_("Months"), min_value=0, max_value=11, required=False)
    permanent = forms.BooleanField(label=_("Keep permanently"), required=False)

    def __init__(self, *args, rule, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule = rule

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        cleaned["years"] = cleaned.get("years") or 0
        cleaned["months"] = cleaned.get("months") or 0
        if cleaned.get("permanent"):
            cleaned["years"] = cleaned["months"] = 0
        elif cleaned["years"] == 0 and cleaned["months"] == 0:
            raise forms.ValidationError(_("Give a term of at least one month, or tick “keep permanently”."))
        current = (self.rule.years, self.rule.months, self.rule.permanent)
        if (cleaned["years"], cleaned["months"], bool(cleaned.get("permanent"))) == current:
            raise forms.ValidationError(_("This is the current term. Change it first."))
        return cleaned


class LegalHoldForm(forms.Form):
    """R-RET-6: the pupil is named by the facts the person asking for the hold
    knows (the FG has no dossier to pick from); the reason is sealed."""

    school = forms.ModelChoiceField(label=_("School"), queryset=None)
    first_name = forms.CharField(label=_("Pupil's first name"), max_length=100)
    last_name = forms.CharField(
        label=_("Pupil's last name"), max_length=130, help_text=_("With the prefix, e.g. “de Vries”.")
    )
    birth_date = forms.DateField(label=_("Birth date"), widget=DateInput())
    pupil_ref = forms.CharField(
        label=_("Pupil number"),
        max_length=40,
        required=False,
        help_text=_("Only needed when more than one pupil has this name and birth date."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "E.g. an ongoing dispute or a child-protection case. Stored encrypted; shown only to the "
            "director and the FG."
        ),
    )

    def __init__(self, *args, schools, pupils, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        if len(schools) == 1:
            self.fields["school"].initial = schools[0]
        self.pupils = pupils
        self.pupil = None

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give the reason for the hold."))
        return reason

    def clean(self):
        cleaned = super().clean()
        needed = ("school", "first_name", "last_name", "birth_date")
        if any(name not in cleaned for name in needed):
            return cleaned
        matches = [
            pupil
            for pupil in self.pupils.filter(
                school=cleaned["school"],
                first_name__iexact=cleaned["first_name"].strip(),
                birth_date=cleaned["birth_date"],
            )
            if _same_name(pupil, cleaned["last_name"])
        ]
        ref = cleaned.get("pupil_ref", "").strip()
        if ref:
            matches = [pupil for pupil in matches if pupil.pupil_ref == ref]
        if not matches:
            raise forms.ValidationError(_("No pupil of this school has this name and birth date."))
        if len(matches) > 1:
            self.add_error(
                "pupil_ref",
                _("More than one pupil has this name and birth date: give the pupil number as well."),
            )
            return cleaned
        self.pupil = matches[0]
        return cleaned


def _same_name(pupil, last_name):
    wanted = " ".join(last_name.lower().split())
    full = " ".join(f"{pupil.name_prefix} {pupil.last_name}".lower().split())
    return wanted in (full, pupil.last_name.lower())
