"""The parents' side of disclosures (R-DIS-7, R-DIS-2): in the parents'
portal a parent sees what the school gave to whom about their child, except
reports of suspected child abuse; for a transfer they read the report and,
with parental authority, add their view.

The realm's gate (consent.parents.ParentGateMiddleware) lets only signed-in
parents past; consent.parents.parent_child_access is the one way to a child.
"""

from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from consent import parents
from disclosures import actions
from disclosures import fields as catalogue
from disclosures.forms import ParentViewForm
from disclosures.models import Disclosure, DisclosurePupil
from disclosures.policy import RECIPIENT_DOCUMENT
from disclosures.views import transfer_report_context
from privacy_admin.auditlog import audit_record
from privacy_admin.pdf import pdf_response


def _realm_request(request):
    """What the audit log reads of a parent's request: the address, no staff user."""
    return SimpleNamespace(META=request.META, user=AnonymousUser())


def parent_visible(pupil):
    """What parents see: disclosed, never restricted (R-DIS-7)."""
    return (
        Disclosure.objects.filter(pupils__pupil=pupil, status=Disclosure.Status.DISCLOSED, restricted=False)
        .select_related("recipient", "requested_by", "decided_by")
        .defer(*RECIPIENT_DOCUMENT)
    )


@require_http_methods(["GET"])
def parent_disclosures(request, pupil_id):
    email = parents.parent_session(request)
    if email is None:
        return redirect("parent_login")
    access = parents.parent_child_access(email, pupil_id)
    rows = list(parent_visible(access.pupil).order_by("-disclosed_at", "-pk"))
    return render(request, "disclosures/parents/list.html", {"access": access, "rows": rows})


@require_http_methods(["GET", "POST"])
def parent_disclosure_report(request, pupil_id, disclosure_id):
    """The parents' copy of the transfer report, with their view (R-DIS-2)."""
    email = parents.parent_session(request)
    if email is None:
        return redirect("parent_login")
    access = parents.parent_child_access(email, pupil_id)
    entry = (
        DisclosurePupil.objects.filter(
            pupil=access.pupil,
            disclosure_id=disclosure_id,
            disclosure__kind=Disclosure.Kind.TRANSFER,
            disclosure__status=Disclosure.Status.DISCLOSED,
            disclosure__restricted=False,
        )
        .select_related("disclosure", "disclosure__recipient", "disclosure__school")
        .first()
    )
    if entry is None:
        raise Http404
    form = None
    if access.has_authority:
        form = ParentViewForm(request.POST or None, initial={"text": entry.parent_view})
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                actions.disclosure_parent_view_save(
                    disclosure_pupil=entry,
                    text=form.cleaned_data["text"],
                    guardian=access.guardian,
                    request=_realm_request(request),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Your view was added to the report."))
                return redirect("parent_disclosure_report", pupil_id=access.pupil.pk, disclosure_id=disclosure_id)
    with transaction.atomic():
        # The report holds the substantive part: every read is audited (S-21).
        audit_record(
            "parent.transfer_report_read",
            actor_label="parent",
            request=_realm_request(request),
            obj=entry.disclosure,
            pupil_id=access.pupil.pk,
            school_id=entry.disclosure.school_id,
            ground="ouder",
            details={"guardian": access.guardian.pk},
        )
        rows = catalogue.rows([access.pupil], entry.disclosure.fields)
    context = transfer_report_context(entry.disclosure, rows)
    context.update({"access": access, "form": form, "parents_copy": True})
    if request.GET.get("format") == "pdf":
        return pdf_response(
            request,
            "disclosures/parents/report.html",
            context,
            title=_("Onderwijskundig rapport"),
            filename=f"onderwijskundig-rapport-{entry.disclosure_id}.pdf",
        )
    return render(request, "disclosures/parents/report.html", context)
