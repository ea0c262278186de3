"""Staff pages of disclosures: the log, the forms for each kind, what was
disclosed, the director's inbox (U-2), the register of recipients and
processors, and the dossier's Verstrekkingen tab (R-DIS-7).

Thin views: disclosures.policy gives the disclosure, recipient or pupil (404
for "not yours"), disclosures.actions writes and audits, the view renders or
redirects. Making a disclosure, reading what was disclosed and deciding ask
for the second factor again when it is older than a few minutes (S-8); an
emergency does not wait for it (break-glass), the director's review is the
check on it.
"""

import base64
import csv
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from disclosures import actions
from disclosures import fields as catalogue
from disclosures.forms import (
    DecisionForm,
    ExportForm,
    InspectieForm,
    LogFilterForm,
    PupilDisclosureForm,
    RecipientForm,
    ReviewForm,
    TransferForm,
)
from disclosures.models import Disclosure, DisclosurePupil, LegalBasis, Recipient
from disclosures.policy import (
    RECIPIENT_DOCUMENT,
    can_read_data,
    decidable_disclosure,
    decidable_disclosures,
    disclosable_pupils,
    disclosure_access,
    editable_recipients,
    pupil_disclosures,
    recipient_access,
    recipients_for_school,
    schools_with,
    visible_disclosures,
    visible_recipients,
)
from disclosures.seed import missing_keys, recipient_or_default, recipients_seed
from privacy_admin.auditlog import audit_record
from privacy_admin.csvsafe import csv_cell
from privacy_admin.pdf import pdf_response
from privacy_admin.views.auth import require_recent_second_factor
from privacy_admin.views.portal import require_capability
from students.policy import dossier_access
from students.views import _dossier_context

K = Disclosure.Kind

# URL slug → kind, for the forms reached from the log and from the dossier.
NEW_KINDS = {
    "vaste-ontvanger": K.STANDING_EXPORT,
    "toestemming": K.CONSENT,
    "verwerker": K.PROCESSOR,
    "inspectie": K.INSPECTIE,
}
PUPIL_KINDS = {
    "noodgeval": K.EMERGENCY,
    "overdracht": K.TRANSFER,
    "melding": K.CHILD_ABUSE,
}
PUPIL_KIND_CAPABILITY = {
    K.EMERGENCY: "disclosures.emergency",
    K.TRANSFER: "disclosures.make",
    K.CHILD_ABUSE: "disclosures.restricted",
}
TITLES = {
    K.STANDING_EXPORT: gettext_lazy("Export to a standing recipient"),
    K.CONSENT: gettext_lazy("Disclosure with the parents' consent"),
    K.PROCESSOR: gettext_lazy("Export to a processor"),
    K.INSPECTIE: gettext_lazy("Request of the Inspectie van het Onderwijs"),
    K.EMERGENCY: gettext_lazy("Emergency disclosure"),
    K.TRANSFER: gettext_lazy("Transfer to another school"),
    K.CHILD_ABUSE: gettext_lazy("Report of suspected child abuse"),
}


def require_any_capability(*capabilities):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not any(request.user.has_capability(c) for c in capabilities):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _school_choice(request, capability):
    """(school, schools): the school asked for with ?school=, or the only one;
    (None, schools) when the user must pick. A school outside the user's
    reach is a 404."""
    schools = list(schools_with(request.user, capability).select_related("foundation"))
    if not schools:
        raise PermissionDenied
    wanted = request.GET.get("school", "")
    if wanted:
        school = next((s for s in schools if str(s.pk) == wanted), None)
        if school is None:
            raise Http404
        return school, schools
    if len(schools) == 1:
        return schools[0], schools
    return None, schools


def _with_pupils(rows):
    """Disclosures with their pupils in one query more, however many (no N+1)."""
    return rows.prefetch_related(
        Prefetch(
            "pupils",
            queryset=DisclosurePupil.objects.select_related("pupil", "pupil__group").order_by(
                "pupil__last_name", "pupil__pk"
            ),
        )
    )


def _facts(disclosure):
    """What a disclosure gives, for the summary shown everywhere (U-2)."""
    pupils = getattr(disclosure, "_prefetched_objects_cache", {}).get("pupils")
    if pupils is None:
        pupils = _with_pupils(Disclosure.objects.filter(pk=disclosure.pk)).get().pupils.all()
    return {
        "disclosure": disclosure,
        "pupils": [dp.pupil for dp in pupils],
        "field_labels": catalogue.labels(disclosure.fields),
    }


