"""Forms of the register and of the disclosures. Choices are always built from
what the user may reach (their schools, their visible pupils, the fields
their role may see), so a posted value outside it is a form error."""

from django import forms
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentCategory
from disclosures import fields as catalogue
from disclosures.actions import METHODS
from disclosures.models import Disclosure, LegalBasis, Recipient
from privacy_admin.forms import MonthField
from privacy_admin.models import Group
from privacy_admin.models.org import current_school_year
from students.forms import UPLOAD_MAX_BYTES, DateInput, IdsChoiceField

TEXT = forms.Textarea(attrs={"rows": 3})
CHECKBOXES = forms.CheckboxSelectMultiple


def _method_choices(kind):
    return [(m.value, m.label) for m in METHODS[kind]]


# --- The register ----------------------------------------------------------------


class RecipientForm(forms.ModelForm):
    scope = forms.ChoiceField(label=_("Applies to"))
    fields = forms.MultipleChoiceField(
        label=_("Allowed fields (whitelist)"),
        choices=catalogue.choices(),
        required=False,
        widget=CHECKBOXES,
        help_text=_(
            "Only these fields can ever be disclosed to this recipient. A processor gets at most "
            "name, birth date and year group."
        ),
    )
    agreement_document = forms.FileField(
        label=_("Processing agreement (PDF)"),
        required=False,
        help_text=_("PDF, at most 5 MB. Leave empty to keep the document already stored."),
    )

    class Meta:
        model = Recipient
        fields = [
            "name",
            "kind",
            "legal_basis",
            "purpose",
            "fields",
            "consent_category",
            "registered_pupils_only",
            "agreement_signed_on",
            "agreement_expires_on",
            "active",
        ]
        widgets = {
            "purpose": TEXT,
            "agreement_signed_on": DateInput(),
            "agreement_expires_on": DateInput(),
        }

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        schools = list(schools)
        foundations = {}
        for school in schools:
            foundations.setdefault(school.foundation_id, school.foundation)
        scopes = [(f"foundation:{f.pk}", _("%(name)s: every school") % {"name": f.name}) for f in foundations.values()]
        scopes += [(f"school:{s.pk}", s.name) for s in schools]
        self.fields["scope"].choices = scopes
        self.fields["consent_category"].queryset = ConsentCategory.objects.filter(
            school__in=schools, kind=ConsentCategory.Kind.CONSENT, active=True
        ).select_related("school")
        self.fields["consent_category"].label_from_instance = lambda c: f"{c.label_nl} ({c.school.name})"
        self.fields["consent_category"].help_text = _(
            "For a recipient with consent: the question whose 'yes' allows the disclosure (R-DIS-1)."
        )
        if self.instance.pk:
            # Where an entry applies, and the kind of a seeded entry, stay as
            # they are: other code finds the mandatory recipients by key.
            self.fields["scope"].disabled = True
            self.fields["scope"].required = False
            self.fields["scope"].initial = (
                f"school:{self.instance.school_id}"
                if self.instance.school_id
                else f"foundation:{self.instance.foundation_id}"
            )
            if self.instance.key:
                self.fields["kind"].disabled = True
        elif len(scopes) == 1:
            self.fields["scope"].initial = scopes[0][0]
        self._schools = {s.pk: s for s in schools}
        self._foundations = foundations
        self.order_fields(["scope", "name", "kind", "legal_basis", "purpose", "fields", "consent_category"])

    def clean_agreement_document(self):
        upload = self.cleaned_data.get("agreement_document")
        if not upload:
            return None
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        head = upload.read(5)
        upload.seek(0)
        if head != b"%PDF-":
            raise forms.ValidationError(_("Only a PDF file can be stored as the agreement."))
        upload.detected_type = "application/pdf"
        return upload

    def clean(self):
        # The whitelist and the processor's cap are the model's own checks
        # (Recipient.clean), run by the ModelForm after this.
        data = super().clean()
        signed, expires = data.get("agreement_signed_on"), data.get("agreement_expires_on")
        if signed and expires and expires < signed:
            self.add_error("agreement_expires_on", _("The agreement cannot expire before it was signed."))
        if not self.instance.pk:
            scope = data.get("scope", "")
            kind_of_scope, _sep, pk = scope.partition(":")
            if kind_of_scope == "school" and pk.isdigit() and int(pk) in self._schools:
                school = self._schools[int(pk)]
                self.instance.school = school
                self.instance.foundation = school.foundation
            elif kind_of_scope == "foundation" and pk.isdigit() and int(pk) in self._foundations:
                self.instance.school = None
                self.instance.foundation = self._foundations[int(pk)]
            else:
                self.add_error("scope", _("Choose where this entry applies."))
        return data


# --- Choosing pupils ----------------------------------------------------------------


class PupilChoiceMixin:
    """A group or named pupils of one school, among the pupils the user sees."""

    def _add_pupil_fields(self, pupils, school):
        self.fields["group"] = forms.ModelChoiceField(
            label=_("A whole group"),
            queryset=Group.objects.filter(school=school, school_year=current_school_year()).order_by("grade", "name"),
            required=False,
        )
        self.fields["pupils"] = IdsChoiceField(
            label=_("Or these pupils"),
            queryset=pupils.select_related("group").order_by("group__grade", "last_name", "first_name", "pk"),
            required=False,
            widget=CHECKBOXES,
        )
        self.fields["pupils"].label_from_instance = lambda p: (
            f"{p.full_name} ({p.group.name})" if p.group_id else p.full_name
        )
        self._pupils = pupils

    def chosen_pupils(self):
        data = self.cleaned_data
        chosen = {p.pk: p for p in data.get("pupils") or []}
        if data.get("group"):
            for pupil in self._pupils.filter(group=data["group"]):
                chosen.setdefault(pupil.pk, pupil)
        return sorted(chosen.values(), key=lambda p: (p.last_name, p.first_name, p.pk))

    def _check_pupils(self):
        if not self.errors and not self.chosen_pupils():
            raise forms.ValidationError(_("Choose a group or at least one pupil."))


