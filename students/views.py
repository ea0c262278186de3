"""The staff portal's pupil pages: search, groups, the dossier with its tabs,
and the forms that change it. Thin views: the policy gives the pupil and the
ground, an action writes and audits, the view renders or redirects."""

import base64
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from privacy_admin.models import AuditEvent, Group
from privacy_admin.roles import capabilities_for
from students import actions, forms
from students.models import (
    Address,
    Agreement,
    AttendanceRecord,
    ConversationReport,
    Document,
    EnrolmentEvent,
    FundingRecord,
    GuardianLink,
    HealthNote,
    PaperDossier,
    ProgressResult,
    SupportNeed,
)
from students.policy import dossier_access, record_for, visible_pupils
from students.tabs import tabs

# record type → (model, form, title); the policy decides who may see each.
RECORD_TYPES = {
    "contact": (Address, forms.AddressForm, gettext_lazy("Address and contact")),
    "enrolment_event": (EnrolmentEvent, forms.EnrolmentEventForm, gettext_lazy("Enrolment event")),
    "attendance": (AttendanceRecord, forms.AttendanceForm, gettext_lazy("Absence")),
    "funding": (FundingRecord, forms.FundingForm, gettext_lazy("Funding data")),
    "support": (SupportNeed, forms.SupportNeedForm, gettext_lazy("Support need")),
    "health": (HealthNote, forms.HealthNoteForm, gettext_lazy("Health note")),
    "progress": (ProgressResult, forms.ProgressForm, gettext_lazy("Progress and results")),
    "conversation": (ConversationReport, forms.ConversationForm, gettext_lazy("Conversation report")),
    "agreement": (Agreement, forms.AgreementForm, gettext_lazy("Agreement")),
}


DOSSIER_CAPABILITIES = ("dossier.all_pupils", "dossier.assigned_tasks", "dossier.involved_pupils")