# --- The log --------------------------------------------------------------------------


@require_any_capability("disclosures.view", "disclosures.make")
def disclosure_list(request):
    """The disclosure log of the user's schools (R-DIS-7)."""
    user = request.user
    rows = (
        visible_disclosures(user)
        .select_related("school", "recipient", "requested_by", "decided_by")
        .defer(*RECIPIENT_DOCUMENT)
    )
    schools = schools_with(user, "disclosures.view") | schools_with(user, "disclosures.make")
    form = LogFilterForm(request.GET or None, schools=schools.distinct())
    page = Paginator(form.apply(rows).order_by("-requested_at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "disclosures/list.html",
        {
            "form": form,
            "page": page,
            "can_make": user.has_capability("disclosures.make"),
            "can_decide": user.has_capability("requests.decide"),
            "new_kinds": [(slug, TITLES[kind]) for slug, kind in NEW_KINDS.items()],
        },
    )


# --- Making a disclosure ----------------------------------------------------------------


def _hidden_pairs(post):
    return [
        (name, value) for name in post if name not in ("csrfmiddlewaretoken", "confirm") for value in post.getlist(name)
    ]


@require_capability("disclosures.make")
@require_recent_second_factor
def disclosure_new(request, kind):
    """The exports of R-DIS-3, R-DIS-1 and R-DIS-5 (a preview that lists who is
    blocked and why, then the disclosure), and the Inspectie's request (U-2)."""
    if kind not in NEW_KINDS:
        raise Http404
    kind = NEW_KINDS[kind]
    school, schools = _school_choice(request, "disclosures.make")
    if school is None:
        return render(request, "disclosures/school_choice.html", {"schools": schools, "title": TITLES[kind]})
    pupils = disclosable_pupils(request.user, school)
    context = {"school": school, "title": TITLES[kind], "kind": kind}
    if kind == K.INSPECTIE:
        return _inspectie_new(request, school, pupils, context)
    recipient_kind = actions.RECIPIENT_KIND[kind]
    recipients = recipients_for_school(school).filter(kind=recipient_kind)
    form = ExportForm(request.POST or None, kind=kind, recipients=recipients, pupils=pupils, school=school)
    context.update({"form": form, "no_recipients": not recipients.exists()})
    if request.method == "POST" and form.is_valid():
        try:
            plan = actions.disclosure_plan(
                school=school,
                recipient=form.cleaned_data["recipient"],
                kind=kind,
                pupils=form.chosen_pupils(),
                fields=form.cleaned_data["recipient"].fields,
                acting_user=request.user,
            )
            if request.POST.get("confirm") == "1":
                disclosure, plan = actions.disclosure_export_make(
                    school=school,
                    recipient=form.cleaned_data["recipient"],
                    kind=kind,
                    pupils=form.chosen_pupils(),
                    method=form.cleaned_data["method"],
                    acting_user=request.user,
                    request=request,
                )
                messages.success(
                    request,
                    _("The disclosure was recorded for %(n)s pupils. Download the file below.")
                    % {"n": disclosure.pupil_count},
                )
                return redirect("disclosure_detail", disclosure_id=disclosure.pk)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            context.update(
                {
                    "plan": plan,
                    "field_labels": catalogue.labels(plan.fields),
                    "hidden": _hidden_pairs(request.POST),
                    "method": dict(Disclosure.Method.choices)[form.cleaned_data["method"]],
                }
            )
            return render(request, "disclosures/export_preview.html", context)
    return render(request, "disclosures/export_form.html", context)


def _inspectie_new(request, school, pupils, context):
    recipient = recipient_or_default(school.foundation, "inspectie")
    form = InspectieForm(
        request.POST or None,
        recipient=recipient,
        capabilities=request.user.capabilities(school.pk),
        pupils=pupils,
        school=school,
    )
    if request.method == "POST" and form.is_valid():
        try:
            disclosure = actions.disclosure_request_make(
                school=school,
                pupils=form.chosen_pupils(),
                fields=form.cleaned_data["fields"],
                purpose=form.cleaned_data["purpose"],
                recipient_detail=form.cleaned_data["recipient_detail"],
                method=form.cleaned_data["method"],
                acting_user=request.user,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("The request was entered. It waits for the director; nothing is disclosed before that.")
            )
            return redirect("disclosure_detail", disclosure_id=disclosure.pk)
    context.update({"form": form, "recipient": recipient})
    return render(request, "disclosures/request_form.html", context)


def disclosure_pupil_new(request, pupil_id, kind):
    """From the dossier: an emergency (break-glass), a transfer report, or a
    report of suspected child abuse, about this pupil."""
    access = dossier_access(request.user, pupil_id)
    if kind not in PUPIL_KINDS:
        raise Http404
    kind = PUPIL_KINDS[kind]
    if not request.user.has_capability(PUPIL_KIND_CAPABILITY[kind], access.pupil.school_id):
        raise PermissionDenied
    if kind == K.EMERGENCY:
        return _pupil_new(request, access, kind)
    return require_recent_second_factor(_pupil_new)(request, access, kind)


def _pupil_new(request, access, kind):
    pupil = access.pupil
    school = pupil.school
    context = {**_dossier_context(access, "disclosures"), "title": TITLES[kind], "kind": kind}
    if kind == K.TRANSFER:
        recipient = recipient_or_default(school.foundation, "receiving-school")
        form = TransferForm(request.POST or None)
        context["field_labels"] = catalogue.labels([k for k in catalogue.TRANSFER_FIELDS if k in recipient.fields])
    else:
        recipient = recipient_or_default(school.foundation, actions.RECIPIENT_KEY[kind])
        form = PupilDisclosureForm(
            request.POST or None, kind=kind, recipient=recipient, capabilities=request.user.capabilities(school.pk)
        )
    context.update({"form": form, "recipient": recipient})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if kind == K.TRANSFER:
                disclosure = actions.disclosure_transfer_make(
                    pupil=pupil,
                    recipient_detail=data["recipient_detail"],
                    method=data["method"],
                    acting_user=request.user,
                    request=request,
                )
            else:
                make = actions.disclosure_emergency_make if kind == K.EMERGENCY else actions.disclosure_child_abuse_make
                disclosure = make(
                    pupil=pupil,
                    fields=data["fields"],
                    purpose=data["purpose"],
                    recipient_detail=data["recipient_detail"],
                    method=data["method"],
                    acting_user=request.user,
                    request=request,
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if kind == K.EMERGENCY:
                messages.warning(request, _("The emergency disclosure was recorded and the director was told."))
                return redirect("disclosure_data", disclosure_id=disclosure.pk)
            if kind == K.TRANSFER:
                messages.success(
                    request, _("The transfer report was recorded; the parents with authority were sent a link.")
                )
            else:
                messages.success(request, _("The report was recorded; the pupil's data are under a legal hold."))
            return redirect("disclosure_detail", disclosure_id=disclosure.pk)
    return render(request, "disclosures/pupil_form.html", context)


# --- One disclosure ------------------------------------------------------------------------


def disclosure_detail(request, disclosure_id):
    user = request.user
    disclosure = disclosure_access(user, disclosure_id)
    caps = user.capabilities(disclosure.school_id)
    context = _facts(disclosure)
    context.update(
        {
            "can_read": can_read_data(user, disclosure),
            "can_decide": disclosure.status == Disclosure.Status.PENDING and "requests.decide" in caps,
            "can_review": disclosure.awaits_review and "requests.decide" in caps,
            "parent_views": [
                dp for dp in disclosure.pupils.select_related("pupil").exclude(parent_view="") if dp.parent_view
            ],
        }
    )
    return render(request, "disclosures/detail.html", context)


OUTPUTS = ("html", "csv", "pdf")


def disclosure_data(request, disclosure_id):
    """What was disclosed, read again: on screen, as CSV (formulas
    neutralised, S-17) or as PDF; the transfer as its report. Every read is
    audited (R-ACC-7)."""
    disclosure = disclosure_access(request.user, disclosure_id)
    if not can_read_data(request.user, disclosure):
        raise PermissionDenied
    if disclosure.kind == K.EMERGENCY:
        return _data_response(request, disclosure)
    return require_recent_second_factor(_data_response)(request, disclosure)


def _default_output(disclosure):
    return {Disclosure.Method.CSV: "csv", Disclosure.Method.PDF: "pdf"}.get(disclosure.method, "html")


def _data_response(request, disclosure):
    output = request.GET.get("format") or "html"
    if output not in OUTPUTS:
        raise Http404
    rows = actions.disclosure_data_read(disclosure=disclosure, output=output, acting_user=request.user, request=request)
    filename = f"verstrekking-{disclosure.pk}"
    if output == "csv":
        return _csv_response(disclosure, rows, f"{filename}.csv")
    if disclosure.kind == K.TRANSFER:
        context = transfer_report_context(disclosure, rows)
        template = "disclosures/transfer_report.html"
    else:
        context = {
            "disclosure": disclosure,
            "headers": catalogue.labels(disclosure.fields),
            "rows": [
                (pupil, [catalogue.as_text(values[k], "\n") for k in disclosure.fields]) for pupil, values in rows
            ],
        }
        if len(rows) == 1:
            context["pairs"] = list(zip(context["headers"], context["rows"][0][1], strict=True))
            context["pairs_pupil"] = rows[0][0]
        template = "disclosures/data.html"
    context["default_output"] = _default_output(disclosure)
    if output == "pdf":
        return pdf_response(request, template, context, title=disclosure.get_kind_display(), filename=f"{filename}.pdf")
    return render(request, template, context)


def _csv_response(disclosure, rows, filename):
    """S-17: exactly the disclosure's fields as columns, each cell neutralised."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(disclosure.fields)
    for _pupil, values in rows:
        writer.writerow([csv_cell(catalogue.as_text(values[k])) for k in disclosure.fields])
    return response


def transfer_report_context(disclosure, rows):
    """The onderwijskundig rapport (R-DIS-2): administrative data, school
    history and results, social-emotional development, support given, absence
    of the last year, and the parents' view."""
    pupil, values = rows[0] if rows else (None, {})
    sections = []
    for key in disclosure.fields:
        value = values.get(key)
        sections.append(
            {
                "key": key,
                "label": catalogue.CATALOGUE[key].label,
                "lines": value if isinstance(value, list) else None,
                "text": "" if isinstance(value, list) else value,
            }
        )
    parent_view = ""
    if pupil is not None:
        parent_view = disclosure.pupils.filter(pupil=pupil).values_list("parent_view", flat=True).first() or ""
    return {"disclosure": disclosure, "pupil": pupil, "sections": sections, "parent_view": parent_view}


# --- The director (U-2) -------------------------------------------------------------------


# What the inbox shows of a disclosure, and nothing more (U-2). Its reads
# stay narrow: no encrypted column decrypted (the pupils' BSN), no document
# (a processor's agreement), no password hashes, and only the joins whose
# names are shown: three, two and one instead of five each, because on a
# school's few hundred disclosures PostgreSQL takes longer to plan a six-table
# join than to run it (docs/operations.md, the inbox at 4.3 x the floor).
_USER_NAME = ("username", "first_name", "last_name")
_WAITING_COLUMNS = (
    "kind",
    "status",
    "recipient_detail",
    "legal_basis",
    "purpose",
    "fields",
    "method",
    "pupil_count",
    "requested_at",
    "school__name",
    "recipient__name",
    *(f"requested_by__{name}" for name in _USER_NAME),
)
_DECIDED_COLUMNS = (
    "kind",
    "status",
    "recipient_detail",
    "decided_at",
    "decision_reason",
    "recipient__name",
    *(f"decided_by__{name}" for name in _USER_NAME),
)
_REVIEWED_COLUMNS = ("reviewed_at", "review_note", *(f"reviewed_by__{name}" for name in _USER_NAME))
# Choice labels looked up once per row: get_FOO_display() rebuilds and hashes
# the whole list of choices, translating every label, on each call.
_KIND_LABELS = dict(Disclosure.Kind.choices)
_LEGAL_BASIS_LABELS = dict(LegalBasis.choices)
_METHOD_LABELS = dict(Disclosure.Method.choices)


def _inbox_pupils(disclosures):
    """{disclosure id: [pupil]}: the pupils of the waiting disclosures with
    their names and groups only, in one query however many (no N+1)."""
    rows = (
        DisclosurePupil.objects.filter(disclosure__in=[d.pk for d in disclosures])
        .select_related("pupil__group")
        .only("disclosure", "pupil__first_name", "pupil__name_prefix", "pupil__last_name", "pupil__group__name")
        .order_by("pupil__last_name", "pupil__pk")
    )
    pupils = {}
    for row in rows:
        pupils.setdefault(row.disclosure_id, []).append(row.pupil)
    return pupils


def _inbox_item(disclosure, pupils):
    """A waiting disclosure with everything the inbox shows of it (_facts,
    with the labels of its choices)."""
    return {
        "disclosure": disclosure,
        "pupils": pupils.get(disclosure.pk, []),
        "field_labels": catalogue.labels(disclosure.fields),
        "kind": _KIND_LABELS.get(disclosure.kind, disclosure.kind),
        "legal_basis": _LEGAL_BASIS_LABELS.get(disclosure.legal_basis, disclosure.legal_basis),
        "method": _METHOD_LABELS.get(disclosure.method, disclosure.method),
    }


@require_capability("requests.decide")
def disclosure_inbox(request):
    """Pending requests with exactly what would be disclosed, emergencies
    waiting for review, and the last 100 decisions and reviews."""
    rows = decidable_disclosures(request.user)
    # Both waiting lists in one query (and one for their pupils), split here.
    waiting = list(
        rows.filter(
            Q(status=Disclosure.Status.PENDING)
            | Q(kind=K.EMERGENCY, status=Disclosure.Status.DISCLOSED, reviewed_at=None)
        )
        .select_related("school", "recipient", "requested_by")
        .only(*_WAITING_COLUMNS)
        .order_by("requested_at", "pk")
    )
    pupils = _inbox_pupils(waiting)
    pending, to_review = [], []
    for disclosure in waiting:
        item = _inbox_item(disclosure, pupils)
        (pending if disclosure.status == Disclosure.Status.PENDING else to_review).append(item)
    decided = (
        rows.exclude(decided_at=None)
        .select_related("recipient", "decided_by")
        .only(*_DECIDED_COLUMNS)
        .order_by("-decided_at", "-pk")[:100]
    )
    reviewed = (
        rows.exclude(reviewed_at=None)
        .select_related("reviewed_by")
        .only(*_REVIEWED_COLUMNS)
        .order_by("-reviewed_at", "-pk")[:100]
    )
    return render(
        request,
        "disclosures/inbox.html",
        {
            "pending": pending,
            "to_review": to_review,
            "decided": [(d, _KIND_LABELS.get(d.kind, d.kind)) for d in decided],
            "reviewed": reviewed,
        },
    )


@require_capability("requests.decide")
@require_recent_second_factor
def disclosure_decide(request, disclosure_id):
    disclosure = decidable_disclosure(request.user, disclosure_id)
    if disclosure.status != Disclosure.Status.PENDING:
        messages.info(request, _("This request was already decided."))
        return redirect("disclosure_detail", disclosure_id=disclosure.pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        decide = actions.disclosure_approve if form.cleaned_data["decision"] == "approve" else actions.disclosure_refuse
        try:
            decide(disclosure=disclosure, reason=form.cleaned_data["reason"], acting_user=request.user, request=request)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if form.cleaned_data["decision"] == "approve":
                messages.success(request, _("Approved: the disclosure is recorded as disclosed."))
            else:
                messages.success(request, _("Refused: nothing was disclosed."))
            return redirect("disclosure_inbox")
    return render(request, "disclosures/decide.html", {**_facts(disclosure), "form": form})


@require_capability("requests.decide")
def disclosure_review(request, disclosure_id):
    disclosure = decidable_disclosure(request.user, disclosure_id)
    if disclosure.kind != K.EMERGENCY:
        raise Http404
    if not disclosure.awaits_review:
        messages.info(request, _("This emergency disclosure was already reviewed."))
        return redirect("disclosure_detail", disclosure_id=disclosure.pk)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.disclosure_review(
                disclosure=disclosure, note=form.cleaned_data["note"], acting_user=request.user, request=request
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your review was recorded."))
            return redirect("disclosure_inbox")
    return render(request, "disclosures/review.html", {**_facts(disclosure), "form": form})


# --- The register -----------------------------------------------------------------------


def agreement_warnings(user):
    """Processors of the user's register whose agreement is missing, expired
    or about to expire (R-DIS-5)."""
    rows = visible_recipients(user).filter(kind=Recipient.Kind.PROCESSOR, active=True).order_by("name")
    return [(r, r.agreement_state()) for r in rows if r.agreement_state() != "ok"]


@require_any_capability("disclosures.view", "disclosures.register")
def recipient_list(request):
    user = request.user
    recipients = list(visible_recipients(user).select_related("school", "consent_category").order_by("kind", "name"))
    editable = set(editable_recipients(user).values_list("pk", flat=True))
    foundations = {s.foundation for s in schools_with(user, "disclosures.register").select_related("foundation")}
    unseeded = [f for f in foundations if missing_keys(f)]
    groups = []
    for value, label in Recipient.Kind.choices:
        entries = [r for r in recipients if r.kind == value]
        if entries:
            groups.append({"label": label, "entries": entries})
    return render(
        request,
        "disclosures/register.html",
        {
            "groups": groups,
            "editable": editable,
            "can_register": user.has_capability("disclosures.register"),
            "unseeded": unseeded,
            "warnings": agreement_warnings(user),
        },
    )


@require_POST
@require_capability("disclosures.register")
def recipient_seed(request):
    """Add the standard entries (R-DIS-2, R-DIS-3, R-DIS-5) that the
    foundation's register misses; existing entries stay as they are."""
    made = 0
    for school in schools_with(request.user, "disclosures.register").select_related("foundation"):
        count = recipients_seed(school.foundation)
        if count:
            audit_record("recipient.seeded", actor=request.user, request=request, details={"created": count})
        made += count
    messages.success(request, _("%(n)s standard entries were added to the register.") % {"n": made})
    return redirect("recipient_list")


def _register_form(request, recipient):
    schools = schools_with(request.user, "disclosures.register").select_related("foundation")
    form = RecipientForm(request.POST or None, request.FILES or None, instance=recipient, schools=schools)
    if request.method == "POST" and form.is_valid():
        try:
            saved = actions.recipient_save(
                recipient=form.instance,
                acting_user=request.user,
                request=request,
                agreement_upload=form.cleaned_data.get("agreement_document"),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The register entry was saved."))
            return redirect(f"{reverse('recipient_list')}#recipient-{saved.pk}")
    return render(request, "disclosures/recipient_form.html", {"form": form, "recipient": recipient})


@require_capability("disclosures.register")
def recipient_add(request):
    return _register_form(request, Recipient())


@require_capability("disclosures.register")
def recipient_edit(request, recipient_id):
    return _register_form(request, recipient_access(request.user, recipient_id, edit=True))


@require_any_capability("disclosures.view", "disclosures.register")
def recipient_agreement(request, recipient_id):
    """The stored processing agreement, served only through the access check."""
    recipient = recipient_access(request.user, recipient_id)
    if not recipient.agreement_content:
        raise Http404
    audit_record("recipient.agreement_read", actor=request.user, request=request, obj=recipient)
    response = HttpResponse(base64.b64decode(recipient.agreement_content), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="verwerkersovereenkomst-{recipient.pk}.pdf"'
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- The dossier's tab ---------------------------------------------------------------------


def dossier_disclosures(request, pupil_id):
    """The Verstrekkingen tab: every disclosure about this pupil (R-DIS-7);
    suspected child abuse only for the director and the IB."""
    access = dossier_access(request.user, pupil_id)
    if not access.sees_admin:
        raise Http404
    user = request.user
    pupil = access.pupil
    rows = list(
        pupil_disclosures(user, pupil)
        .select_related("recipient", "requested_by", "decided_by")
        .defer(*RECIPIENT_DOCUMENT)
        .order_by("-requested_at", "-pk")
    )
    readable = set(visible_disclosures(user).filter(pk__in=[d.pk for d in rows]).values_list("pk", flat=True))
    caps = user.capabilities(pupil.school_id)
    context = _dossier_context(access, "disclosures")
    context.update(
        {
            "rows": rows,
            "readable": readable,
            "can_emergency": "disclosures.emergency" in caps,
            "can_transfer": "disclosures.make" in caps,
            "can_report_abuse": "disclosures.restricted" in caps,
        }
    )
    return render(request, "disclosures/dossier_tab.html", context)
