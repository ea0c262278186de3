"""Staff pages of consent: the Toestemming tab of the dossier with the full
history and the paper form entry (R-CON-1, R-CON-6, R-CON-7), the consent
matrix of a group, and the categories and reminder date per school (R-CON-8,
R-CON-3).

Pupils come only through students.policy (dossier_access, visible_pupils);
consent rules come from consent.services. The category writes below are
named actions with their audit event in the same transaction; they belong in
consent/services.py and are kept here until they move.
"""

import datetime
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from consent import services
from consent.forms_staff import (
    CategoryCreateForm,
    CategoryForm,
    PaperEntryForm,
    ReminderDateForm,
    ui_language,
)
from consent.models import ConsentAnswer, ConsentCategory, ConsentSettings, QuestionVersion
from privacy_admin.auditlog import audit_record
from privacy_admin.models import School
from privacy_admin.roles import SchoolRole
from students import actions as student_actions
from students.forms import DocumentForm
from students.models import Guardian
from students.policy import dossier_access, visible_pupils
from students.views import _dossier_context, _visible_groups, dossier_user

SCAN_PREFIX = "scan"
CATEGORY_MANAGERS = (SchoolRole.DIRECTOR, SchoolRole.APP_ADMIN)


# --- How an answer or an effective state reads ---------------------------------


def _answer_text(category, value):
    if category.kind == ConsentCategory.Kind.OBJECTION:
        return _("objection") if value == ConsentAnswer.Value.REFUSED else _("no objection")
    return _("consent given") if value == ConsentAnswer.Value.GIVEN else _("consent refused")


def _effective_display(effective):
    """(css class, text): "no consent" is said in words, not by colour alone."""
    if effective.state == "given":
        return "consent-yes", _("consent")
    if effective.state == "no_objection":
        return "consent-yes", _("no objection")
    if effective.state == "objected":
        return "consent-no", _("objection")
    if effective.state == "refused":
        values = {a.value for a in effective.answers.values()}
        if ConsentAnswer.Value.GIVEN in values:
            return "consent-no", _("no consent: the parents disagree")
        return "consent-no", _("no consent: refused")
    return "consent-no", _("no consent: no answer")


def _with_current_versions(categories):
    """Set `category.current` on each category, in one query."""
    categories = list(categories)
    current = {}
    for version in QuestionVersion.objects.filter(category__in=categories).order_by("number"):
        current[version.category_id] = version
    for category in categories:
        category.current = current.get(category.pk)
    return categories


# --- The dossier tab ------------------------------------------------------------


def _tab_access(request, pupil_id):
    access = dossier_access(request.user, pupil_id)
    if not access.sees_admin:
        raise Http404
    return access


def _authority_guardians(pupil):
    return Guardian.objects.filter(pupil_links__pupil=pupil, pupil_links__has_authority=True).order_by("pk")


def _active_categories(school_id):
    return _with_current_versions(ConsentCategory.objects.filter(school_id=school_id, active=True))


def _entry_form(access, categories, data=None, links=None):
    """`links`: the pupil's guardian links with their guardians, when the
    caller has them; the parents offered then need no query."""
    offered = None
    if links is not None:
        offered = sorted((link.guardian for link in links if link.has_authority), key=lambda guardian: guardian.pk)
    return PaperEntryForm(
        data, guardians=_authority_guardians(access.pupil), categories=categories, guardian_list=offered
    )


