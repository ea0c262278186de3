"""Report-like disclosures and the register of processing: the NCO export to
CBS (R-DIS-4), the leerplicht flags and report (R-DIS-2), and the register of
processing activities for the FG (AVG art. 30).

Pupils come only through students.policy (visible_pupils, dossier_access);
the writes are the named actions of disclosures.nco and disclosures.leerplicht,
each audited in its own transaction. Exports and disclosures ask for the
second factor again when the last check is older than a few minutes (S-8).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from disclosures import leerplicht, nco, processing
from disclosures.models import Disclosure
from privacy_admin.models.org import current_school_year
from privacy_admin.pdf import pdf_response
from privacy_admin.views.auth import require_recent_second_factor
from privacy_admin.views.portal import require_capability
from students.policy import dossier_access, visible_pupils

# --- NCO export to CBS (R-DIS-4) ------------------------------------------------


class NcoExportForm(forms.Form):
    school = forms.ModelChoiceField(queryset=None, label=gettext_lazy("School"), empty_label=None)
    school_year = forms.ChoiceField(
        label=gettext_lazy("School year of the results"),
        help_text=gettext_lazy("Results dated from 1 August to 31 July of this school year are sent."),
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        years = leerplicht.recent_school_years()
        self.fields["school_year"].choices = [(y, y) for y in years]
        # The results of a finished school year are the usual delivery.
        self.fields["school_year"].initial = years[1]


@require_capability("disclosures.make")
@require_recent_second_factor
def nco_export(request):
    """The NCO export on a screen: choose school and school year; the answer
    is the CSV file, recorded as one disclosure to CBS."""
    schools = nco.nco_schools(request.user)
    if not schools.exists():
        raise PermissionDenied  # S-13: the export holds BSNs
    form = NcoExportForm(request.POST or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        try:
            _disclosure, export = nco.nco_export(
                school=form.cleaned_data["school"],
                school_year=form.cleaned_data["school_year"],
                acting_user=request.user,
                request=request,
            )
        except nco.NcoRefused as exc:
            form.add_error(None, str(exc))
        else:
            response = HttpResponse(export.csv_text(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
            return response
    history = (
        Disclosure.objects.filter(school__in=schools, kind=Disclosure.Kind.NCO)
        .select_related("school", "requested_by")
        .order_by("-disclosed_at", "-pk")[:20]
    )
    return render(
        request,
        "disclosures/reports/nco_export.html",
        {"form": form, "history": history, "columns": nco.COLUMNS, "multiple_schools": len(schools) > 1},
    )


# --- Leerplicht (R-DIS-2) --------------------------------------------------------


def _school_year(request):
    """The school year asked for in ?school_year=, or the current one."""
    asked = request.GET.get("school_year", "")
    return asked if asked in leerplicht.recent_school_years() else current_school_year()


def _reporting_pupils(user):
    """Pupils the user may see, at schools where they make disclosures."""
    return visible_pupils(user).filter(school__in=user.schools_with("disclosures.make"))


@require_capability("disclosures.make")
def leerplicht_list(request):
    """Pupils with 16 or more hours of unauthorised absence within 4
    consecutive weeks in the school year, with their heaviest window."""
    school_year = _school_year(request)
    start, end = leerplicht.school_year_bounds(school_year)
    flags = leerplicht.flagged_pupils(_reporting_pupils(request.user), start, end)
    reports = leerplicht.reports_of([flag.pupil for flag in flags])
    rows = []
    for flag in flags:
        report = reports.get(flag.pupil.pk)
        # A report made before this window started was about earlier absence.
        current = report is not None and timezone.localdate(report.disclosed_at) >= flag.window.start
        rows.append({"flag": flag, "report": report, "reported": current})
    return render(
        request,
        "disclosures/reports/leerplicht_list.html",
        {
            "rows": rows,
            "school_year": school_year,
            "school_years": leerplicht.recent_school_years(),
            "threshold": leerplicht.THRESHOLD_HOURS,
            "weeks": leerplicht.WINDOW_WEEKS,
            "multiple_schools": request.user.schools_with("disclosures.make").count() > 1,
        },
    )


class LeerplichtReportForm(forms.Form):
    method = forms.ChoiceField(label=gettext_lazy("How the report is made"), choices=leerplicht.REPORT_METHODS)
    recipient_detail = forms.CharField(
        label=gettext_lazy("Leerplichtambtenaar"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Name and municipality of the leerplichtambtenaar, if known."),
    )
    purpose = forms.CharField(
        label=gettext_lazy("Reason for the report"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )

    def clean_purpose(self):
        purpose = self.cleaned_data["purpose"].strip()
        if not purpose:
            raise forms.ValidationError(_("Say why the pupil is reported."))
        return purpose


def _report_access(user, pupil_id):
    """The pupil, if the user may see them and makes disclosures at their
    school; 404 otherwise, the same as for a pupil that does not exist."""
    access = dossier_access(user, pupil_id)
    if not user.has_capability("disclosures.make", access.pupil.school):
        raise Http404
    if not (access.can_view("attendance") and access.can_view("contact")):
        raise Http404
    return access


@require_capability("disclosures.make")
@require_recent_second_factor
def leerplicht_report(request, pupil_id):
    """What the report to the leerplichtambtenaar holds (name, birth date,
    address, absence), and recording it as a disclosure."""
    access = _report_access(request.user, pupil_id)
    pupil = access.pupil
    school_year = _school_year(request)
    start, end = leerplicht.school_year_bounds(school_year)
    absence = leerplicht.absence_in(pupil, start, end)
    window = leerplicht.truancy_window([(record.date, record.hours) for record in absence])
    form = LeerplichtReportForm(request.POST or None, initial={"purpose": leerplicht.default_purpose(window)})
    if request.method == "POST" and form.is_valid():
        try:
            leerplicht.leerplicht_report(
                pupil=pupil,
                method=form.cleaned_data["method"],
                purpose=form.cleaned_data["purpose"],
                recipient_detail=form.cleaned_data["recipient_detail"],
                acting_user=request.user,
                request=request,
            )
        except leerplicht.ReportRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The report to the leerplichtambtenaar is recorded."))
            return redirect(f"{reverse('leerplicht_list')}?school_year={school_year}")
    earlier = (
        Disclosure.objects.filter(pupils__pupil=pupil, kind=Disclosure.Kind.LEERPLICHT)
        .select_related("requested_by")
        .order_by("-disclosed_at", "-pk")
    )
    return render(
        request,
        "disclosures/reports/leerplicht_report.html",
        {
            "pupil": pupil,
            "content": leerplicht.report_content(pupil),
            "absence": absence,
            "total": sum((record.hours for record in absence), 0),
            "window": window,
            "school_year": school_year,
            "form": form,
            "earlier": earlier,
        },
    )


# --- Register of processing (AVG art. 30) ---------------------------------------


@require_capability("disclosures.view")
def processing_register(request):
    """The register of processing activities, generated from the recipients,
    processors, consent categories and retention rules; ?format=pdf for the
    PDF. No pupil data."""
    schools = processing.register_schools(request.user)
    context = {
        "registers": processing.processing_register(schools),
        "retention": processing.retention_rows(),
        "generated_at": timezone.now(),
    }
    if request.GET.get("format") == "pdf":
        return pdf_response(
            request,
            "disclosures/reports/processing_register.html",
            context,
            title=_("Register of processing activities"),
            filename="verwerkingsregister.pdf",
        )
    return render(request, "disclosures/reports/processing_register.html", context)
