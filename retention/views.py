"""The application admin's retention screen (U-3): what is due per school and
category on a chosen date, the pupils behind a count, the confirmation with a
step-up second factor (S-8), the progress of the purge, its result and the
deletion certificate; the terms with a preview before saving (R-RET-5); the
nightly mode per school; and the legal holds of the director and the FG
(R-RET-6). Schools, runs, holds and pupils come only through
retention.policy; every write is an action of retention.actions."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from privacy_admin.auditlog import audit_record
from privacy_admin.pdf import pdf_response
from privacy_admin.records import RetentionCategory
from privacy_admin.views.auth import require_recent_second_factor
from privacy_admin.views.portal import require_capability
from retention import actions, engine
from retention.forms import AsOfForm, LegalHoldForm, PurgeConfirmForm, RetentionModeForm, RuleTermForm
from retention.models import PurgeRecord, PurgeRun, RetentionRule, RetentionSettings
from retention.policy import (
    hold_access,
    hold_pupils,
    hold_schools,
    may_view_runs,
    retention_school,
    retention_schools,
    run_access,
    visible_holds,
    visible_runs,
)
from students.policy import visible_pupils

SPECIAL = "special"
DRILL_DOWN_PAGE = 100


def _label(category):
    return RetentionCategory(category).label


def run_viewer(view):
    """The purge runs: the application admin (their schools) and the
    foundation's FG and those beside it (all its schools); 403 for others."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not may_view_runs(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


# --- what is due ----------------------------------------------------------------


def _rules_by_category():
    rules = {}
    for rule in RetentionRule.objects.order_by("condition"):
        rules.setdefault(rule.category, []).append(rule)
    return rules


def _category_rows(report, rules):
    return [
        {
            "category": category,
            "label": _label(category),
            "rules": rules.get(category, []),
            "due": len(report.pupils[category]),
            "held": len(report.held_by_category.get(category, [])),
        }
        for category in engine.CATEGORIES
    ]


def _due_pupil_count(report):
    return len({pk for ids in report.pupils.values() for pk in ids})


@require_capability("retention.run")
def retention_overview(request):
    """U-3: per school and category, the number of pupils with data due on the
    chosen date; held pupils counted apart (R-RET-6)."""
    form = AsOfForm(request.GET or None)
    as_of = form.chosen_date()
    schools = list(retention_schools(request.user))
    modes = dict(RetentionSettings.objects.filter(school__in=schools).values_list("school_id", "mode"))
    rules = _rules_by_category()
    sections = []
    reports = engine.due_by_school(as_of, schools)
    for school in schools:
        report = reports[school.pk]
        sections.append(
            {
                "school": school,
                "rows": _category_rows(report, rules),
                "pupils": _due_pupil_count(report),
                "held": len(report.held),
                "mode": RetentionSettings.Mode(modes.get(school.pk, RetentionSettings.Mode.PROPOSE)).label,
            }
        )
    return render(
        request,
        "retention/overview.html",
        {
            "form": form,
            "as_of": as_of,
            "can_purge": as_of <= timezone.localdate(),
            "sections": sections,
            "rules": [rule for category in engine.CATEGORIES for rule in rules.get(category, [])],
            "recent_runs": visible_runs(request.user).select_related("school", "by")[:5],
        },
    )


@require_capability("retention.run")
def retention_due_pupils(request, school_id, category):
    """The pupils behind one count: name, group, unenrolment date and due
    date; pupils under a legal hold marked as held (never the reason)."""
    school = retention_school(request.user, school_id)
    if category not in engine.CATEGORIES:
        raise Http404
    form = AsOfForm(request.GET or None)
    as_of = form.chosen_date()
    report = engine.due(as_of, school=school)
    held = set(report.held_by_category[category])
    pupils = (
        visible_pupils(request.user)
        .filter(school=school, pk__in=[*report.pupils[category], *held])
        .select_related("group", "enrolment")
        .order_by("last_name", "first_name", "pk")
    )
    page = Paginator(pupils, DRILL_DOWN_PAGE).get_page(request.GET.get("page"))
    rules = {(rule.category, rule.condition): rule for rule in RetentionRule.objects.all()}
    rows = []
    for pupil in page:
        enrolment = pupil.enrolment
        dates = engine.due_dates(enrolment.left_on, enrolment.destination == SPECIAL, rules)
        rows.append({"pupil": pupil, "left_on": enrolment.left_on, "due_on": dates[category], "held": pupil.pk in held})
    return render(
        request,
        "retention/due_pupils.html",
        {
            "school": school,
            "category": category,
            "label": _label(category),
            "as_of": as_of,
            "form": form,
            "rows": rows,
            "page": page,
        },
    )


# --- confirming the purge ---------------------------------------------------------