def _tab_context(access, categories, *, entry_form=None, upload_form=None):
    pupil = access.pupil
    language = ui_language()
    links = list(pupil.guardian_links.select_related("guardian").order_by("-has_authority", "pk"))
    history = list(
        ConsentAnswer.objects.filter(pupil=pupil)
        .select_related("category", "guardian", "entered_by", "version")
        .order_by("-at", "-pk")
    )
    authority = {link.guardian_id: link.has_authority for link in links}
    newest = {}
    for answer in history:  # newest first
        newest.setdefault((answer.category_id, answer.guardian_id), answer)
    # The effective answer from the rows just read (consent.services.effective_of
    # decides, as it does for every page), not from a second read of them.
    holders = [guardian_id for guardian_id, has_authority in authority.items() if has_authority]
    rows = []
    for category in categories:
        answers = {g: newest[(category.pk, g)] for g in holders if (category.pk, g) in newest}
        css, text = _effective_display(services.effective_of(category, answers))
        parents = []
        for link in links:
            answer = newest.get((category.pk, link.guardian_id))
            parents.append(
                {"link": link, "answer": answer, "text": _answer_text(category, answer.value) if answer else ""}
            )
        rows.append(
            {
                "category": category,
                "label": category.label(language),
                "question": category.current.text(language) if category.current else "",
                "version": category.current,
                "css": css,
                "effective": text,
                "parents": parents,
            }
        )
    entries = [
        {
            "answer": answer,
            "label": answer.category.label(language),
            "text": _answer_text(answer.category, answer.value),
            "has_authority": authority.get(answer.guardian_id, False),
        }
        for answer in history
    ]
    context = _dossier_context(access, "consent")
    context.update(
        {
            "rows": rows,
            "history": entries,
            "links": links,
            "can_enter": access.edit_core,
        }
    )
    if access.edit_core:
        context["entry_form"] = entry_form or _entry_form(access, categories, links=links)
        context["upload_form"] = upload_form or DocumentForm(prefix=SCAN_PREFIX)
        context["has_authority_holder"] = any(link.has_authority for link in links)
    return context


def dossier_consent(request, pupil_id):
    """The Toestemming tab: the effective answer per category, each parent's
    newest answer and the full history with the exact question text
    (R-CON-6, R-CON-7)."""
    access = _tab_access(request, pupil_id)
    categories = _active_categories(access.pupil.school_id)
    return render(request, "consent/staff_dossier_consent.html", _tab_context(access, categories))


@transaction.atomic
def paper_form_record(access, *, guardian, channel, answers, scan_upload=None, request):
    """R-CON-1: the answers of one parent from the paper enrolment form (or a
    phone call), each recorded through services.answer_record with the staff
    member who entered it, optionally with the scan; all or nothing."""
    scan = None
    if scan_upload is not None:
        scan = student_actions.document_add(access, scan_upload, request=request)
    recorded = []
    for category, value in answers:
        recorded.append(
            services.answer_record(
                pupil=access.pupil,
                category=category,
                guardian=guardian,
                value=value,
                channel=channel,
                acting_user=request.user,
                request=request,
                scan=scan,
                ground=access.ground,
            )
        )
    return recorded


@require_POST
def dossier_consent_entry(request, pupil_id):
    access = dossier_access(request.user, pupil_id)
    if not access.edit_core:
        raise Http404
    categories = _active_categories(access.pupil.school_id)
    form = _entry_form(access, categories, request.POST)
    has_scan = bool(request.FILES)
    upload = DocumentForm(request.POST, request.FILES, prefix=SCAN_PREFIX) if has_scan else None
    if form.is_valid() and (upload is None or upload.is_valid()):
        try:
            recorded = paper_form_record(
                access,
                guardian=form.cleaned_data["guardian"],
                channel=form.cleaned_data["channel"],
                answers=form.answers(),
                scan_upload=upload.cleaned_data["file"] if upload is not None else None,
                request=request,
            )
        except (PermissionDenied, ValidationError) as exc:
            # The policy changed between showing and posting the form (e.g.
            # the authority was removed): nothing was stored.
            reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            form.add_error(None, reason or _("These answers cannot be recorded."))
        else:
            messages.success(
                request,
                ngettext("%(n)s answer was recorded.", "%(n)s answers were recorded.", len(recorded))
                % {"n": len(recorded)},
            )
            return redirect("dossier_consent", pupil_id=access.pupil.pk)
    context = _tab_context(access, categories, entry_form=form, upload_form=upload)
    return render(request, "consent/staff_dossier_consent.html", context)


