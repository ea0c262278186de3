"""The parents' side of requests (U-4, R-RGT-1, R-RGT-2, R-RGT-4): a parent
asks to view their child's dossier or to correct or remove data, and follows
the request: status, deadline, appointment, extension and decision.

Behind consent.parents.ParentGateMiddleware like every /parents/ page; the
child comes only through consent.parents.parent_child_access, a request only
through disclosures.rights.policy. A parent without parental authority asks
like any parent (R-RGT-4).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from consent.parents import parent_child_access, parent_children, parent_session
from disclosures.rights import policy, services
from disclosures.rights.forms import ParentRequestForm


def _language():
    return "en" if (translation.get_language() or "").startswith("en") else "nl"


@require_http_methods(["GET"])
def parent_requests(request):
    email = parent_session(request)
    if email is None:
        return redirect("parent_login")
    return render(
        request,
        "rights/parents/list.html",
        {
            "email": email,
            "children": parent_children(email),
            "requests": policy.parent_requests(email).order_by("-received_at", "-pk"),
        },
    )


@require_http_methods(["GET", "POST"])
def parent_request_new(request, pupil_id):
    email = parent_session(request)
    if email is None:
        return redirect("parent_login")
    access = parent_child_access(email, pupil_id)
    form = ParentRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            filed = services.request_file(access=access, language=_language(), request=request, **form.values())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Your request was received. The school answers by %(date)s at the latest.")
                % {"date": filed.due_on.strftime("%d-%m-%Y")},
            )
            return redirect("parent_request_detail", request_id=filed.pk)
    return render(request, "rights/parents/new.html", {"form": form, "access": access, "email": email})


@require_http_methods(["GET"])
def parent_request_detail(request, request_id):
    email = parent_session(request)
    if email is None:
        return redirect("parent_login")
    parent_request = policy.parent_request(email, request_id)
    return render(
        request,
        "rights/parents/detail.html",
        {"r": parent_request, "corrections": list(parent_request.corrections.all()), "email": email},
    )
