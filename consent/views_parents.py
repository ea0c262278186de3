"""The parents' portal (U-4, R-CON-2, R-CON-6) and the staff's invitation to
it. Thin views: ParentGateMiddleware lets only signed-in parents past the
sign-in steps, consent.parents gives the children and does the writes."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from consent import parents
from consent.forms_parents import ParentCodeForm, ParentEmailForm, PreferencesForm
from students.models import GuardianLink
from students.policy import dossier_access


def _language():
    return "en" if (translation.get_language() or "").startswith("en") else "nl"


@require_http_methods(["GET", "POST"])
def parent_login(request):
    if parents.parent_session(request):
        return redirect("parent_home")
    form = ParentEmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if parents.login_code_request(request, form.cleaned_data["email"]):
            return redirect("parent_login_code")
        form.add_error(
            None,
            _("Too many codes were asked for. Nothing was sent. Wait %(minutes)s minutes and try again.")
            % {"minutes": parents.REQUEST_WINDOW_MINUTES},
        )
    return render(request, "parents/login.html", {"form": form})


@require_http_methods(["GET", "POST"])
def parent_login_code(request):
    if parents.parent_session(request):
        return redirect("parent_home")
    email = parents.pending_email(request)
    if email is None:
        messages.info(request, _("Enter your e-mail address first."))
        return redirect("parent_login")
    form = ParentCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if parents.code_attempts_blocked(request):
            form.add_error(
                None,
                _("Too many wrong codes were entered. Wait %(minutes)s minutes and try again.")
                % {"minutes": parents.REQUEST_WINDOW_MINUTES},
            )
        elif parents.login_code_check(request, email, form.cleaned_data["code"]):
            return redirect("parent_home")
        else:
            form.add_error(
                "code",
                _("This code is not correct, has expired or was already used. Check it, or ask for a new code."),
            )
    return render(
        request,
        "parents/login_code.html",
        {"form": form, "email": email, "minutes": parents.CODE_MINUTES},
    )


@require_POST
def parent_logout(request):
    parents.parent_sign_out(request)
    messages.success(request, _("You are signed out of the parents' portal."))
    return redirect("parent_login")


def _children(email, bound=None):
    """The overview of every child, each with a form when the parent has
    authority; `bound` is (pupil id, bound form) after a rejected POST."""
    overview = parents.parent_overview(parents.parent_children(email), _language())
    for child in overview:
        if not child.access.has_authority:
            continue
        if bound is not None and bound[0] == child.access.pupil.pk:
            child.form = bound[1]
            child.rows = child.form.rows
        else:
            child.form = PreferencesForm(rows=child.rows, pupil_id=child.access.pupil.pk)
        child.form.bind_rows()
    return overview


def _home(request, email, bound=None, status=200):
    return render(request, "parents/home.html", {"children": _children(email, bound), "email": email}, status=status)


@require_http_methods(["GET"])
def parent_home(request):
    email = parents.parent_session(request)
    if email is None:
        return redirect("parent_login")
    return _home(request, email)


@require_POST
def parent_preferences(request, pupil_id):
    email = parents.parent_session(request)
    if email is None:
        return redirect("parent_login")
    access = parents.parent_child_access(email, pupil_id)
    if not access.has_authority:
        raise PermissionDenied
    child = parents.parent_overview([access], _language())[0]
    form = PreferencesForm(request.POST, rows=child.rows, pupil_id=access.pupil.pk)
    if not form.is_valid():
        messages.error(request, _("Your preferences were not saved. Please check the form below."))
        return _home(request, email, bound=(access.pupil.pk, form))
    changed = parents.parent_preferences_change(request, access, child.rows, form.values(), email=email)
    if changed:
        messages.success(
            request,
            ngettext(
                "Your preference for %(name)s was saved. We also sent you a confirmation by e-mail.",
                "Your %(count)s preferences for %(name)s were saved. We also sent you a confirmation by e-mail.",
                len(changed),
            )
            % {"count": len(changed), "name": access.pupil.first_name},
        )
    else:
        messages.info(request, _("Nothing was changed."))
    return redirect(f"{reverse('parent_home')}#child-{access.pupil.pk}")


# --- Staff side ----------------------------------------------------------------------


@require_POST
def parent_invite(request, pupil_id, link_id):
    """From the dossier's consent tab: invite one parent to the portal."""
    access = dossier_access(request.user, pupil_id)
    if not access.edit_core:
        raise Http404
    link = GuardianLink.objects.filter(pk=link_id, pupil=access.pupil).select_related("guardian").first()
    if link is None:
        raise Http404
    if not link.guardian.email:
        messages.error(request, _("This parent has no e-mail address in the dossier; add one first."))
    else:
        parents.parent_invite(access, link, acting_user=request.user, request=request)
        messages.success(request, _("The invitation to the parents' portal was sent."))
    return redirect(reverse("dossier_consent", args=[access.pupil.pk]))
