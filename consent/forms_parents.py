"""Forms of the parents' portal: the two sign-in steps and the preferences of
one child (U-4, R-CON-2)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentAnswer
from consent.parents import CODE_DIGITS

ANSWER_PREFIX = "category_"
VERSION_PREFIX = "version_"


class ParentEmailForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("The e-mail address the school has for you."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class ParentCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6 digits from the e-mail."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != CODE_DIGITS or not (code.isascii() and code.isdigit()):
            raise ValidationError(_("Enter the 6 digits from the e-mail."))
        return code


def answer_key(category_id):
    return f"{ANSWER_PREFIX}{category_id}"


def version_key(category_id):
    return f"{VERSION_PREFIX}{category_id}"


class PreferencesForm(forms.Form):
    """One radio group per active category of the child's school, and with
    each the id of the question version shown: an answer to a text that was
    reworded since the page was opened is not recorded against the new text
    (R-CON-7); the parent reads the new text and answers again."""

    def __init__(self, data=None, *, rows, pupil_id):
        # A copy: after a reworded question the hidden version is moved to
        # the current one, so that the page shown again can be sent. Ids per
        # child: the page holds one form per child.
        super().__init__(data.copy() if data is not None else None, auto_id=f"id_child{pupil_id}_%s")
        self.rows = rows
        for row in rows:
            self.fields[answer_key(row.category.pk)] = forms.ChoiceField(
                label=row.label,
                help_text=row.question,
                choices=[
                    (ConsentAnswer.Value.GIVEN, _("Yes")),
                    (ConsentAnswer.Value.REFUSED, _("No")),
                ],
                widget=forms.RadioSelect,
                required=False,
                initial=row.own.value if row.own is not None else None,
            )
            self.fields[version_key(row.category.pk)] = forms.CharField(
                widget=forms.HiddenInput, required=False, initial=str(row.version.pk)
            )

    def clean(self):
        cleaned = super().clean()
        known = set(self.fields)
        unknown = [k for k in self.data if k.startswith((ANSWER_PREFIX, VERSION_PREFIX)) and k not in known]
        if unknown:
            raise ValidationError(
                _("The form contained a question that does not exist (any more). Nothing was saved."),
                code="unknown_category",
            )
        for row in self.rows:
            key = answer_key(row.category.pk)
            if not cleaned.get(key):
                continue
            shown = cleaned.get(version_key(row.category.pk))
            if shown != str(row.version.pk):
                self.data[version_key(row.category.pk)] = str(row.version.pk)
                self.add_error(
                    key,
                    _("This question was reworded after you opened the page. Read it again and choose your answer."),
                )
        return cleaned

    def values(self):
        """{category id: "given" | "refused"} for the questions answered."""
        return {
            row.category.pk: self.cleaned_data[answer_key(row.category.pk)]
            for row in self.rows
            if self.cleaned_data.get(answer_key(row.category.pk))
        }

    def bind_rows(self):
        """Give each row its bound field, for the template."""
        for row in self.rows:
            row.field = self[answer_key(row.category.pk)]
        return self.rows