def dossier_user(view):
    """Pupil lists are for roles that work with dossiers; the FG and the
    bestuurder get a 403, not an empty list."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not any(request.user.has_capability(c) for c in DOSSIER_CAPABILITIES):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _full_access_schools(user):
    return user.schools_with("dossier.all_pupils")


def _visible_groups(user):
    """Groups the user works with: all groups of full-access schools, and the
    groups of visible pupils (assignments, involvements)."""
    pupils = visible_pupils(user)
    return (
        Group.objects.filter(Q(school__in=_full_access_schools(user)) | Q(pupils__in=pupils))
        .select_related("school")
        .distinct()
        .order_by("school__name", "grade", "name")
    )


@dossier_user
def pupil_search(request):
    groups = _visible_groups(request.user)
    form = forms.SearchForm(request.GET or None, groups=groups)
    pupils = visible_pupils(request.user).select_related("group", "school")
    if form.is_valid():
        if form.cleaned_data["q"]:
            for word in form.cleaned_data["q"].split():
                pupils = pupils.filter(
                    Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(name_prefix__icontains=word)
                )
        if form.cleaned_data["group"]:
            pupils = pupils.filter(group=form.cleaned_data["group"])
    page = Paginator(pupils.order_by("last_name", "first_name", "pk"), 50).get_page(request.GET.get("page"))
    can_bsn = request.user.has_capability("pupil.bsn")
    return render(
        request,
        "students/search.html",
        {
            "form": form,
            "page": page,
            "bsn_form": forms.BsnSearchForm() if can_bsn else None,
            "can_register": _full_access_schools(request.user).exists(),
        },
    )


@require_POST
def pupil_find_by_bsn(request):
    """Exact BSN look-up through the keyed hash; posted so the BSN never
    appears in a URL or log line (S-13)."""
    if not request.user.has_capability("pupil.bsn"):
        raise PermissionDenied
    form = forms.BsnSearchForm(request.POST)
    if form.is_valid():
        bsn_schools = request.user.schools_with("pupil.bsn")
        pupil = visible_pupils(request.user).with_bsn(form.cleaned_data["bsn"]).filter(school__in=bsn_schools).first()
        if pupil is not None:
            return redirect("dossier", pupil_id=pupil.pk)
        messages.info(request, _("No pupil with this BSN among the pupils you may see."))
    else:
        messages.error(request, _("This is not a valid BSN (it fails the eleven test)."))
    return redirect("pupil_search")


@dossier_user
def group_list(request):
    pupils = visible_pupils(request.user)
    groups = _visible_groups(request.user).annotate(
        visible_count=Count("pupils", filter=Q(pupils__in=pupils), distinct=True)
    )
    return render(request, "students/group_list.html", {"groups": groups})


@dossier_user
def group_detail(request, group_id):
    group = _visible_groups(request.user).filter(pk=group_id).first()
    if group is None:
        raise Http404
    pupils = visible_pupils(request.user).filter(group=group).select_related("enrolment").order_by("last_name")
    page = Paginator(pupils, 50).get_page(request.GET.get("page"))
    return render(request, "students/group_detail.html", {"group": group, "page": page})


def _dossier_context(access, tab):
    return {
        "extra_tabs": tabs(access),
        "access": access,
        "pupil": access.pupil,
        "tab": tab,
        "editable": {t for t in RECORD_TYPES if access.can_edit(t)} | ({"document"} & set(access.edit_types)),
    }


def dossier(request, pupil_id):
    """The administrative part (R-DOS-4)."""
    access = dossier_access(request.user, pupil_id)
    pupil = access.pupil
    context = _dossier_context(access, "admin")
    # Sections the access does not cover stay None, and the template skips them.
    context.update(
        dict.fromkeys(("enrolment", "paper", "guardian_links", "addresses", "events", "attendance", "funding"))
    )
    # Parents' contact data and the enrolment are shown only to those whose
    # access covers them (an assignment names its record types, R-ACC-2).
    if access.can_view("enrolment_event"):
        context["enrolment"] = getattr(pupil, "enrolment", None)
        context["paper"] = PaperDossier.objects.filter(pupil=pupil).first()
    if access.can_view("contact"):
        context["guardian_links"] = pupil.guardian_links.select_related("guardian").order_by("pk")
    for record_type, key in (
        ("contact", "addresses"),
        ("enrolment_event", "events"),
        ("attendance", "attendance"),
        ("funding", "funding"),
    ):
        if access.can_view(record_type):
            context[key] = RECORD_TYPES[record_type][0].objects.filter(pupil=pupil)
    return render(request, "students/dossier_admin.html", context)


def dossier_substantive(request, pupil_id):
    """The substantive part (R-DOS-5). Every opening is audited in the same
    transaction that reads it; if the audit row cannot be written nothing is
    shown (S-21)."""
    access = dossier_access(request.user, pupil_id)
    if not access.sees_substantive:
        raise Http404
    pupil = access.pupil
    context = _dossier_context(access, "substantive")
    context.update(
        dict.fromkeys(("support_needs", "results", "conversations", "agreements", "documents", "health_notes"))
    )
    with transaction.atomic():
        actions.dossier_read(access, "substantive", request=request)
        if access.can_view("support"):
            context["support_needs"] = list(SupportNeed.objects.filter(pupil=pupil))
        if access.can_view("progress"):
            context["results"] = list(ProgressResult.objects.filter(pupil=pupil))
        if access.can_view("conversation"):
            context["conversations"] = list(
                ConversationReport.objects.filter(pupil=pupil).prefetch_related(
                    Prefetch("attachments", queryset=Document.objects.only("pk", "conversation_id", "filename"))
                )
            )
        if access.can_view("agreement"):
            context["agreements"] = list(Agreement.objects.filter(pupil=pupil))
        if access.can_view("document"):
            context["documents"] = list(
                Document.objects.filter(pupil=pupil, conversation=None).only("pk", "filename", "size", "uploaded_at")
            )
        if access.can_view("health"):
            context["health_notes"] = list(HealthNote.objects.filter(pupil=pupil))
            if context["health_notes"]:
                actions.dossier_read(access, "health", request=request)
    return render(request, "students/dossier_substantive.html", context)


def dossier_bsn(request, pupil_id):
    """The BSN, shown on request only, for roles that need it (S-13), audited."""
    access = dossier_access(request.user, pupil_id)
    if not access.sees_bsn:
        raise Http404
    with transaction.atomic():
        actions.dossier_read(access, "bsn", request=request)
        bsn = access.pupil.bsn
    return render(request, "students/dossier_bsn.html", {**_dossier_context(access, "admin"), "bsn": bsn})


def dossier_log(request, pupil_id):
    """Who viewed and changed this dossier: for the director and the
    application admin of the pupil's school."""
    access = dossier_access(request.user, pupil_id)
    caps = set()
    for membership in request.user.memberships_today():
        if membership.school_id == access.pupil.school_id:
            caps |= capabilities_for(membership.role)
    if "audit.view" not in caps:
        raise Http404
    events = AuditEvent.objects.filter(pupil_id=access.pupil.pk).order_by("-seq")
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(request, "students/dossier_log.html", {**_dossier_context(access, "log"), "page": page})


def _edit_core(request, pupil_id):
    access = dossier_access(request.user, pupil_id)
    if not access.edit_core:
        raise Http404
    return access


def pupil_edit(request, pupil_id):
    access = _edit_core(request, pupil_id)
    form = forms.PupilForm(request.POST or None, instance=access.pupil, show_bsn=access.sees_bsn)
    if request.method == "POST" and form.is_valid():
        actions.pupil_update(access, form, request=request)
        messages.success(request, _("The pupil's data were saved."))
        return redirect("dossier", pupil_id=access.pupil.pk)
    return render(
        request, "students/form.html", {**_dossier_context(access, "admin"), "form": form, "title": _("Pupil data")}
    )


def enrolment_edit(request, pupil_id):
    access = _edit_core(request, pupil_id)
    enrolment = getattr(access.pupil, "enrolment", None)
    initial = {}
    if enrolment is not None:
        initial = {
            name: getattr(enrolment, name)
            for name in forms.EnrolmentForm.base_fields
            if hasattr(enrolment, name) and getattr(enrolment, name) not in (None, "")
        }
    form = forms.EnrolmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        actions.enrolment_update(access, form.cleaned_data, request=request)
        messages.success(request, _("The enrolment was saved."))
        return redirect("dossier", pupil_id=access.pupil.pk)
    return render(
        request, "students/form.html", {**_dossier_context(access, "admin"), "form": form, "title": _("Enrolment")}
    )


