"""Data breaches: the report by any staff member, "my reports", the FG's
workflow, the register with its CSV export, the AP form and the letter to
parents (R-BRK-1..4). Incidents come only through breaches.policy."""

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from breaches import services
from breaches.clock import countdown
from breaches.forms import STEP_FORMS, RegisterFilterForm, ReportForm
from breaches.models import DEFAULT_LETTER, Breach, ParentLetterTemplate
from breaches.policy import breach_access, managed_breach, managing_foundation_ids, visible_breaches
from privacy_admin.auditlog import audit_record
from privacy_admin.csvsafe import csv_cell
from privacy_admin.models import Foundation, School
from privacy_admin.pdf import pdf_response
from privacy_admin.views.auth import require_recent_second_factor
from privacy_admin.views.portal import require_capability


def _report_schools(user):
    foundation_ids = [fm.foundation_id for fm in user.foundation_roles_today()]
    school_ids = [m.school_id for m in user.memberships_today()]
    return School.objects.filter(pk__in=school_ids) | School.objects.filter(foundation_id__in=foundation_ids)


def _user_foundation(user):
    for fm in user.foundation_roles_today():
        return fm.foundation
    for m in user.memberships_today():
        return m.school.foundation
    return None


@require_capability("breach.report")
def breach_report(request):
    user = request.user
    schools = _report_schools(user).distinct().order_by("name")
    foundation = _user_foundation(user)
    if foundation is None:
        raise PermissionDenied
    form = ReportForm(request.POST or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        school = data["school"]
        breach = services.breach_report(
            reporter=user,
            foundation=school.foundation if school else foundation,
            school=school,
            aware_at=data["aware_at"],
            what_happened=data["what_happened"],
            data_concerned=data["data_concerned"],
            approx_pupils=data["approx_pupils"],
            ongoing=data["ongoing"],
            request=request,
        )
        messages.success(request, _("Thank you. The data protection officer has been alerted."))
        return redirect("breach_detail", breach_id=breach.pk)
    return render(request, "breaches/report.html", {"form": form, "foundation": foundation})


def _rows(breaches):
    now = timezone.now()
    rows = []
    for breach in breaches:
        css, text = countdown(breach, now)
        rows.append({"breach": breach, "clock_class": css, "clock": text})
    return rows


@require_capability("breach.report")
def breach_mine(request):
    breaches = Breach.objects.filter(reporter=request.user).select_related("school")
    return render(request, "breaches/mine.html", {"rows": _rows(breaches)})


@require_capability("breach.report")
def breach_register(request):
    """R-BRK-2: every incident the user may see, notified or not, filtered
    the same way as the detail page (S-12)."""
    visible = visible_breaches(request.user)
    schools = School.objects.filter(pk__in=visible.values("school_id")).order_by("name")
    form = RegisterFilterForm(request.GET or None, schools=schools)
    breaches = form.apply(visible).select_related("school", "reporter")
    return render(
        request,
        "breaches/register.html",
        {"form": form, "rows": _rows(breaches), "manage": request.user.has_capability("breach.manage")},
    )


CSV_COLUMNS = (
    ("number", "number"),
    ("school", "school"),
    ("state", "get_state_display"),
    ("aware_at", "aware_at"),
    ("deadline", "deadline"),
    ("what_happened", "what_happened"),
    ("data_concerned", "data_concerned"),
    ("approx_pupils", "approx_pupils"),
    ("ongoing", "ongoing"),
    ("reported_at", "reported_at"),
    ("started_at", "started_at"),
    ("ended_at", "ended_at"),
    ("discovered_how", "discovered_how"),
    ("effects", "effects"),
    ("data_categories", "data_categories"),
    ("approx_records", "approx_records"),
    ("approx_people", "approx_people"),
    ("groups_affected", "groups_affected"),
    ("measures_before", "measures_before"),
    ("consequences", "consequences"),
    ("severity", "severity"),
    ("severity_explanation", "severity_explanation"),
    ("measures_taken", "measures_taken"),
    ("ap_notify", "ap_notify"),
    ("ap_notify_reason", "ap_notify_reason"),
    ("ap_notified_at", "ap_notified_at"),
    ("ap_reference", "ap_reference"),
    ("late_reason", "late_reason"),
    ("people_told", "people_told"),
    ("people_told_at", "people_told_at"),
    ("people_told_whom", "people_told_whom"),
    ("people_told_reason", "people_told_reason"),
    ("lessons_learned", "lessons_learned"),
    ("closed_at", "closed_at"),
)


def _csv_value(breach, attr):
    value = getattr(breach, attr)
    if callable(value):
        value = value()
    if hasattr(value, "astimezone"):
        value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list):
        value = ", ".join(value)
    return value


