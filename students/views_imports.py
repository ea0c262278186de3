"""The BRP/DUO address-update screen (R-DOS-6) for staff who may run imports:
upload, preview, confirm, as plain form posts (STYLE 15).

* GET shows the form: the school (only schools where the user may run imports
  and sees every dossier, since the preview shows names and addresses) and
  the CSV file (at most 2 MB, text only, S-20).
* POST checks the file and shows the old and new address per line, or every
  error by line number. Nothing is written.
* The confirm POST asks for a recent second factor (S-8), checks and plans the
  file again against the database as it is now, and applies it in one
  transaction, every change audited.

Between preview and confirm the file travels inside the page, never in the
session or on disk: the confirm form carries it compressed, sealed with the
field-encryption key (AES-GCM, bound to this user and school, S-25) and
signed with a TimestampSigner that expires after 15 minutes. The upload is
kept in memory only, never spooled to a temporary file, and reading stops at
the size limit.
"""

import base64
import binascii
import zlib

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.files.uploadhandler import MemoryFileUploadHandler, SkipFile
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from privacy_admin.crypto import DecryptionError, decrypt, encrypt
from privacy_admin.models import School
from privacy_admin.views.auth import require_recent_second_factor
from privacy_admin.views.portal import require_capability
from students import imports

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
PREVIEW_MAX_AGE_SECONDS = 15 * 60
# Browsers label CSV files differently; Excel on Windows says vnd.ms-excel.
CSV_CONTENT_TYPES = {
    "text/csv",
    "text/plain",
    "text/comma-separated-values",
    "application/csv",
    "application/vnd.ms-excel",
}


class _MemoryOnlyUploadHandler(MemoryFileUploadHandler):
    """Keeps the upload in memory whatever its size (no temporary file with
    BSNs on disk) and skips the file once it passes the limit."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.activated = True

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > MAX_UPLOAD_BYTES:
            self.request.upload_too_large = True
            raise SkipFile
        return super().receive_data_chunk(raw_data, start)


class BrpUploadForm(forms.Form):
    school = forms.ModelChoiceField(label=gettext_lazy("School"), queryset=School.objects.none(), empty_label=None)
    file = forms.FileField(
        label=gettext_lazy("CSV file from the BRP/DUO exchange"),
        required=False,  # checked in clean_file, so that "too large" is not reported as "missing"
        help_text=gettext_lazy("UTF-8, comma- or semicolon-separated, at most 2 MB."),
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, schools, too_large=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self.too_large = too_large

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if self.too_large or (upload and upload.size > MAX_UPLOAD_BYTES):
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        if not upload:
            raise forms.ValidationError(_("Choose a CSV file."))
        if upload.content_type not in CSV_CONTENT_TYPES:
            raise forms.ValidationError(_("Only CSV files can be imported."))
        raw = upload.read()
        if b"\x00" in raw:
            raise forms.ValidationError(_("Only CSV files can be imported."))
        return raw


def _import_schools(user):
    """Schools where the user may run imports and sees every dossier."""
    return user.schools_with("imports.run").filter(pk__in=user.schools_with("dossier.all_pupils").values("pk"))


def _crypto_context(user, school_id):
    return f"students.brp_import:{user.pk}:{school_id}"


def _signer(user):
    return signing.TimestampSigner(salt=f"students.brp_import:{user.pk}")


def _seal(user, school, raw):
    blob = encrypt(base64.b64encode(zlib.compress(raw)).decode(), _crypto_context(user, school.pk))
    return _signer(user).sign_object({"school": school.pk, "csv": blob})


def _unseal(user, token):
    """(school id, file bytes) from a confirm form; None when it expired, was
    altered or was made for another user."""
    try:
        data = _signer(user).unsign_object(token, max_age=PREVIEW_MAX_AGE_SECONDS)
        school_id = int(data["school"])
        raw = zlib.decompress(base64.b64decode(decrypt(data["csv"], _crypto_context(user, school_id))))
    except (signing.BadSignature, DecryptionError, KeyError, TypeError, ValueError, binascii.Error, zlib.error):
        return None
    return school_id, raw


def _preview(request, school, raw):
    parsed = imports.parse_brp_file(raw, school=school)
    plan = imports.plan_brp_import(parsed.rows, school) if parsed.ok else None
    counts = {kind: plan.count(kind) for kind in ("change", "unchanged", "outdated")} if plan is not None else {}
    payload = _seal(request.user, school, raw) if counts.get("change") else ""
    return render(
        request,
        "students/import_brp_preview.html",
        {"school": school, "errors": parsed.errors, "plan": plan, "plan_counts": counts, "payload": payload},
    )


@csrf_exempt  # checked by csrf_protect below, once the upload handler is in place
@require_capability("imports.run")
@require_recent_second_factor  # asked before the upload, so the preview is not lost at confirm
def brp_import(request):
    """Upload form (GET) and preview (POST); writes nothing."""
    # Must be set before anything reads request.POST or request.FILES.
    request.upload_handlers = [_MemoryOnlyUploadHandler(request)]
    return _brp_import(request)


@csrf_protect
def _brp_import(request):
    form = BrpUploadForm(
        request.POST or None,
        request.FILES or None,
        schools=_import_schools(request.user),
        too_large=getattr(request, "upload_too_large", False),
    )
    if request.method == "POST" and form.is_valid():
        return _preview(request, form.cleaned_data["school"], form.cleaned_data["file"])
    return render(request, "students/import_brp.html", {"form": form, "columns": imports.BRP_COLUMNS})


@require_POST
@require_capability("imports.run")
@require_recent_second_factor
def brp_import_confirm(request):
    """Apply the previewed file, checked again against the database as it is now."""
    unsealed = _unseal(request.user, request.POST.get("payload", ""))
    if unsealed is None:
        messages.error(request, _("The preview has expired or cannot be read. Upload the file again."))
        return redirect("brp_import")
    school_id, raw = unsealed
    school = _import_schools(request.user).filter(pk=school_id).first()
    if school is None:
        raise Http404
    parsed = imports.parse_brp_file(raw, school=school)
    if not parsed.ok:
        return _preview(request, school, raw)
    plan = imports.plan_brp_import(parsed.rows, school)
    applied = imports.apply_brp_import(plan, school, acting_user=request.user, request=request)
    messages.success(
        request,
        ngettext("%(count)d address was updated.", "%(count)d addresses were updated.", applied) % {"count": applied},
    )
    return redirect("brp_import")
