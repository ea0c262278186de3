"""Forms of the publication check (R-CON-4, R-CON-5). Choices are limited to
the user's schools and the pupils they may see, so a forged value is a form
error and stores nothing."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentCategory, Publication
from privacy_admin.models import Group
from students.forms import DateInput, DocumentForm, IdsChoiceField
from students.models import Guardian

CAPTION_HELP = _(
    "Never the names of children: photos and videos never carry children's names. "
    "A caption with a pupil's first or last name blocks publishing."
)
# A publication is registered around the time it is made or planned.
DATE_MARGIN = datetime.timedelta(days=366)


class ChannelField(forms.ModelChoiceField):
    def __init__(self, *args, show_school=False, **kwargs):
        self.show_school = show_school
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        label = obj.label("en" if (get_language() or "nl").startswith("en") else "nl")
        return f"{label} ({obj.school.name})" if self.show_school else label


class PublicationForm(forms.ModelForm):
    """What can change while the publication is a draft."""

    class Meta:
        model = Publication
        fields = ["date", "description", "caption"]
        widgets = {"date": DateInput(), "caption": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "description": _("What the photos or video show, e.g. 'sports day, group 5'."),
            "caption": CAPTION_HELP,
        }

    def clean_date(self):
        value = self.cleaned_data["date"]
        today = timezone.localdate()
        if value < today - DATE_MARGIN or value > today + DATE_MARGIN:
            raise forms.ValidationError(_("Give a date within a year from today."))
        return value


class PublicationNewForm(PublicationForm):
    school = forms.ModelChoiceField(label=_("School"), queryset=None)
    channel = ChannelField(
        label=_("Channel"),
        queryset=None,
        help_text=_(
            "Only the parent app is covered by the parents' general consent; every other channel "
            "needs a written consent for this publication per pupil."
        ),
    )

    class Meta(PublicationForm.Meta):
        fields = ["school", "channel", "date", "description", "caption"]

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self.fields["channel"].queryset = ConsentCategory.objects.filter(
            school__in=schools, active=True, is_publication_channel=True
        ).select_related("school")
        self.fields["channel"].show_school = len(schools) > 1
        self.order_fields(["school", "channel", "date", "description", "caption"])

    def clean(self):
        data = super().clean()
        school, channel = data.get("school"), data.get("channel")
        if school and channel and channel.school_id != school.pk:
            self.add_error("channel", _("This channel belongs to another school."))
        return data


class GroupFilterForm(forms.Form):
    group = forms.ModelChoiceField(label=_("Group"), queryset=None, required=False, empty_label=_("All groups"))

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = Group.objects.filter(school=school).order_by("-school_year", "grade", "name")


class PupilsForm(forms.Form):
    """The pupils who appear, ticked from those the user may see (S-12)."""

    pupils = IdsChoiceField(
        label=_("Pupils who appear"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, pupils, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pupils"].queryset = pupils


class OneOffConsentForm(DocumentForm):
    """R-CON-4: the explicit written consent of a parent with parental
    authority for this one publication, optionally with the scan."""

    guardian = forms.ModelChoiceField(label=_("Parent with parental authority"), queryset=None)
    confirmed = forms.BooleanField(
        label=_("This parent gave written consent for this publication, asked beforehand"), required=True
    )

    field_order = ["guardian", "confirmed", "file"]

    def __init__(self, *args, pupil, links=None, **kwargs):
        """`links`: the pupil's GuardianLinks with their guardians, when the
        caller fetched them for many pupils at once."""
        super().__init__(*args, **kwargs)
        if links is None:
            links = pupil.guardian_links.select_related("guardian")
        links = sorted(links, key=lambda link: (link.guardian.last_name, link.guardian.first_name, link.pk))
        # Every parent of this pupil is accepted by the field, so that a forged
        # parent without authority reaches the service and is refused there
        # (R-CON-6); only those with authority are offered.
        self.fields["guardian"].queryset = Guardian.objects.filter(pupil_links__pupil=pupil)
        self.fields["guardian"].choices = [("", "---------")] + [
            (link.guardian.pk, f"{link.guardian} ({link.relation})" if link.relation else str(link.guardian))
            for link in links
            if link.has_authority
        ]
        self.fields["file"].required = False
        self.fields["file"].label = _("Scan of the signed form (optional)")

    def clean_file(self):
        if not self.cleaned_data.get("file"):
            return None
        return super().clean_file()