@require_capability("breach.manage")
@require_recent_second_factor
def breach_export(request):
    visible = visible_breaches(request.user).filter(foundation_id__in=managing_foundation_ids(request.user))
    schools = School.objects.filter(pk__in=visible.values("school_id"))
    form = RegisterFilterForm(request.GET or None, schools=schools)
    breaches = list(form.apply(visible).select_related("school"))
    audit_record("breach.register_export", actor=request.user, request=request, details={"rows": len(breaches)})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="datalekkenregister.csv"'
    writer = csv.writer(response)
    writer.writerow([name for name, _attr in CSV_COLUMNS])
    for breach in breaches:
        writer.writerow([csv_cell(_csv_value(breach, attr)) for _name, attr in CSV_COLUMNS])
    return response


@require_capability("breach.report")
def breach_detail(request, breach_id):
    breach = breach_access(request.user, breach_id)
    css, text = countdown(breach)
    manage = breach.foundation_id in managing_foundation_ids(request.user)
    steps = []
    if manage:
        steps = [(step, label) for step, (_form, label) in STEP_FORMS.items() if services.step_allowed(breach, step)]
    return render(
        request,
        "breaches/detail.html",
        {
            "breach": breach,
            "clock_class": css,
            "clock": text,
            "manage": manage,
            "steps": steps,
            "events": breach.events.select_related("actor"),
            "escalations": breach.escalations.all(),
        },
    )


def _step_view(request, breach_id, step):
    breach = managed_breach(request.user, breach_id)
    if step not in STEP_FORMS:
        raise Http404
    if not services.step_allowed(breach, step):
        raise Http404
    form_class, title = STEP_FORMS[step]
    form = form_class(request.POST or None, instance=breach)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form_class._meta.fields}
        try:
            services.breach_update(breach, step=step, fields=fields, acting_user=request.user, request=request)
        except services.TransitionRefused:
            raise Http404 from None
        messages.success(request, _("Saved."))
        return redirect("breach_detail", breach_id=breach.pk)
    return render(request, "breaches/step.html", {"breach": breach, "form": form, "title": title, "step": step})


@require_capability("breach.manage")
def breach_step(request, breach_id, step):
    if step == "ap":
        return _ap_step(request, breach_id=breach_id, step=step)
    return _step_view(request, breach_id, step)


@require_recent_second_factor
def _ap_step(request, breach_id, step):
    """S-8: recording the notice to the AP asks for the second factor again."""
    return _step_view(request, breach_id, step)


@require_capability("breach.manage")
def breach_ap_form(request, breach_id):
    """R-BRK-4: the sections 0-9 of the AP's notification form, filled from
    the register; printable (print stylesheet) and ready to copy."""
    breach = managed_breach(request.user, breach_id)
    context = {
        "breach": breach,
        "foundation": breach.foundation,
        "effects": [label for value, label in Breach.Effect.choices if value in breach.effects],
        "categories": [label for value, label in Breach.DataCategory.choices if value in breach.data_categories],
        "follow_up": breach.ap_reference != "",
    }
    if request.GET.get("format") == "pdf":
        audit_record("breach.ap_form_pdf", request=request, obj=breach, school_id=breach.school_id)
        return pdf_response(
            request,
            "breaches/ap_form.html",
            context,
            title=f"AP {breach.number}",
            filename=f"ap-melding-{breach.pk}.pdf",
        )
    return render(request, "breaches/ap_form.html", context)


@require_capability("breach.manage")
def breach_letter(request, breach_id):
    """R-BRK-3: the notice to parents, drafted from the school's template.
    Sending it is done by the school (post or the school's parent app); who
    was told when is recorded in the "people concerned" step."""
    breach = managed_breach(request.user, breach_id)
    template = ParentLetterTemplate.objects.filter(school_id=breach.school_id).first()
    body = template.body if template else str(DEFAULT_LETTER)
    foundation: Foundation = breach.foundation
    values = dict(
        school=breach.school.name if breach.school else foundation.name,
        aware_date=timezone.localtime(breach.aware_at).strftime("%d-%m-%Y"),
        what_happened=breach.what_happened,
        consequences=breach.consequences or "-",
        measures_taken=breach.measures_taken or "-",
        fg_name=foundation.fg_name,
        fg_email=foundation.fg_email,
    )
    # Plain replacement, not str.format: the template is text an editor
    # wrote, and format() would let it reach attributes of the values.
    text = body
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return render(request, "breaches/letter.html", {"breach": breach, "letter": text, "custom": template is not None})