# --- The consent matrix of a group ------------------------------------------------


@dossier_user
def consent_matrix(request, group_id):
    """Pupils the user may see in this group × active categories, "no
    consent" at a glance. A constant number of queries, whatever the size."""
    group = _visible_groups(request.user).filter(pk=group_id).first()
    if group is None:
        raise Http404
    pupils = list(visible_pupils(request.user).filter(group=group).order_by("last_name", "first_name", "pk"))
    if not request.user.has_capability("dossier.all_pupils", group.school_id):
        # Granted access (an assignment, an involvement) shows consent only
        # where it covers the administrative part, as on the dossier's tab.
        pupils = [p for p in pupils if dossier_access(request.user, p.pk).sees_admin]
    categories = list(ConsentCategory.objects.filter(school_id=group.school_id, active=True))
    effective = services.effective_answers(pupils, categories)
    language = ui_language()
    rows = []
    allowed_counts = [0] * len(categories)
    for pupil in pupils:
        cells = []
        for index, category in enumerate(categories):
            state = effective[(pupil.pk, category.pk)]
            css, text = _effective_display(state)
            allowed_counts[index] += state.allowed
            cells.append({"css": css, "text": text})
        rows.append({"pupil": pupil, "cells": cells})
    headers = [
        {"label": c.label(language), "objection": c.kind == ConsentCategory.Kind.OBJECTION, "allowed": n}
        for c, n in zip(categories, allowed_counts, strict=True)
    ]
    return render(
        request,
        "consent/staff_matrix.html",
        {"group": group, "headers": headers, "rows": rows, "pupil_count": len(pupils)},
    )


# --- Categories and the reminder date per school ---------------------------------


def consent_managed_schools(user):
    """Schools where the user manages consent categories: a current membership
    there as director or application admin (R-CON-8)."""
    ids = [m.school_id for m in user.memberships_today() if m.role in CATEGORY_MANAGERS]
    return School.objects.filter(pk__in=ids).order_by("name")


