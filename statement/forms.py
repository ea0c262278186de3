from django import forms
from django.utils.translation import gettext_lazy as _

from statement.models import StatementText


class StatementTextForm(forms.ModelForm):
    class Meta:
        model = StatementText
        fields = ["intro_nl", "intro_en", "closing_nl", "closing_en"]
        widgets = {name: forms.Textarea(attrs={"rows": 6}) for name in fields}
        help_texts = {
            "intro_nl": _("Shown above the generated sections. Plain text; an empty line starts a new paragraph."),
            "closing_nl": _("Shown below the generated sections, for example about photos taken by other parents."),
        }

    def clean(self):
        data = super().clean()
        for kind in ("intro", "closing"):
            dutch, english = data.get(f"{kind}_nl", ""), data.get(f"{kind}_en", "")
            if dutch and not english:
                self.add_error(f"{kind}_en", _("Write this text in English too, so both statements say the same."))
            if english and not dutch:
                self.add_error(f"{kind}_nl", _("Write this text in Dutch too, so both statements say the same."))
        return data


class DiffForm(forms.Form):
    """Two versions of one school's statement, and the language to compare."""

    old = forms.TypedChoiceField(label=_("Older version"), coerce=int)
    new = forms.TypedChoiceField(label=_("Newer version"), coerce=int)
    language = forms.ChoiceField(label=_("Language"), choices=[("nl", _("Dutch")), ("en", _("English"))])

    def __init__(self, *args, numbers, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(n, str(n)) for n in numbers]
        self.fields["old"].choices = choices
        self.fields["new"].choices = choices

    def clean(self):
        data = super().clean()
        if data.get("old") is not None and data.get("new") is not None and data["old"] >= data["new"]:
            self.add_error("new", _("Choose a newer version than the older one."))
        return data
