"""Staff pages of parents' requests (U-2, R-RGT-1..4): the director's list with
the deadlines, the request with its appointment, extension, refusal,
corrections and decision; the viewing's overview and its record for the
staff member present; the dossier's "Parents' requests" tab.

Thin views: a capability, the one way in (disclosures.rights.policy,
students.policy), one named action (disclosures.rights.services), then a
redirect or a render.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from disclosures.rights import corrections, deadlines, overview, policy, services
from disclosures.rights.forms import (
    CompleteForm,
    ExtendForm,
    ListFilterForm,
    RefuseForm,
    ScheduleForm,
    ViewingForm,
)
from disclosures.rights.models import DossierCorrection, ParentRequest
from privacy_admin.pdf import pdf_response
from privacy_admin.views.auth import require_recent_second_factor
from privacy_admin.views.portal import require_capability
from students.actions import dossier_read
from students.policy import RECORD_TYPES, SUBSTANTIVE_TYPES, dossier_access
from students.views import _dossier_context

HANDLE = policy.HANDLE
Status = ParentRequest.Status


def _redirect_detail(parent_request):
    return redirect("rights_request_detail", request_id=parent_request.pk)


def _act(request, form, action):
    """Run a named action for a valid form; a ValidationError (the request
    changed meanwhile, or a rule of R-RGT-3/4) goes back on the form."""
    try:
        return action()
    except ValidationError as exc:
        form.add_error(None, exc)
        return None


def _substantive_corrections_read(access, rows, request):
    """Old and new values of substantive records are substantive content:
    showing them is a read of that part (R-ACC-7)."""
    if any(c.part in SUBSTANTIVE_TYPES and c.action == DossierCorrection.Action.CHANGED for c in rows):
        dossier_read(access, "substantive", request=request, details={"requests": "corrections"})


def _hidden_parts(access):
    """Parts whose corrected values the viewer's dossier access does not cover."""
    return {part for part in RECORD_TYPES if not access.can_view(part)}


# --- The director's list and the request ------------------------------------------


@require_capability(HANDLE)
def rights_request_list(request):
    """U-2, R-RGT-3: every request of the school with its deadline and the
    days left; overdue ones first and marked."""
    form = ListFilterForm(request.GET or None)
    rows = form.apply(policy.handled_requests(request.user)).select_related("pupil", "pupil__school", "guardian")
    rows = sorted(rows, key=lambda r: (not r.overdue, r.due_on if r.is_open else r.received_on, r.pk))
    today = timezone.localdate()
    overdue = policy.handled_requests(request.user).overdue(today).count()
    return render(request, "rights/list.html", {"form": form, "rows": rows, "today": today, "overdue": overdue})


@require_capability(HANDLE)
def rights_request_detail(request, request_id):
    parent_request = policy.handled_request(request.user, request_id)
    access = dossier_access(request.user, parent_request.pupil_id)
    rows = list(parent_request.corrections.select_related("applied_by"))
    with transaction.atomic():
        _substantive_corrections_read(access, [c for c in rows if access.can_view(c.part)], request)
    return render(
        request,
        "rights/detail.html",
        {
            "r": parent_request,
            "corrections": rows,
            "hidden_parts": _hidden_parts(access),
            "may_decide": policy.may_decide(request.user, parent_request),
            "may_extend": parent_request.can_extend(),
        },
    )


def _form_page(request, parent_request, form, title, template="rights/form.html", **extra):
    return render(request, template, {"r": parent_request, "form": form, "title": title, **extra})


def _blocked(parent_request, act):
    """Why `act` cannot be done on the request as it stands, or None: the
    page then says so instead of showing a form (the action refuses it too)."""
    status = parent_request.status
    if act == "schedule" and status not in (Status.RECEIVED, Status.SCHEDULED):
        return _("This request is finished; no appointment is made for it.")
    if act == "extend":
        if not parent_request.is_open:
            return _("This request has been answered; its deadline no longer runs.")
        if parent_request.extension_months:
            return _("The deadline was already extended once; it cannot be extended again.")
        if not deadlines.may_extend(parent_request.received_on, 0, timezone.localdate()):
            return _("The deadline can only be extended within the first month after receipt.")
    if act == "refuse" and status not in (Status.RECEIVED, Status.SCHEDULED):
        return _("This request has already been decided.")
    if act == "complete" and status != Status.RECEIVED:
        return _("This request has already been decided.")
    if act == "viewing" and status != Status.SCHEDULED:
        return _("This viewing has already been recorded.")
    return None