def paper_dossier_edit(request, pupil_id):
    access = _edit_core(request, pupil_id)
    paper = PaperDossier.objects.filter(pupil=access.pupil).first() or PaperDossier(pupil=access.pupil)
    form = forms.PaperDossierForm(request.POST or None, instance=paper)
    if request.method == "POST" and form.is_valid():
        actions.paper_dossier_update(access, form, request=request)
        messages.success(request, _("The paper dossier register was saved."))
        return redirect("dossier", pupil_id=access.pupil.pk)
    return render(
        request,
        "students/form.html",
        {**_dossier_context(access, "admin"), "form": form, "title": _("Paper dossier")},
    )


def guardian_edit(request, pupil_id, link_id=None):
    access = _edit_core(request, pupil_id)
    link = None
    if link_id is not None:
        link = GuardianLink.objects.filter(pk=link_id, pupil=access.pupil).select_related("guardian").first()
        if link is None:
            raise Http404
    initial = {"has_authority": link.has_authority, "relation": link.relation} if link else {"has_authority": True}
    form = forms.GuardianForm(request.POST or None, instance=link.guardian if link else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        actions.guardian_save(access, form, request=request, link=link)
        messages.success(request, _("The parent/guardian was saved."))
        return redirect("dossier", pupil_id=access.pupil.pk)
    return render(
        request,
        "students/form.html",
        {**_dossier_context(access, "admin"), "form": form, "title": _("Parent/guardian")},
    )


def _record_type(access, record_type):
    if record_type not in RECORD_TYPES or not access.can_edit(record_type):
        raise Http404
    return RECORD_TYPES[record_type]


def record_edit(request, pupil_id, record_type, record_id=None):
    access = dossier_access(request.user, pupil_id)
    model, form_class, title = _record_type(access, record_type)
    record = record_for(access, model, record_id) if record_id is not None else None
    form = form_class(request.POST or None, instance=record)
    upload = forms.DocumentForm(request.POST or None, request.FILES or None) if record_type == "conversation" else None
    if request.method == "POST" and form.is_valid() and (upload is None or not request.FILES or upload.is_valid()):
        with transaction.atomic():
            saved = actions.record_save(access, form, request=request, record_type=record_type)
            if upload is not None and request.FILES:
                actions.document_add(access, upload.cleaned_data["file"], request=request, conversation=saved)
        messages.success(request, _("Saved."))
        part = "dossier" if record_type in ("contact", "enrolment_event", "attendance", "funding") else "substantive"
        return redirect("dossier" if part == "dossier" else "dossier_substantive", pupil_id=access.pupil.pk)
    tab = "admin" if record_type in ("contact", "enrolment_event", "attendance", "funding") else "substantive"
    return render(
        request,
        "students/form.html",
        {**_dossier_context(access, tab), "form": form, "upload": upload, "title": title, "multipart": bool(upload)},
    )


def document_add(request, pupil_id):
    access = dossier_access(request.user, pupil_id)
    if not access.can_edit("document"):
        raise Http404
    form = forms.DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        actions.document_add(access, form.cleaned_data["file"], request=request)
        messages.success(request, _("The document was added."))
        return redirect("dossier_substantive", pupil_id=access.pupil.pk)
    return render(
        request,
        "students/form.html",
        {**_dossier_context(access, "substantive"), "form": form, "title": _("Document"), "multipart": True},
    )


def document_download(request, pupil_id, document_id):
    """Served only through the access check, never as a static file (S-20)."""
    access = dossier_access(request.user, pupil_id)
    if not access.can_view("document") and not access.can_view("conversation"):
        raise Http404
    with transaction.atomic():
        document = record_for(access, Document, document_id)
        # An attachment belongs to its conversation report: the right to see
        # reports decides, not the right to see loose documents.
        if not access.can_view("conversation" if document.conversation_id else "document"):
            raise Http404
        actions.dossier_read(access, "document", request=request, details={"document": document.pk})
        content = base64.b64decode(document.content)
    response = HttpResponse(content, content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="document-{document.pk}{_extension(document)}"'
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _extension(document):
    return {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}.get(document.content_type, "")


def application_new(request):
    """Register an application (aanmelding) with a placement guarantee: the
    digital dossier starts here (R-DOS-1)."""
    schools = _full_access_schools(request.user)
    if not schools.exists():
        raise PermissionDenied
    form = forms.ApplicationForm(request.POST or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        school = form.cleaned_data["school"]
        membership = next(m for m in request.user.memberships_today() if m.school_id == school.pk)
        pupil = actions.application_register(
            data=form.cleaned_data,
            acting_user=request.user,
            request=request,
            ground=f"{membership.get_role_display()} {school.brin}",
        )
        messages.success(request, _("The application was registered and the dossier was made."))
        return redirect("dossier", pupil_id=pupil.pk)
    return render(request, "students/application.html", {"form": form})
