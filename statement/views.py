"""The public privacy statement (no login: /privacy/ is on the staff gate's
public prefixes) and the staff pages around it.

The public page is Dutch unless the visitor chose English with the language
switch (the language cookie): the statement is a Dutch legal text first, so a
browser's Accept-Language alone does not change it. It shows the version in
force, made first when the configuration changed (statement_publish); old
versions are read from their stored content, so they never change.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from privacy_admin.models import School
from privacy_admin.pdf import pdf_response
from statement import policy
from statement.diff import has_changes, line_diff
from statement.forms import DiffForm, StatementTextForm
from statement.models import StatementText, StatementVersion
from statement.services import latest_version, statement_publish, statement_text_change

TITLES = {"nl": "Privacyverklaring", "en": "Privacy statement"}


def _language(request):
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return "en" if chosen.startswith("en") else "nl"


def _public_school(brin):
    school = School.objects.select_related("foundation").filter(brin=brin.upper()).first()
    if school is None:
        raise Http404
    return school


def _version(school, number):
    version = StatementVersion.objects.filter(school=school, number=number).first()
    if version is None:
        raise Http404
    return version


def _context(school, version, current, language):
    return {
        "school": school,
        "version": version,
        "current": current,
        "is_current": current is not None and version.pk == current.pk,
        "lang": language,
        "title": f"{TITLES[language]} {school.name}",
        # Rendered by our own templates with autoescaping, stored unchanged.
        "content": mark_safe(version.content(language)),  # noqa: S308
    }


def _page(request, school, version, current):
    language = _language(request)
    with translation.override(language):
        response = render(request, "statement/public.html", _context(school, version, current, language))
    response["Content-Language"] = language
    return response


def _pdf(request, school, version, current):
    language = _language(request)
    context = _context(school, version, current, language)
    filename = f"{TITLES['nl'].lower()}-{school.brin}-v{version.number}-{language}.pdf"
    with translation.override(language):
        return pdf_response(request, "statement/public.html", context, title=context["title"], filename=filename)


@require_safe
def statement_public(request, brin):
    """The statement in force, in Dutch or (by the language switch) English."""
    school = _public_school(brin)
    version = statement_publish(school)
    return _page(request, school, version, version)


@require_safe
def statement_pdf(request, brin):
    school = _public_school(brin)
    version = statement_publish(school)
    return _pdf(request, school, version, version)


@require_safe
def statement_versions(request, brin):
    school = _public_school(brin)
    current = statement_publish(school)
    language = _language(request)
    versions = (
        StatementVersion.objects.filter(school=school).order_by("-number").only("number", "published_at", "school_id")
    )
    with translation.override(language):
        response = render(
            request,
            "statement/versions.html",
            {"school": school, "versions": versions, "current": current, "lang": language, "title": TITLES[language]},
        )
    response["Content-Language"] = language
    return response


@require_safe
def statement_version(request, brin, number):
    """An old (or the current) version at its stable address, as published."""
    school = _public_school(brin)
    return _page(request, school, _version(school, number), latest_version(school))


@require_safe
def statement_version_pdf(request, brin, number):
    school = _public_school(brin)
    return _pdf(request, school, _version(school, number), latest_version(school))


# --- Staff ---------------------------------------------------------------------------


@require_safe
def statement_admin(request):
    """Links to each school's statement, its texts and (for the FG) the comparison of versions."""
    policy.require_statement_staff(request.user)
    text_schools = list(policy.text_schools(request.user))
    oversight = list(policy.oversight_schools(request.user))
    schools = {s.pk: s for s in text_schools + oversight}
    latest = {}
    for version in StatementVersion.objects.filter(school_id__in=schools).order_by("school_id", "number"):
        latest[version.school_id] = version
    rows = [
        {
            "school": school,
            "latest": latest.get(school.pk),
            "edit": school in text_schools,
            "diff": school in oversight,
        }
        for school in sorted(schools.values(), key=lambda s: s.name)
    ]
    return render(request, "statement/admin.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def statement_text_edit(request, school_id):
    school = policy.school_for_texts(request.user, school_id)
    text = StatementText.objects.filter(school=school).first() or StatementText(school=school)
    form = StatementTextForm(request.POST or None, instance=text)
    if request.method == "POST" and form.is_valid():
        _text, version = statement_text_change(
            school=school, **form.cleaned_data, acting_user=request.user, request=request
        )
        if version is None:
            messages.info(request, _("Nothing was changed."))
        else:
            messages.success(
                request,
                _("The texts were saved; version %(number)s of the statement is public.") % {"number": version.number},
            )
        return redirect("statement_admin")
    return render(request, "statement/text_form.html", {"form": form, "school": school})


@require_safe
def statement_diff(request, school_id):
    """The FG compares two versions of a school's statement, line by line."""
    school = policy.school_for_diff(request.user, school_id)
    numbers = list(StatementVersion.objects.filter(school=school).order_by("number").values_list("number", flat=True))
    rows = old = new = None
    if len(numbers) < 2:
        form = DiffForm(numbers=numbers)
    else:
        data = request.GET.copy()
        data.setdefault("old", str(numbers[-2]))
        data.setdefault("new", str(numbers[-1]))
        data.setdefault("language", "nl")
        form = DiffForm(data, numbers=numbers)
        if form.is_valid():
            old = _version(school, form.cleaned_data["old"])
            new = _version(school, form.cleaned_data["new"])
            language = form.cleaned_data["language"]
            rows = line_diff(old.content(language), new.content(language))
    context = {
        "school": school,
        "form": form,
        "numbers": numbers,
        "rows": rows,
        "changed": rows is not None and has_changes(rows),
        "old": old,
        "new": new,
    }
    return render(request, "statement/diff.html", context)
