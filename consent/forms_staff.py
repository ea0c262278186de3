"""Forms of the staff consent pages: the paper enrolment form (R-CON-1), the
categories (R-CON-8) and the reminder date (R-CON-3). Bad input re-renders
with a message and stores nothing."""

import datetime

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentAnswer, ConsentCategory

NOT_ANSWERED = ""


def ui_language():
    """The language of the question texts shown: Dutch unless the interface is English."""
    return "en" if (get_language() or "").startswith("en") else "nl"


class GuardianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class PaperEntryForm(forms.Form):
    """One parent's answers from the paper enrolment form (or a phone call),
    one field per active category. Only parents with parental authority are
    offered (R-CON-6)."""

    guardian = GuardianChoiceField(
        label=_("Parent with parental authority"), queryset=None, empty_label=_("Choose the parent who filled it in")
    )
    channel = forms.ChoiceField(
        label=_("How the answers reached the school"),
        choices=[
            (ConsentAnswer.Channel.PAPER, ConsentAnswer.Channel.PAPER.label),
            (ConsentAnswer.Channel.PHONE, ConsentAnswer.Channel.PHONE.label),
        ],
        initial=ConsentAnswer.Channel.PAPER,
    )

    def __init__(self, *args, guardians, categories, guardian_list=None, **kwargs):
        """`guardians`: the parents the field accepts (a queryset);
        `guardian_list`: the same parents already read, offered without a query."""
        super().__init__(*args, **kwargs)
        self.fields["guardian"].queryset = guardians
        if guardian_list is not None:
            field = self.fields["guardian"]
            field.choices = [("", field.empty_label)] + [(g.pk, field.label_from_instance(g)) for g in guardian_list]
            only = guardian_list[:2]
        else:
            only = list(guardians[:2])
        if len(only) == 1:
            self.fields["guardian"].initial = only[0].pk
        self.categories = list(categories)
        language = ui_language()
        for category in self.categories:
            if category.kind == ConsentCategory.Kind.OBJECTION:
                given, refused = _("no objection"), _("objects")
            else:
                given, refused = _("consent given"), _("consent refused")
            version = getattr(category, "current", None)
            self.fields[self.field_name(category)] = forms.ChoiceField(
                label=category.label(language),
                choices=[
                    (NOT_ANSWERED, _("not answered")),
                    (ConsentAnswer.Value.GIVEN, given),
                    (ConsentAnswer.Value.REFUSED, refused),
                ],
                required=False,
                initial=NOT_ANSWERED,
                widget=forms.RadioSelect,
                help_text=version.text(language) if version is not None else "",
            )

    @staticmethod
    def field_name(category):
        return f"answer_{category.pk}"

    def head_fields(self):
        return [self["guardian"], self["channel"]]

    def answer_fields(self):
        return [self[self.field_name(category)] for category in self.categories]

    def answers(self):
        """[(category, value)] for the categories that were answered."""
        return [
            (category, self.cleaned_data[self.field_name(category)])
            for category in self.categories
            if self.cleaned_data.get(self.field_name(category))
        ]

    def clean(self):
        data = super().clean()
        if not self.errors and not self.answers():
            raise forms.ValidationError(_("Fill in at least one answer; nothing was stored."))
        return data


class CategoryForm(forms.ModelForm):
    """A category's names and flags with its current question text; a changed
    text becomes a new version (R-CON-7)."""

    text_nl = forms.CharField(label=_("Question (Dutch)"), widget=forms.Textarea(attrs={"rows": 3}))
    text_en = forms.CharField(label=_("Question (English)"), widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = ConsentCategory
        fields = ["label_nl", "label_en", "is_publication_channel", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        version = self.instance.current_version() if self.instance.pk else None
        if version is not None and not self.is_bound:
            self.fields["text_nl"].initial = version.text_nl
            self.fields["text_en"].initial = version.text_en
        if self.instance.kind == ConsentCategory.Kind.OBJECTION:
            del self.fields["is_publication_channel"]


class CategoryCreateForm(CategoryForm):
    """A new category for one school (R-CON-8); its question becomes version 1."""

    class Meta(CategoryForm.Meta):
        fields = ["key", "label_nl", "label_en", "kind", "is_parent_app", "is_publication_channel"]
        help_texts = {"key": _("Short name without spaces, e.g. 'sportdag'. Cannot be changed later.")}

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.school = school
        self.fields["is_publication_channel"].initial = True

    def clean_key(self):
        key = self.cleaned_data["key"].lower()
        if ConsentCategory.objects.filter(school=self.school, key=key).exists():
            raise forms.ValidationError(_("This school already has a category with this key."))
        return key

    def clean(self):
        data = super().clean()
        if data.get("kind") == ConsentCategory.Kind.OBJECTION:
            if data.get("is_parent_app"):
                self.add_error("is_parent_app", _("The parent app is asked as a consent, not as an objection."))
            data["is_publication_channel"] = False
        if data.get("is_parent_app") and self.school.consent_categories.filter(is_parent_app=True).exists():
            self.add_error("is_parent_app", _("This school already has a category for the parent app."))
        return data


class ReminderDateForm(forms.Form):
    """The first school day, when the yearly reminder goes out (R-CON-3)."""

    reminder_day = forms.IntegerField(label=_("Day"), min_value=1, max_value=31)
    reminder_month = forms.IntegerField(label=_("Month"), min_value=1, max_value=12)

    def clean(self):
        data = super().clean()
        day, month = data.get("reminder_day"), data.get("reminder_month")
        if day and month:
            try:
                # A year without 29 February: the date must exist every year.
                datetime.date(2023, month, day)
            except ValueError:
                raise forms.ValidationError(_("This is not a date that exists every year.")) from None
        return data
