"""Forms of the grant screens. Their choices are limited to the manager's
schools; the rules that span fields (dates, school of the group and pupils,
the assignee's role) live in the actions of students.grants, whose error keys
match these field names."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy_admin.models import Group, School, User
from privacy_admin.models.org import current_school_year
from students import grants
from students.forms import IdsChoiceField
from students.models import Pupil
from students.policy import ASSIGNABLE_TYPES, visible_pupils


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_full_name() or obj.username} ({obj.username})"


class PupilChoiceMixin:
    def label_from_instance(self, obj):
        if obj.group_id is not None:
            return f"{obj.full_name} ({obj.group.name})"
        return obj.full_name


class PupilChoiceField(PupilChoiceMixin, forms.ModelChoiceField):
    pass


class PupilMultipleChoiceField(PupilChoiceMixin, IdsChoiceField):
    pass


class GroupChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.school.brin})"


def _date_widget():
    return forms.DateInput(attrs={"type": "date"})


def _pupils_of(manager, schools):
    """The pupils a manager may name: those the policy shows them (S-12) at
    the schools where they manage grants."""
    return visible_pupils(manager).filter(school__in=schools).select_related("group")


class AssignmentForm(forms.Form):
    school = forms.ModelChoiceField(label=_("School"), queryset=School.objects.none())
    user = StaffChoiceField(
        label=_("Temporary teacher"),
        queryset=User.objects.none(),
        help_text=_("Trainees and substitutes with a current temporary-teacher role at the school."),
    )
    group = GroupChoiceField(
        label=_("Group"),
        queryset=Group.objects.none(),
        required=False,
        help_text=_("The whole group; or leave empty and choose pupils below."),
    )
    pupils = PupilMultipleChoiceField(
        label=_("Named pupils"),
        queryset=Pupil.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Hold Ctrl (or Cmd) to choose more than one pupil."),
    )
    record_types = forms.MultipleChoiceField(
        label=_("Record types they may see and edit"),
        choices=[(t, grants.record_type_label(t)) for t in ASSIGNABLE_TYPES],
        widget=forms.CheckboxSelectMultiple,
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=_date_widget())
    valid_until = forms.DateField(
        label=_("Valid until"), widget=_date_widget(), help_text=_("Access ends after this day.")
    )

    def __init__(self, *args, manager, schools, **kwargs):
        super().__init__(*args, **kwargs)
        schools = list(schools)
        self._sole_school = schools[0] if len(schools) == 1 else None
        self.fields["school"].queryset = School.objects.filter(pk__in=[s.pk for s in schools])
        if self._sole_school is not None:
            # One school: nothing to choose, so no field to fill in.
            self.fields["school"].widget = forms.HiddenInput()
            self.fields["school"].required = False
            self.fields["school"].initial = self._sole_school.pk
        self.fields["user"].queryset = grants.eligible_temp_teachers(schools)
        self.fields["group"].queryset = Group.objects.filter(
            school__in=schools, school_year=current_school_year()
        ).select_related("school")
        self.fields["pupils"].queryset = _pupils_of(manager, schools)
        self.fields["valid_from"].initial = timezone.localdate()

    def clean_school(self):
        school = self.cleaned_data.get("school") or self._sole_school
        if school is None:
            raise forms.ValidationError(_("Choose a school."))
        return school


class InvolvementForm(forms.Form):
    user = StaffChoiceField(
        label=_("Support-team member"),
        queryset=User.objects.none(),
        help_text=_("Staff members with a current support-team role at the school."),
    )
    pupil = PupilChoiceField(label=_("Pupil"), queryset=Pupil.objects.none())
    reason = forms.CharField(
        label=_("Involvement"),
        max_length=200,
        help_text=_("The educational or pedagogical involvement, e.g. 'reading support'. No health details."),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=_date_widget())
    valid_until = forms.DateField(
        label=_("Valid until"), widget=_date_widget(), help_text=_("Access ends after this day.")
    )

    def __init__(self, *args, manager, schools, **kwargs):
        super().__init__(*args, **kwargs)
        schools = list(schools)
        self.fields["user"].queryset = grants.eligible_support_members(schools)
        self.fields["pupil"].queryset = _pupils_of(manager, schools)
        self.fields["valid_from"].initial = timezone.localdate()
