"""Named actions on dossiers: each writes its rows and its audit event in one
transaction (R-ACC-7). Audit rows name the record and the changed field names,
never their content."""

import base64

from django.db import transaction
from django.utils import timezone

from privacy_admin.auditlog import audit_record
from students.models import Document, Enrolment, EnrolmentEvent, GuardianLink, PaperDossier, Pupil


def _audit(action, access_or_pupil, *, request, obj=None, ground="", details=None):
    pupil = getattr(access_or_pupil, "pupil", access_or_pupil)
    audit_record(
        action,
        request=request,
        obj=obj if obj is not None else pupil,
        pupil_id=pupil.pk,
        school_id=pupil.school_id,
        ground=getattr(access_or_pupil, "ground", ground),
        details=details,
    )


def dossier_read(access, part, *, request, details=None):
    """Record a read of the substantive part, a BSN, health data or a document
    (R-ACC-7, S-21). Call it inside the transaction that fetches what is shown."""
    _audit(f"dossier.read_{part}", access, request=request, details=details)


@transaction.atomic
def application_register(*, data, acting_user, request, ground):
    """R-DOS-1: an application with a placement guarantee makes the dossier."""
    pupil = Pupil(
        school=data["school"],
        first_name=data["first_name"],
        name_prefix=data.get("name_prefix", ""),
        last_name=data["last_name"],
        birth_date=data["birth_date"],
        sex=data["sex"],
    )
    if data.get("bsn"):
        pupil.set_bsn(data["bsn"])
    pupil.save()
    Enrolment.objects.create(
        pupil=pupil, application_date=data["application_date"], placement_guarantee=data["placement_guarantee"]
    )
    EnrolmentEvent.objects.create(pupil=pupil, date=data["application_date"], kind=EnrolmentEvent.Kind.APPLICATION)
    PaperDossier.objects.create(pupil=pupil)
    _audit("dossier.created", pupil, request=request, ground=ground)
    return pupil


@transaction.atomic
def record_save(access, form, *, request, record_type):
    """Create or change a dossier record from a valid ModelForm."""
    created = form.instance.pk is None
    record = form.save(commit=False)
    if created:
        record.pupil = access.pupil
        if hasattr(record, "author_id"):
            record.author = request.user
    record.save()
    _audit(
        "dossier.record_created" if created else "dossier.record_changed",
        access,
        request=request,
        obj=record,
        details={"record_type": record_type, "fields": sorted(form.changed_data)},
    )
    return record


@transaction.atomic
def record_delete(access, record, *, request, record_type):
    _audit("dossier.record_deleted", access, request=request, obj=record, details={"record_type": record_type})
    record.delete()


@transaction.atomic
def pupil_update(access, form, *, request):
    changed = sorted(form.changed_data)
    form.save()
    _audit("dossier.changed", access, request=request, details={"fields": changed})


@transaction.atomic
def enrolment_update(access, data, *, request):
    enrolment, _created = Enrolment.objects.get_or_create(
        pupil=access.pupil, defaults={"application_date": data["application_date"]}
    )
    before = {name: getattr(enrolment, name) for name in data}
    for name, value in data.items():
        setattr(enrolment, name, value if value is not None else None)
    enrolment.destination = data.get("destination") or ""
    enrolment.destination_school = data.get("destination_school") or ""
    enrolment.save()
    changed = sorted(n for n in data if before[n] != getattr(enrolment, n))
    for name, kind in (("enrolled_on", EnrolmentEvent.Kind.ENROLMENT), ("left_on", EnrolmentEvent.Kind.UNENROLMENT)):
        if name in changed and data[name]:
            EnrolmentEvent.objects.create(pupil=access.pupil, date=data[name], kind=kind)
    _audit("dossier.enrolment_changed", access, request=request, obj=enrolment, details={"fields": changed})


@transaction.atomic
def paper_dossier_update(access, form, *, request):
    changed = sorted(form.changed_data)
    paper = form.save(commit=False)
    paper.pupil = access.pupil
    paper.save()
    _audit("dossier.paper_changed", access, request=request, obj=paper, details={"fields": changed})


@transaction.atomic
def guardian_save(access, form, *, request, link=None):
    created = link is None
    guardian = form.save()
    if created:
        link = GuardianLink(pupil=access.pupil, guardian=guardian)
    link.has_authority = form.cleaned_data["has_authority"]
    link.relation = form.cleaned_data["relation"]
    link.save()
    _audit(
        "dossier.guardian_added" if created else "dossier.guardian_changed",
        access,
        request=request,
        obj=link,
        details={"fields": sorted(form.changed_data)},
    )
    return link


@transaction.atomic
def document_add(access, upload, *, request, conversation=None):
    content = upload.read()
    document = Document.objects.create(
        pupil=access.pupil,
        conversation=conversation,
        filename=upload.name[:200],
        content_type=upload.detected_type,
        size=len(content),
        content=base64.b64encode(content).decode(),
        uploaded_by=request.user,
        uploaded_at=timezone.now(),
    )
    _audit("dossier.document_added", access, request=request, obj=document, details={"size": len(content)})
    return document
