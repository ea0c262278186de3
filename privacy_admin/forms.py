import datetime
import re

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy_admin.models import School, User
from privacy_admin.notify import send_notice
from privacy_admin.roles import SchoolRole


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), strip=False, max_length=4096, widget=forms.PasswordInput)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6-digit code from your authenticator app, or one of your backup codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )


class UnlockForm(forms.Form):
    password = forms.CharField(label=_("Password"), strip=False, max_length=4096, widget=forms.PasswordInput)
    code = CodeForm.base_fields["code"]


class LinkOnlyPasswordResetForm(PasswordResetForm):
    """Django's reset mail names the user; ours carries the link only (R-DIS-6)."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        from django.urls import reverse

        path = reverse("password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]})
        send_notice("password_reset", to_email, path)


class StaffInviteForm(forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[a-z0-9._-]+$",
        help_text=_("Personal: one account per person, never shared. Lowercase letters, digits, . _ -"),
        error_messages={"invalid": _("Use only lowercase letters, digits and . _ -")},
    )
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("E-mail address"))
    school = forms.ModelChoiceField(label=_("School"), queryset=School.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=SchoolRole.choices)
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        help_text=_("Required for temporary teachers: their access ends after this day."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This username is already taken."))
        return username

    def clean(self):
        data = super().clean()
        if data.get("role") == SchoolRole.TEMP_TEACHER and not data.get("valid_until"):
            self.add_error("valid_until", _("A temporary teacher needs an end date."))
        return data


class RoleGrantForm(forms.Form):
    school = forms.ModelChoiceField(label=_("School"), queryset=School.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=SchoolRole.choices)
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The end date lies before the start date."))
        if data.get("role") == SchoolRole.TEMP_TEACHER and not end:
            self.add_error("valid_until", _("A temporary teacher needs an end date."))
        return data


class MonthField(forms.CharField):
    """A month as 'YYYY-MM' (the ?month= filters the dashboard's numbers link
    to), cleaned to (start, end) of that month in local time, or None."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}))
        super().__init__(**kwargs)

    def clean(self, value):
        text = (super().clean(value) or "").strip()
        if not text:
            return None
        match = re.fullmatch(r"(\d{4})-(\d{2})", text, flags=re.ASCII)
        year, month = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
        if not (1 <= month <= 12 and 1900 <= year <= 9998):
            raise forms.ValidationError(_("Give a month as YYYY-MM, e.g. 2026-03."))
        tz = timezone.get_current_timezone()
        start = datetime.datetime(year, month, 1, tzinfo=tz)
        end = datetime.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
        return start, end