@require_capability("retention.run")
@require_recent_second_factor
def retention_confirm(request, school_id):
    """U-3, S-8: confirm the purge of one school, after a fresh second factor.
    The purge runs as a task; the admin follows it on the progress page."""
    school = retention_school(request.user, school_id)
    as_of = AsOfForm(request.GET or None).chosen_date()
    form = PurgeConfirmForm(request.POST or None, initial={"as_of": as_of})
    if request.method == "POST":
        if form.is_valid():
            run = actions.purge_confirm(
                school=school, as_of=form.cleaned_data["as_of"], acting_user=request.user, request=request
            )
            return redirect("retention_progress", run_id=run.pk)
        as_of = form.cleaned_data.get("as_of") or as_of
    report = engine.due(as_of, school=school)
    return render(
        request,
        "retention/confirm.html",
        {
            "school": school,
            "as_of": as_of,
            "form": form,
            "rows": _category_rows(report, _rules_by_category()),
            "pupils": _due_pupil_count(report),
            "held": len(report.held),
        },
    )


# --- runs: progress, result, certificate ------------------------------------------


def _progress_text(run):
    if run.status == PurgeRun.Status.QUEUED:
        return _("Waiting for the background worker to start the purge.")
    if run.is_audit:
        return _("%(done)s of %(total)s audit events removed (%(percent)s%%).") % {
            "done": run.done,
            "total": run.total,
            "percent": run.percent,
        }
    return _("%(done)s of %(total)s handled (%(percent)s%%), counting each pupil once per category.") % {
        "done": run.done,
        "total": run.total,
        "percent": run.percent,
    }


def _progress_context(run):
    stalled = run.stalled()
    return {
        "status": run.status,
        "label": str(run.get_status_display()),
        "done": run.done,
        "total": run.total,
        "percent": run.percent,
        "finished": run.finished,
        "stalled": stalled,
        "text": _progress_text(run),
        "result_url": reverse("retention_result", kwargs={"run_id": run.pk}),
    }


@run_viewer
def retention_progress(request, run_id):
    """U-3: the live progress bar. Without JavaScript, a plain link reloads
    the page; with it, static/js/retention-progress.js polls the status."""
    run = run_access(request.user, run_id)
    return render(request, "retention/progress.html", {"run": run, "progress": _progress_context(run)})


@run_viewer
def retention_progress_status(request, run_id):
    """The progress as JSON for the page's script: counts and status only."""
    run = run_access(request.user, run_id)
    return JsonResponse(_progress_context(run))


def _result_rows(run):
    counts = run.counts if isinstance(run.counts, dict) else {}
    due, purged = counts.get("due", {}), counts.get("purged", {})
    rows = [
        {"label": _label(category), "due": due.get(category, 0), "purged": purged.get(category, 0)}
        for category in engine.CATEGORIES
        if due.get(category) or purged.get(category)
    ]
    events = counts.get("audit_events") or {}
    if events.get("due") or events.get("purged"):
        # Counted in events, not pupils: the label says so.
        rows.append({"label": _("Audit log (events)"), "due": events["due"], "purged": events.get("purged", 0)})
    return rows


def _run_context(run):
    return {
        "run": run,
        "rows": _result_rows(run),
        "held": run.counts.get("held", 0) if isinstance(run.counts, dict) else 0,
        "records": run.records.select_related("by"),
        "failed_label": _label(run.failed_category) if run.failed_category else "",
        "stalled": run.stalled(),
    }


@run_viewer
def retention_result(request, run_id):
    """U-3, R-RET-6: counts per category, held pupils, status, who and when,
    a failed batch, and the deletion records; never the removed content."""
    run = run_access(request.user, run_id)
    return render(request, "retention/result.html", _run_context(run))


@run_viewer
def retention_runs(request):
    """Past runs with their deletion records (category, count, rule, date, who)."""
    runs = visible_runs(request.user).select_related("school", "by")
    runs = runs.prefetch_related(Prefetch("records", queryset=PurgeRecord.objects.select_related("by")))
    page = Paginator(runs, 20).get_page(request.GET.get("page"))
    return render(request, "retention/runs.html", {"page": page})


@run_viewer
def retention_certificate(request, run_id):
    """The deletion certificate for the FG (R-RET-6): what was removed, on
    which rule, when and by whom, in counts; no pupil is named. Only for a
    finished run."""
    run = run_access(request.user, run_id)
    if not run.finished:
        raise Http404
    audit_record("retention_certificate", request=request, obj=run, school_id=run.school_id)
    context = _run_context(run) | {"foundation": run.school.foundation if run.school else None, "now": timezone.now()}
    return pdf_response(
        request,
        "retention/certificate.html",
        context,
        title=_("Deletion certificate %(number)s") % {"number": run.pk},
        filename=f"verwijderverklaring-{run.pk}.pdf",
    )


# --- settings: the nightly mode and the terms -------------------------------------


