"""Forms of the dossier. Validation of Dutch identifiers and plausible dates
happens here, so a bad input re-renders with a clear message and stores nothing."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from students.models import (
    Address,
    Agreement,
    AttendanceRecord,
    ConversationReport,
    Destination,
    EnrolmentEvent,
    FundingRecord,
    Guardian,
    HealthNote,
    PaperDossier,
    ProgressResult,
    Pupil,
    Sex,
    SupportNeed,
)
from students.validators import normalize_bsn, normalize_postcode, validate_bsn, validate_phone, validate_postcode

UPLOAD_MAX_BYTES = 5 * 1024 * 1024
# Allowed by content, not by name or browser-declared type (S-20).
MAGIC_TYPES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField that refuses a key that is not a row id
    before it reaches the query: Django looks the keys up with __in, and on
    SQLite a number beyond 64 bits raises OverflowError (a 500) instead of
    matching nothing (S-16)."""

    def clean(self, value):
        if isinstance(value, list | tuple):
            for key in value:
                text = str(key)
                if not (text.isascii() and text.isdigit() and int(text) < 2**63):
                    raise forms.ValidationError(
                        self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": key}
                    )
        return super().clean(value)


def _not_in_future(value, *, days=0):
    if value and value > timezone.localdate() + datetime.timedelta(days=days):
        raise forms.ValidationError(_("This date lies in the future."))


def _plausible_birth_date(value):
    today = timezone.localdate()
    if value > today - datetime.timedelta(days=365 * 2) or value < today - datetime.timedelta(days=365 * 16):
        raise forms.ValidationError(_("A pupil in primary school is between 2 and 16 years old."))


class PostcodeField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=7, validators=[validate_postcode], **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return normalize_postcode(value) if value else value