@require_capability(HANDLE)
@require_http_methods(["GET", "POST"])
def rights_request_schedule(request, request_id):
    """R-RGT-1, U-2: the appointment and the staff member present."""
    parent_request = policy.handled_request(request.user, request_id)
    if parent_request.kind != ParentRequest.Kind.VIEW:
        raise Http404
    initial = {}
    if parent_request.appointment_at:
        local = timezone.localtime(parent_request.appointment_at)
        initial = {
            "date": local.date(),
            "time": local.time(),
            "place": parent_request.appointment_place,
            "staff": parent_request.present_staff_id,
        }
    form = ScheduleForm(request.POST or None, parent_request=parent_request, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = _act(
            request,
            form,
            lambda: services.viewing_schedule(
                parent_request,
                at=data["at"],
                place=data["place"],
                staff=data["staff"],
                acting_user=request.user,
                request=request,
            ),
        )
        if done is not None:
            messages.success(request, _("The appointment was made. The parent was told by e-mail (a link only)."))
            return _redirect_detail(parent_request)
    return _form_page(
        request,
        parent_request,
        form,
        _("Make the appointment for the viewing"),
        blocked=_blocked(parent_request, "schedule"),
        may_extend=parent_request.can_extend(),
    )


@require_capability(HANDLE)
@require_http_methods(["GET", "POST"])
def rights_request_extend(request, request_id):
    """R-RGT-3: once, by up to two months, with a reason for the parent."""
    parent_request = policy.handled_request(request.user, request_id)
    form = ExtendForm(request.POST or None, parent_request=parent_request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = _act(
            request,
            form,
            lambda: services.deadline_extend(
                parent_request, months=data["months"], reason=data["reason"], acting_user=request.user, request=request
            ),
        )
        if done is not None:
            messages.success(request, _("The deadline was extended. The parent was told by e-mail (a link only)."))
            return _redirect_detail(parent_request)
    return _form_page(
        request,
        parent_request,
        form,
        _("Extend the deadline"),
        template="rights/extend.html",
        blocked=_blocked(parent_request, "extend"),
    )


@require_capability(HANDLE)
@require_http_methods(["GET", "POST"])
def rights_request_refuse(request, request_id):
    """R-RGT-4: a written motivation, and for a parent without parental
    authority the ground that applies."""
    parent_request = policy.handled_request(request.user, request_id)
    if not policy.may_decide(request.user, parent_request):
        raise PermissionDenied
    form = RefuseForm(request.POST or None, parent_request=parent_request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = _act(
            request,
            form,
            lambda: services.request_refuse(
                parent_request,
                motivation=data["motivation"],
                ground=data.get("ground", ""),
                acting_user=request.user,
                request=request,
            ),
        )
        if done is not None:
            messages.success(request, _("The request was refused. The parent was told by e-mail (a link only)."))
            return _redirect_detail(parent_request)
    return _form_page(
        request,
        parent_request,
        form,
        _("Refuse the request"),
        template="rights/refuse.html",
        blocked=_blocked(parent_request, "refuse"),
    )


@require_capability(HANDLE)
@require_http_methods(["GET", "POST"])
def rights_request_complete(request, request_id):
    """R-RGT-2: close a correction or removal request and tell the parent."""
    parent_request = policy.handled_request(request.user, request_id)
    if parent_request.kind == ParentRequest.Kind.VIEW:
        raise Http404
    form = CompleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _act(
            request,
            form,
            lambda: services.request_complete(
                parent_request, decision=form.cleaned_data["decision"], acting_user=request.user, request=request
            ),
        )
        if done is not None:
            messages.success(request, _("The request was closed. The parent was told by e-mail (a link only)."))
            return _redirect_detail(parent_request)
    return _form_page(
        request, parent_request, form, _("Tell the parent what was done"), blocked=_blocked(parent_request, "complete")
    )


# --- Corrections ----------------------------------------------------------------------


def _correction_access(request, request_id):
    parent_request = policy.handled_request(request.user, request_id)
    if parent_request.kind == ParentRequest.Kind.VIEW:
        raise Http404
    return parent_request, dossier_access(request.user, parent_request.pupil_id)


@require_capability(HANDLE)
def rights_correction_list(request, request_id):
    """The records of the part the parent points at (or another part), each
    to correct or to remove."""
    parent_request, access = _correction_access(request, request_id)
    choices = corrections.part_choices(access)
    part = request.GET.get("part") or parent_request.part
    if part not in dict(choices):
        part = choices[0][0] if choices else ""
    return render(
        request,
        "rights/corrections.html",
        {
            "r": parent_request,
            "choices": choices,
            "part": part,
            "targets": corrections.targets(access, part),
            "open": parent_request.status == ParentRequest.Status.RECEIVED,
        },
    )


@require_capability(HANDLE)
@require_http_methods(["GET", "POST"])
def rights_correction_edit(request, request_id, part, record_id):
    """R-RGT-2: change one record through the dossier's own form; the old
    value is kept with the request."""
    parent_request, access = _correction_access(request, request_id)
    target = corrections.target(access, part, record_id)
    form = corrections.correction_form(target, request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _act(
            request,
            form,
            lambda: services.correction_apply(parent_request, access, target, form, request=request),
        )
        if done is not None:
            messages.success(request, _("The correction was made; the old value is kept with the request."))
            return _redirect_detail(parent_request)
    with transaction.atomic():
        if part in SUBSTANTIVE_TYPES:
            dossier_read(access, "substantive", request=request, details={"request": parent_request.pk})
        return _form_page(
            request,
            parent_request,
            form,
            _("Correct: %(record)s") % {"record": target.label},
            template="rights/correction_form.html",
            target=target,
        )


@require_capability(HANDLE)
@require_http_methods(["GET", "POST"])
def rights_correction_remove(request, request_id, part, record_id):
    """R-RGT-2: remove one record; a confirmation first."""
    parent_request, access = _correction_access(request, request_id)
    target = corrections.target(access, part, record_id)
    if not target.removable:
        raise Http404
    error = None
    if request.method == "POST":
        try:
            services.record_remove(parent_request, access, target, request=request)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("The record was removed from the dossier."))
            return _redirect_detail(parent_request)
    return render(request, "rights/remove.html", {"r": parent_request, "target": target, "error": error})


# --- The viewing ----------------------------------------------------------------------


@require_recent_second_factor
def rights_viewing_overview(request, request_id):
    """R-RGT-1, R-DIS-7: the whole dossier, its disclosures and who viewed it,
    as a printable page and (?format=pdf) a PDF, for the appointment. Both
    are reads of the dossier (S-21) and an export (S-8: a fresh code)."""
    parent_request, access = policy.viewing_access(request.user, request_id)
    pdf = request.GET.get("format") == "pdf"
    with transaction.atomic():
        context = {"r": parent_request, "access": access, **overview.overview(access)}
        shows_health = bool(context["health_notes"])
        services.overview_read(parent_request, access, request=request, shows_health=shows_health, pdf=pdf)
    if pdf:
        return pdf_response(
            request,
            "rights/overview.html",
            context,
            title=_("Dossier overview for a viewing"),
            filename=f"dossier-overview-{parent_request.pk}.pdf",
        )
    return render(request, "rights/overview.html", context)


@require_http_methods(["GET", "POST"])
def rights_viewing_held(request, request_id):
    """R-RGT-1: afterwards the staff member present (or the director)
    records who attended; an audit event of the dossier."""
    parent_request, access = policy.viewing_access(request.user, request_id)
    form = ViewingForm(request.POST or None, initial={"held_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = _act(
            request,
            form,
            lambda: services.viewing_record(
                parent_request,
                access,
                held_on=data["held_on"],
                attendees=data["attendees"],
                acting_user=request.user,
                request=request,
            ),
        )
        if done is not None:
            messages.success(request, _("The viewing was recorded."))
            return redirect("rights_my_viewings")
    return _form_page(
        request,
        parent_request,
        form,
        _("Record the viewing"),
        template="rights/viewing_held.html",
        blocked=_blocked(parent_request, "viewing"),
    )


@require_capability("dossier.all_pupils")
def rights_my_viewings(request):
    """The viewings the user is named for as the staff member present."""
    rows = (
        policy.my_viewings(request.user)
        .filter(status__in=policy.VIEWING_STATES)
        .select_related("pupil", "pupil__school")
        .order_by("status", "appointment_at", "pk")
    )
    return render(request, "rights/my_viewings.html", {"rows": rows})


# --- The dossier tab ------------------------------------------------------------------


def dossier_requests(request, pupil_id):
    """The dossier's "Parents' requests" tab: every request about the pupil,
    its decision and the corrections made (R-RGT-2: the decision is part of
    the dossier). For those who see and edit the whole dossier."""
    access = dossier_access(request.user, pupil_id)
    if not policy.may_open_dossier_requests(access):
        raise Http404
    requests = list(
        ParentRequest.objects.filter(pupil=access.pupil)
        .select_related("guardian", "present_staff")
        .prefetch_related(Prefetch("corrections", queryset=DossierCorrection.objects.select_related("applied_by")))
        .order_by("-received_at", "-pk")
    )
    rows = [c for r in requests for c in r.corrections.all()]
    with transaction.atomic():
        _substantive_corrections_read(access, [c for c in rows if access.can_view(c.part)], request)
        context = _dossier_context(access, "requests")
    context.update(
        {
            "requests": requests,
            "handler": request.user.has_capability(HANDLE, access.pupil.school_id),
            "hidden_parts": _hidden_parts(access),
        }
    )
    return render(request, "rights/dossier_requests.html", context)