@require_capability("retention.run")
def retention_mode(request, school_id):
    school = retention_school(request.user, school_id)
    current = RetentionSettings.objects.filter(school=school).first()
    form = RetentionModeForm(
        request.POST or None, initial={"mode": current.mode if current else RetentionSettings.Mode.PROPOSE}
    )
    if request.method == "POST" and form.is_valid():
        actions.retention_mode_set(
            school=school, mode=form.cleaned_data["mode"], acting_user=request.user, request=request
        )
        messages.success(request, _("The nightly purge setting was saved."))
        return redirect("retention_overview")
    return render(request, "retention/mode.html", {"school": school, "form": form})


def _due_counts(as_of, schools):
    totals = dict.fromkeys(engine.CATEGORIES, 0)
    for report in engine.due_by_school(as_of, schools).values():
        for category, count in report.counts().items():
            totals[category] += count
    return totals


def _rule_preview(rule, term, as_of, schools):
    """What the new term would make due on `as_of` at the user's schools,
    beside what is due now. The engine reads the rules from the database, so
    the new term is written inside a transaction that is always rolled back:
    nothing is saved and no one else ever sees it."""
    before = _due_counts(as_of, schools)
    with transaction.atomic():
        RetentionRule.objects.filter(pk=rule.pk).update(
            years=term["years"], months=term["months"], permanent=term["permanent"]
        )
        after = _due_counts(as_of, schools)
        transaction.set_rollback(True)
    rows = [
        {"label": _label(category), "before": before[category], "after": after[category]}
        for category in engine.CATEGORIES
    ]
    new_rule = RetentionRule(category=rule.category, condition=rule.condition, **term)
    return {"as_of": as_of, "rows": rows, "rule": new_rule, "differs": before != after}


@require_capability("retention.run")
@require_recent_second_factor
def retention_rule_edit(request, rule_id):
    """R-RET-5: change a term. The first post shows a preview of what the
    change would make due today; only the confirmation saves it, audited.
    Changing a term asks for a fresh second factor (S-8): in automatic mode
    the next night purges by it."""
    rule = RetentionRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise Http404
    initial = {"years": rule.years, "months": rule.months, "permanent": rule.permanent}
    form = RuleTermForm(request.POST or None, initial=initial, rule=rule)
    preview = confirm_form = None
    if request.method == "POST" and form.is_valid():
        term = form.cleaned_data
        if request.POST.get("step") == "save":
            actions.retention_rule_change(
                rule=rule,
                years=term["years"],
                months=term["months"],
                permanent=term["permanent"],
                acting_user=request.user,
                request=request,
            )
            messages.success(request, _("The term was saved. It applies to every school."))
            return redirect("retention_overview")
        preview = _rule_preview(rule, term, timezone.localdate(), list(retention_schools(request.user)))
        # The previewed term again, as hidden inputs of the save button's
        # form: without ids, so the page's labels keep pointing at the
        # visible form below (one id per page).
        confirm_form = RuleTermForm(initial=term, rule=rule, auto_id=False)
    context = {"rule": rule, "form": form, "preview": preview, "confirm_form": confirm_form}
    return render(request, "retention/rule_edit.html", context)


# --- legal holds ------------------------------------------------------------------


@require_capability("legal_hold.manage")
def legal_hold_list(request):
    holds = visible_holds(request.user).select_related("pupil", "pupil__school", "set_by", "lifted_by")
    holds = list(holds.order_by("-set_at", "-pk"))
    return render(
        request,
        "retention/holds.html",
        {"active": [h for h in holds if h.active], "lifted": [h for h in holds if not h.active]},
    )


@require_capability("legal_hold.manage")
def legal_hold_new(request):
    form = LegalHoldForm(request.POST or None, schools=hold_schools(request.user), pupils=hold_pupils(request.user))
    if request.method == "POST" and form.is_valid():
        hold = actions.legal_hold_set(
            pupil=form.pupil, reason=form.cleaned_data["reason"], acting_user=request.user, request=request
        )
        messages.success(request, _("The legal hold is set: no purge touches this pupil's data until it is lifted."))
        return redirect("legal_hold_detail", hold_id=hold.pk)
    return render(request, "retention/hold_new.html", {"form": form})


@require_capability("legal_hold.manage")
def legal_hold_detail(request, hold_id):
    hold = hold_access(request.user, hold_id)
    return render(request, "retention/hold_detail.html", {"hold": hold})


@require_POST
@require_capability("legal_hold.manage")
def legal_hold_lift(request, hold_id):
    hold = hold_access(request.user, hold_id)
    if hold.active:
        actions.legal_hold_lift(hold=hold, acting_user=request.user, request=request)
        messages.success(request, _("The legal hold is lifted. The pupil's data follows the terms again."))
    return redirect("legal_hold_detail", hold_id=hold.pk)