class BsnField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _("Nine digits; checked with the eleven test."))
        super().__init__(max_length=11, validators=[validate_bsn], **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return normalize_bsn(value) if value else value


class PupilForm(forms.ModelForm):
    bsn = BsnField(label=_("BSN"), required=False)

    class Meta:
        model = Pupil
        fields = ["first_name", "name_prefix", "last_name", "birth_date", "sex", "group", "year_group"]
        fields += ["mondzorg_registered"]
        widgets = {"birth_date": DateInput()}

    def __init__(self, *args, show_bsn, **kwargs):
        super().__init__(*args, **kwargs)
        pupil = self.instance
        self.fields["group"].queryset = pupil.school.groups.all() if pupil.school_id else self.fields["group"].queryset
        if show_bsn:
            # Never pre-filled: showing the BSN is an audited act of its own
            # (the dossier's "Show BSN" page, S-21); empty means unchanged.
            self.fields["bsn"].help_text = _("Leave empty to keep the recorded BSN; fill in to change it.")
        else:
            del self.fields["bsn"]

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        _plausible_birth_date(value)
        return value

    def clean_bsn(self):
        value = self.cleaned_data.get("bsn")
        others = Pupil.objects.with_bsn(value).filter(school=self.instance.school_id).exclude(pk=self.instance.pk)
        if value and others.exists():
            raise forms.ValidationError(_("Another pupil of this school has this BSN."))
        return value

    def save(self, commit=True):
        pupil = super().save(commit=False)
        if "bsn" in self.fields and self.cleaned_data.get("bsn"):
            pupil.set_bsn(self.cleaned_data["bsn"])
        if commit:
            pupil.save()
        return pupil


class ApplicationForm(forms.Form):
    """Aanmelding (R-DOS-1): the digital dossier starts here, once a placement
    guarantee applies."""

    school = forms.ModelChoiceField(label=_("School"), queryset=None)
    first_name = forms.CharField(label=_("First name"), max_length=100)
    name_prefix = forms.CharField(label=_("Prefix (tussenvoegsel)"), max_length=20, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    birth_date = forms.DateField(label=_("Birth date"), widget=DateInput())
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)
    bsn = BsnField(label=_("BSN"), required=False)
    application_date = forms.DateField(label=_("Application date"), widget=DateInput())
    placement_guarantee = forms.BooleanField(
        label=_("Placement guarantee given"),
        required=False,
        help_text=_("A digital dossier is only made for a child with a placement guarantee."),
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        _plausible_birth_date(value)
        return value

    def clean_application_date(self):
        value = self.cleaned_data["application_date"]
        _not_in_future(value)
        return value

    def clean_placement_guarantee(self):
        if not self.cleaned_data.get("placement_guarantee"):
            raise forms.ValidationError(
                _("Without a placement guarantee no dossier is made; register the application when it is given.")
            )
        return True

    def clean(self):
        data = super().clean()
        school, bsn = data.get("school"), data.get("bsn")
        if school and bsn and Pupil.objects.with_bsn(bsn).filter(school=school).exists():
            self.add_error("bsn", _("A pupil with this BSN already has a dossier at this school."))
        return data


class EnrolmentForm(forms.Form):
    application_date = forms.DateField(label=_("Application date"), widget=DateInput())
    placement_guarantee = forms.BooleanField(label=_("Placement guarantee"), required=False)
    enrolled_on = forms.DateField(label=_("Enrolment date"), required=False, widget=DateInput())
    left_on = forms.DateField(label=_("Unenrolment date"), required=False, widget=DateInput())
    destination = forms.ChoiceField(
        label=_("Destination"), choices=[("", "---------"), *Destination.choices], required=False
    )
    destination_school = forms.CharField(label=_("Destination school"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        enrolled, left = data.get("enrolled_on"), data.get("left_on")
        if left and not enrolled:
            self.add_error("left_on", _("An unenrolment needs an enrolment date first."))
        if enrolled and left and left < enrolled:
            self.add_error("left_on", _("The unenrolment date lies before the enrolment date."))
        if left and not data.get("destination"):
            self.add_error("destination", _("Say where the pupil went: it decides how long data is kept."))
        if data.get("destination") and not left:
            self.add_error("destination", _("A destination is only given with an unenrolment date."))
        for name in ("enrolled_on", "left_on"):
            if data.get(name) and data[name] > timezone.localdate() + datetime.timedelta(days=366):
                self.add_error(name, _("This date lies more than a year ahead."))
        return data


class GuardianForm(forms.ModelForm):
    postcode = PostcodeField(label=_("Postcode"), required=False)
    has_authority = forms.BooleanField(label=_("Parental authority (ouderlijk gezag)"), required=False)
    relation = forms.CharField(label=_("Relation"), max_length=40, required=False)

    class Meta:
        model = Guardian
        fields = ["first_name", "last_name", "email", "phone", "street", "house_number", "postcode", "city"]

    def clean_phone(self):
        value = self.cleaned_data["phone"]
        validate_phone(value)
        return value


class PaperDossierForm(forms.ModelForm):
    class Meta:
        model = PaperDossier
        fields = ["has_application_form", "has_pupil_card", "location"]


class AddressForm(forms.ModelForm):
    postcode = PostcodeField(label=_("Postcode"))

    class Meta:
        model = Address
        fields = ["street", "house_number", "postcode", "city", "phone", "valid_from"]
        widgets = {"valid_from": DateInput()}

    def clean_phone(self):
        value = self.cleaned_data["phone"]
        validate_phone(value)
        return value

    def clean_valid_from(self):
        value = self.cleaned_data["valid_from"]
        _not_in_future(value, days=366)
        return value


def _dated(model_form_meta_model, field_names, *, future_days=0):
    """A ModelForm for a dated record whose date may not lie in the future."""

    class RecordForm(forms.ModelForm):
        class Meta:
            model = model_form_meta_model
            fields = field_names
            widgets = {"date": DateInput(), "since": DateInput(), "reference_date": DateInput()}

        def clean(self):
            data = super().clean()
            for name in ("date", "since"):
                if data.get(name):
                    try:
                        _not_in_future(data[name], days=future_days)
                    except forms.ValidationError as exc:
                        self.add_error(name, exc)
            return data

    RecordForm.__name__ = f"{model_form_meta_model.__name__}Form"
    return RecordForm


EnrolmentEventForm = _dated(EnrolmentEvent, ["date", "kind", "note"], future_days=366)
AttendanceForm = _dated(AttendanceRecord, ["date", "hours", "authorised", "reason"])
FundingForm = _dated(FundingRecord, ["reference_date", "indicator", "value"])
SupportNeedForm = _dated(SupportNeed, ["since", "description"])
HealthNoteForm = _dated(HealthNote, ["date", "note", "needed_for"])
ProgressForm = _dated(ProgressResult, ["date", "test", "subject", "score", "level"])
ConversationForm = _dated(ConversationReport, ["date", "participants", "report"])
AgreementForm = _dated(Agreement, ["date", "text"], future_days=366)


class DocumentForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("PDF, PNG or JPEG, at most 5 MB."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        head = upload.read(16)
        upload.seek(0)
        for magic, content_type in MAGIC_TYPES:
            if head.startswith(magic):
                upload.detected_type = content_type
                return upload
        raise forms.ValidationError(_("Only PDF, PNG and JPEG files can be added."))


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False, max_length=100)
    group = forms.ModelChoiceField(label=_("Group"), queryset=None, required=False)

    def __init__(self, *args, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups


class BsnSearchForm(forms.Form):
    """Posted, never in the URL (S-13)."""

    bsn = BsnField(label=_("BSN (exact)"))