class ExportForm(PupilChoiceMixin, forms.Form):
    """R-DIS-3, R-DIS-1, R-DIS-5: a register entry and pupils; the fields are
    the entry's whitelist, nothing to choose."""

    recipient = forms.ModelChoiceField(label=_("Recipient"), queryset=Recipient.objects.none())
    method = forms.ChoiceField(label=_("File"))

    def __init__(self, *args, kind, recipients, pupils, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = recipients
        self.fields["method"].choices = _method_choices(kind)
        self._add_pupil_fields(pupils, school)

    def clean(self):
        data = super().clean()
        self._check_pupils()
        return data


class FieldChoiceMixin:
    def _add_field_choice(self, recipient, capabilities, label=None):
        allowed = catalogue.allowed_for(recipient.fields, capabilities)
        self.fields["fields"] = forms.MultipleChoiceField(
            label=label or _("Which data"),
            choices=catalogue.choices(allowed),
            widget=CHECKBOXES,
            help_text=_("Only what is needed. Fields your role may not see are not offered."),
        )


class InspectieForm(FieldChoiceMixin, PupilChoiceMixin, forms.Form):
    """U-2: what the Inspectie asks to inspect or check."""

    recipient_detail = forms.CharField(
        label=_("Inspector and reference"),
        max_length=200,
        help_text=_("Who asked, and the reference of the request."),
    )
    purpose = forms.CharField(label=_("What the Inspectie wants to inspect or check"), widget=TEXT, max_length=2000)
    method = forms.ChoiceField(label=_("How it is disclosed"))

    def __init__(self, *args, recipient, capabilities, pupils, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = _method_choices(Disclosure.Kind.INSPECTIE)
        self.fields["purpose"].initial = recipient.purpose
        self._add_field_choice(recipient, capabilities)
        self._add_pupil_fields(pupils, school)
        self.order_fields(["recipient_detail", "purpose", "group", "pupils", "fields", "method"])

    def clean(self):
        data = super().clean()
        self._check_pupils()
        return data


class PupilDisclosureForm(FieldChoiceMixin, forms.Form):
    """An emergency or a report of suspected child abuse, about one pupil."""

    recipient_detail = forms.CharField(label=_("Given to"), max_length=200)
    purpose = forms.CharField(label=_("Why"), widget=TEXT, max_length=2000)
    method = forms.ChoiceField(label=_("How"))

    def __init__(self, *args, kind, recipient, capabilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = _method_choices(kind)
        if kind == Disclosure.Kind.EMERGENCY:
            self.fields["recipient_detail"].help_text = _("The doctor, hospital or emergency service.")
            self.fields["purpose"].label = _("What happened")
        else:
            self.fields["recipient_detail"].help_text = _("Veilig Thuis, and the person you spoke to.")
            self.fields["purpose"].label = _("The grounds of the report (meldcode)")
        self._add_field_choice(recipient, capabilities)
        self.order_fields(["recipient_detail", "purpose", "fields", "method"])


class TransferForm(forms.Form):
    """R-DIS-2: the receiving school; the report's content is fixed."""

    recipient_detail = forms.CharField(label=_("Receiving school"), max_length=200)
    method = forms.ChoiceField(label=_("How the report is sent"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = _method_choices(Disclosure.Kind.TRANSFER)


# --- The director ------------------------------------------------------------------------


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve: disclose")), ("refuse", _("Refuse: disclose nothing"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), widget=TEXT, max_length=2000)


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=_("Your review"),
        widget=TEXT,
        max_length=2000,
        help_text=_("Was the disclosure needed, and was no more given than needed?"),
    )


# --- Parents -----------------------------------------------------------------------------


class ParentViewForm(forms.Form):
    text = forms.CharField(label=_("Your view"), widget=forms.Textarea(attrs={"rows": 6}), max_length=5000)


class LogFilterForm(forms.Form):
    school = forms.ModelChoiceField(label=_("School"), queryset=None, required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    legal_basis = forms.ChoiceField(label=_("Legal basis"), required=False)
    # The month it was disclosed (disclosed_at, local time), as the dashboard's
    # chart counts it.
    month = MonthField(label=_("Month disclosed"))

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self.fields["kind"].choices = [("", _("All"))] + list(Disclosure.Kind.choices)
        self.fields["status"].choices = [("", _("All"))] + list(Disclosure.Status.choices)
        self.fields["legal_basis"].choices = [("", _("All"))] + list(LegalBasis.choices)

    def apply(self, rows):
        if not self.is_valid():
            return rows
        data = self.cleaned_data
        if data.get("school"):
            rows = rows.filter(school=data["school"])
        if data.get("kind"):
            rows = rows.filter(kind=data["kind"])
        if data.get("status"):
            rows = rows.filter(status=data["status"])
        if data.get("legal_basis"):
            rows = rows.filter(legal_basis=data["legal_basis"])
        if data.get("month"):
            start, end = data["month"]
            rows = rows.filter(disclosed_at__gte=start, disclosed_at__lt=end)
        return rows