def consent_manager(view):
    """403 for a user who manages no school's categories; a school or category
    outside the managed schools is then a 404."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_active and consent_managed_schools(request.user).exists()):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _managed_school(user, school_id):
    school = consent_managed_schools(user).filter(pk=school_id).first()
    if school is None:
        raise Http404
    return school


def _managed_category(user, category_id):
    category = (
        ConsentCategory.objects.filter(pk=category_id, school__in=consent_managed_schools(user))
        .select_related("school")
        .first()
    )
    if category is None:
        raise Http404
    return category


@transaction.atomic
def category_create(*, school, form, acting_user, request=None):
    """A new category; its question becomes version 1 (R-CON-8, R-CON-7)."""
    category = form.save(commit=False)
    category.school = school
    category.order = (school.consent_categories.aggregate(m=Max("order"))["m"] or 0) + 1
    category.save()
    audit_record(
        "consent.category_created",
        actor=acting_user,
        request=request,
        obj=category,
        school_id=school.pk,
        details={"key": category.key, "kind": category.kind},
    )
    services.question_text_change(
        category,
        text_nl=form.cleaned_data["text_nl"],
        text_en=form.cleaned_data["text_en"],
        acting_user=acting_user,
        request=request,
    )
    return category


@transaction.atomic
def category_update(category, *, form, acting_user, request=None):
    """Names and flags change in place; a changed question text is a new
    version through services.question_text_change (R-CON-7)."""
    changed = sorted(name for name in form.changed_data if name not in ("text_nl", "text_en"))
    if changed:
        form.save()
        audit_record(
            "consent.category_changed",
            actor=acting_user,
            request=request,
            obj=category,
            school_id=category.school_id,
            details={"fields": changed},
        )
    return services.question_text_change(
        category,
        text_nl=form.cleaned_data["text_nl"],
        text_en=form.cleaned_data["text_en"],
        acting_user=acting_user,
        request=request,
    )


@transaction.atomic
def reminder_date_set(school, *, day, month, acting_user, request=None):
    """The first school day of the school, when the yearly reminder goes out (R-CON-3)."""
    settings, _created = ConsentSettings.objects.get_or_create(school=school)
    old = f"{settings.reminder_day:02d}-{settings.reminder_month:02d}"
    settings.reminder_day, settings.reminder_month = day, month
    settings.save(update_fields=["reminder_day", "reminder_month"])
    audit_record(
        "consent.reminder_date_changed",
        actor=acting_user,
        request=request,
        obj=settings,
        school_id=school.pk,
        details={"old": old, "new": f"{day:02d}-{month:02d}"},
    )
    return settings


def _display_date(setting):
    try:
        return datetime.date(2023, setting.reminder_month, setting.reminder_day)
    except ValueError:
        return None


@consent_manager
def consent_categories(request):
    schools = list(consent_managed_schools(request.user))
    categories = _with_current_versions(
        ConsentCategory.objects.filter(school__in=schools).order_by("school__name", "order", "pk")
    )
    settings = {s.school_id: s for s in ConsentSettings.objects.filter(school__in=schools)}
    language = ui_language()
    sections = []
    for school in schools:
        setting = settings.get(school.pk) or ConsentSettings(school=school)
        sections.append(
            {
                "school": school,
                "reminder_date": _display_date(setting),
                "categories": [
                    {
                        "category": c,
                        "label": c.label(language),
                        "question": c.current.text(language) if c.current else "",
                        "version": c.current,
                    }
                    for c in categories
                    if c.school_id == school.pk
                ],
            }
        )
    return render(request, "consent/staff_categories.html", {"sections": sections})


@consent_manager
def consent_category_add(request, school_id):
    school = _managed_school(request.user, school_id)
    form = CategoryCreateForm(request.POST or None, school=school)
    if request.method == "POST" and form.is_valid():
        category_create(school=school, form=form, acting_user=request.user, request=request)
        messages.success(request, _("The category was added."))
        return redirect("consent_categories")
    return render(
        request,
        "consent/staff_form.html",
        {"form": form, "title": _("New consent category"), "school": school},
    )


@consent_manager
def consent_category_edit(request, category_id):
    category = _managed_category(request.user, category_id)
    form = CategoryForm(request.POST or None, instance=category)
    if request.method == "POST" and form.is_valid():
        before = category.current_version()
        version = category_update(category, form=form, acting_user=request.user, request=request)
        if before is not None and version.pk != before.pk:
            messages.success(
                request,
                _("Saved. The question is now version %(n)s; earlier answers keep the text they answered.")
                % {"n": version.number},
            )
        else:
            messages.success(request, _("Saved."))
        return redirect("consent_categories")
    language = ui_language()
    return render(
        request,
        "consent/staff_form.html",
        {
            "form": form,
            "title": category.label(language),
            "school": category.school,
            "versions": category.versions.order_by("-number"),
        },
    )


@consent_manager
def consent_reminder_date(request, school_id):
    school = _managed_school(request.user, school_id)
    current = ConsentSettings.objects.filter(school=school).first() or ConsentSettings(school=school)
    form = ReminderDateForm(
        request.POST or None, initial={"reminder_day": current.reminder_day, "reminder_month": current.reminder_month}
    )
    if request.method == "POST" and form.is_valid():
        reminder_date_set(
            school,
            day=form.cleaned_data["reminder_day"],
            month=form.cleaned_data["reminder_month"],
            acting_user=request.user,
            request=request,
        )
        messages.success(request, _("The reminder date was saved."))
        return redirect("consent_categories")
    return render(
        request,
        "consent/staff_form.html",
        {"form": form, "title": _("Date of the yearly reminder"), "school": school},
    )
