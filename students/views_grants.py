"""The screens where directors and application admins manage assignments of
temporary teachers (R-ACC-2) and involvements of support staff (R-ACC-3) at
their own schools. Every change goes through an action of students.grants
and is audited there."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from privacy_admin.views.portal import require_capability
from students import grants
from students.forms_grants import AssignmentForm, InvolvementForm

# Ended grants stay in the list this long, so a mistake can still be seen.
RECENT_DAYS = 60
PAGE_SIZE = 50


def _listed(queryset):
    since = timezone.localdate() - timedelta(days=RECENT_DAYS)
    return queryset.filter(valid_until__gte=since).order_by("-valid_until", "-pk")


@require_capability(grants.MANAGE_CAPABILITY)
def assignments(request):
    schools = request.user.schools_with(grants.MANAGE_CAPABILITY)
    form = AssignmentForm(request.POST or None, manager=request.user, schools=schools)
    if request.method == "POST" and form.is_valid():
        try:
            grants.assignment_create(**form.cleaned_data, acting_user=request.user, request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The assignment was created."))
            return redirect("grant_assignments")
    rows = _listed(grants.managed_assignments(request.user)).select_related("user", "school", "group")
    page = Paginator(rows.annotate(pupil_count=Count("pupils")), PAGE_SIZE).get_page(request.GET.get("page"))
    for assignment in page:
        assignment.record_type_labels = [grants.record_type_label(t) for t in assignment.record_types]
    return render(
        request,
        "students/grants_assignments.html",
        {"form": form, "page": page, "today": timezone.localdate(), "many_schools": len(schools) > 1},
    )


@require_POST
@require_capability(grants.MANAGE_CAPABILITY)
def assignment_end(request, assignment_id):
    assignment = grants.assignment_for_manager(request.user, assignment_id)
    if grants.assignment_end(assignment, acting_user=request.user, request=request):
        messages.success(request, _("The assignment was ended; access stopped at once."))
    else:
        messages.info(request, _("This assignment had already ended."))
    return redirect("grant_assignments")


@require_capability(grants.MANAGE_CAPABILITY)
def involvements(request):
    schools = request.user.schools_with(grants.MANAGE_CAPABILITY)
    form = InvolvementForm(request.POST or None, manager=request.user, schools=schools)
    if request.method == "POST" and form.is_valid():
        try:
            grants.involvement_create(**form.cleaned_data, acting_user=request.user, request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The involvement was recorded."))
            return redirect("grant_involvements")
    rows = _listed(grants.managed_involvements(request.user)).select_related(
        "user", "pupil", "pupil__school", "pupil__group"
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "students/grants_involvements.html",
        {"form": form, "page": page, "today": timezone.localdate(), "many_schools": len(schools) > 1},
    )


@require_POST
@require_capability(grants.MANAGE_CAPABILITY)
def involvement_end(request, involvement_id):
    involvement = grants.involvement_for_manager(request.user, involvement_id)
    if grants.involvement_end(involvement, acting_user=request.user, request=request):
        messages.success(request, _("The involvement was ended; access stopped at once."))
    else:
        messages.info(request, _("This involvement had already ended."))
    return redirect("grant_involvements")
