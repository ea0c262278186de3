"""Named actions on parents' requests (R-RGT-1..4, U-2, U-4). Each writes its
rows and its audit event in one transaction; every e-mail is a fixed notice
with a link only (R-DIS-6), sent after the commit.

The deadline (R-RGT-3) is set when the request comes in and moves only by
the one extension. The first answer (an appointment, a carried-out
correction or a refusal) stops the clock: `answered_at`.
"""

import datetime
import json
import logging
from types import SimpleNamespace

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from disclosures.rights import corrections, deadlines
from disclosures.rights.models import DossierCorrection, ParentRequest
from disclosures.rights.policy import HANDLE, handler_addresses
from privacy_admin import notify
from privacy_admin.auditlog import audit_record
from privacy_admin.roles import capabilities_for
from students import actions as dossier_actions

logger = logging.getLogger(__name__)

Status = ParentRequest.Status
Kind = ParentRequest.Kind


def _parent_request_view(request):
    """What the audit log reads of a parent's HTTP request: the client
    address, never a staff user signed in in the same browser (as in
    consent.parents)."""
    if request is None:
        return None
    return SimpleNamespace(META=request.META, user=AnonymousUser())


def staff_ground(user, school_id):
    """The ground a handler acts on: their role at the pupil's school."""
    for membership in user.memberships_today():
        if membership.school_id == school_id and HANDLE in capabilities_for(membership.role):
            return f"{membership.get_role_display()} {membership.school.brin}"
    return ""


def _audit(action, parent_request, *, actor=None, request=None, actor_label="", ground="", details=None):
    audit_record(
        action,
        actor=actor,
        request=request,
        actor_label=actor_label,
        obj=parent_request,
        pupil_id=parent_request.pupil_id,
        school_id=parent_request.pupil.school_id,
        ground=ground,
        details={"request": parent_request.pk} | (details or {}),
    )


def _staff_audit(action, parent_request, acting_user, request, details=None):
    ground = staff_ground(acting_user, parent_request.pupil.school_id)
    _audit(action, parent_request, actor=acting_user, request=request, ground=ground, details=details)


def _send_each(kind, recipients, path, language="nl"):
    """One notice per address; a failing address does not stop the others
    and is logged without the address (S-24)."""
    failed = 0
    for to in recipients:
        try:
            notify.send_notice(kind, to, path, language=language)
        except Exception:  # noqa: BLE001 - any mail failure; logged, counted
            failed += 1
    if failed:
        logger.error("%s: %d of %d notices could not be sent", kind, failed, len(recipients))
    return failed


def _tell_parent(parent_request, kind="parent_request_update"):
    email = parent_request.guardian.email if parent_request.guardian_id else ""
    if not email:
        return
    path = reverse("parent_request_detail", args=[parent_request.pk])
    language = parent_request.language
    transaction.on_commit(lambda: _send_each(kind, [email], path, language))


def _fail(message):
    raise ValidationError(message)


# --- The parent --------------------------------------------------------------------


@transaction.atomic
def request_file(*, access, kind, part="", what="", reason="", language="nl", request=None, now=None):
    """A parent asks to view the dossier (R-RGT-1) or to correct or remove
    data (R-RGT-2), with or without parental authority (R-RGT-4). `access` is
    consent.parents.ParentAccess. The parent gets a confirmation, the
    director a notice; both a link only."""
    if kind not in Kind.values:
        _fail(_("Choose what you ask for."))
    if kind != Kind.VIEW and not (part and what.strip() and reason.strip()):
        _fail(_("Say which part of the dossier is wrong, what is wrong and why."))
    now = now or timezone.now()
    received_on = timezone.localdate(now)
    parent_request = ParentRequest.objects.create(
        pupil=access.pupil,
        guardian=access.guardian,
        requester_has_authority=access.has_authority,
        kind=kind,
        part="" if kind == Kind.VIEW else part,
        what=what.strip(),
        reason=reason.strip(),
        language=language,
        received_at=now,
        received_on=received_on,
        due_on=deadlines.due_date(received_on),
    )
    _audit(
        "rights.request_filed",
        parent_request,
        request=_parent_request_view(request),
        actor_label="parent",
        ground="ouder met gezag" if access.has_authority else "ouder zonder gezag (art. 1:377c BW)",
        details={"guardian": access.guardian.pk, "kind": kind, "part": parent_request.part},
    )
    _tell_parent(parent_request, "parent_request_received")
    handlers = handler_addresses(access.pupil.school_id)
    path = reverse("rights_request_detail", args=[parent_request.pk])
    transaction.on_commit(lambda: _send_each("rights_request_new", handlers, path))
    return parent_request


# --- The director --------------------------------------------------------------------


def _lock(parent_request):
    """Re-read the row under a lock: two handlers acting at once are put one
    after the other, and each sees what the other did."""
    return (
        ParentRequest.objects.select_for_update(of=("self",))
        .select_related("pupil", "pupil__school", "guardian")
        .get(pk=parent_request.pk)
    )


@transaction.atomic
def viewing_schedule(parent_request, *, at, place, staff, acting_user, request=None):
    """R-RGT-1, U-2: the appointment (date, time, place) and the staff member
    present. The parent is told by a notice with a link; the staff member too.
    Moving an appointment is the same act again. The appointment lies in the
    future and within the deadline (ParentRequest.appointment_refusal)."""
    parent_request = _lock(parent_request)
    if parent_request.kind != Kind.VIEW or parent_request.status not in (Status.RECEIVED, Status.SCHEDULED):
        _fail(_("Only an open request to view the dossier gets an appointment."))
    # Checked here too, under the lock: the form's check may be stale, and the
    # demo and tests call this action directly (R-RGT-3).
    refusal = parent_request.appointment_refusal(at)
    if refusal:
        _fail(refusal)
    rescheduled = parent_request.status == Status.SCHEDULED
    now = timezone.now()
    parent_request.appointment_at = at
    parent_request.appointment_place = place
    parent_request.present_staff = staff
    parent_request.scheduled_by = acting_user
    parent_request.scheduled_at = now
    parent_request.status = Status.SCHEDULED
    parent_request.answered_at = parent_request.answered_at or now
    parent_request.save(
        update_fields=[
            "appointment_at",
            "appointment_place",
            "present_staff",
            "scheduled_by",
            "scheduled_at",
            "status",
            "answered_at",
        ]
    )
    _staff_audit(
        "rights.viewing_scheduled",
        parent_request,
        acting_user,
        request,
        details={"present_staff": staff.pk, "rescheduled": rescheduled},
    )
    _tell_parent(parent_request)
    if staff.email:
        path = reverse("rights_my_viewings")
        transaction.on_commit(lambda: _send_each("rights_viewing_assigned", [staff.email], path))
    return parent_request


@transaction.atomic
def deadline_extend(parent_request, *, months, reason, acting_user, request=None, today=None):
    """R-RGT-3: once, by one or two months, within the first month, with a
    reason the parent reads in the portal. The warnings start again for the
    new deadline."""
    parent_request = _lock(parent_request)
    today = today or timezone.localdate()
    if not parent_request.is_open:
        _fail(_("This request has been answered; its deadline no longer runs."))
    if parent_request.extension_months:
        _fail(_("The deadline was already extended once; it cannot be extended again."))
    if not deadlines.may_extend(parent_request.received_on, parent_request.extension_months, today):
        _fail(_("The deadline can only be extended within the first month after receipt."))
    if months not in range(1, deadlines.MAX_EXTENSION_MONTHS + 1):
        _fail(_("An extension is one or two months."))
    if not reason.strip():
        _fail(_("Give the reason for the extension; the parent reads it."))
    parent_request.extension_months = months
    parent_request.extension_reason = reason.strip()
    parent_request.extended_at = timezone.now()
    parent_request.extended_by = acting_user
    parent_request.due_on = deadlines.due_date(parent_request.received_on, months)
    parent_request.warned_7_at = parent_request.warned_2_at = None
    parent_request.save(
        update_fields=[
            "extension_months",
            "extension_reason",
            "extended_at",
            "extended_by",
            "due_on",
            "warned_7_at",
            "warned_2_at",
        ]
    )
    _staff_audit("rights.deadline_extended", parent_request, acting_user, request, details={"months": months})
    _tell_parent(parent_request)
    return parent_request


@transaction.atomic
def request_refuse(parent_request, *, motivation, ground="", acting_user, request=None):
    """A refusal needs a written motivation; for a parent without parental
    authority one of the two grounds of R-RGT-4 (BW art. 1:377c)."""
    parent_request = _lock(parent_request)
    if parent_request.status not in (Status.RECEIVED, Status.SCHEDULED):
        _fail(_("This request has already been decided."))
    if not motivation.strip():
        _fail(_("A refusal needs a written motivation."))
    if parent_request.requester_has_authority:
        ground = ""
    elif ground not in ParentRequest.RefusalGround.values:
        _fail(_("Say which ground applies: a parent without parental authority is refused only on one of these."))
    now = timezone.now()
    parent_request.status = Status.REFUSED
    parent_request.decision = motivation.strip()
    parent_request.refusal_ground = ground
    parent_request.decided_by = acting_user
    parent_request.decided_at = now
    parent_request.answered_at = parent_request.answered_at or now
    parent_request.save(
        update_fields=["status", "decision", "refusal_ground", "decided_by", "decided_at", "answered_at"]
    )
    _staff_audit("rights.request_refused", parent_request, acting_user, request, details={"ground": ground})
    _tell_parent(parent_request)
    return parent_request


def _correctable(parent_request):
    if parent_request.kind not in (Kind.CORRECT, Kind.REMOVE) or parent_request.status != Status.RECEIVED:
        _fail(_("Corrections are made only on an open request to correct or remove data."))


@transaction.atomic
def correction_apply(parent_request, access, target, form, *, request):
    """R-RGT-2: change the record through the dossier's own action (audited
    there as a change of the record), and keep the old and the new value of
    each changed field in a DossierCorrection. Returns it, or raises
    ValidationError when the form changes nothing."""
    parent_request = _lock(parent_request)
    _correctable(parent_request)
    rows = corrections.changes(form)
    if not rows:
        _fail(_("Nothing was changed."))
    corrections.save(access, target, form, request=request)
    correction = DossierCorrection.objects.create(
        request=parent_request,
        part=target.part,
        record_id=target.record_id,
        record_label=target.label[:200],
        action=DossierCorrection.Action.CHANGED,
        changes=json.dumps(rows),
        applied_by=request.user,
        applied_at=timezone.now(),
    )
    # Field names and ids only: the values are in the correction (encrypted),
    # never in the audit log (S-24).
    _audit(
        "rights.correction_applied",
        parent_request,
        request=request,
        ground=access.ground,
        details={
            "correction": correction.pk,
            "part": target.part,
            "record": target.record_id,
            "fields": [row["field"] for row in rows],
        },
    )
    return correction


@transaction.atomic
def record_remove(parent_request, access, target, *, request):
    """R-RGT-2: remove the record through the dossier's own action; the
    correction says what kind of record went and when, not what it said."""
    parent_request = _lock(parent_request)
    _correctable(parent_request)
    record_id, label = target.record_id, target.label[:200]
    corrections.remove(access, target, request=request)
    correction = DossierCorrection.objects.create(
        request=parent_request,
        part=target.part,
        record_id=record_id,
        record_label=label,
        action=DossierCorrection.Action.REMOVED,
        applied_by=request.user,
        applied_at=timezone.now(),
    )
    _audit(
        "rights.record_removed",
        parent_request,
        request=request,
        ground=access.ground,
        details={"correction": correction.pk, "part": target.part, "record": record_id},
    )
    return correction


@transaction.atomic
def request_complete(parent_request, *, decision, acting_user, request=None):
    """Close a correction or removal request once the corrections are made,
    with what was done in words the parent reads; the parent is told."""
    parent_request = _lock(parent_request)
    _correctable(parent_request)
    if not parent_request.corrections.exists():
        _fail(_("Make the correction first, or refuse the request with a motivation."))
    if not decision.strip():
        _fail(_("Tell the parent what was done."))
    now = timezone.now()
    parent_request.status = Status.DONE
    parent_request.decision = decision.strip()
    parent_request.decided_by = acting_user
    parent_request.decided_at = now
    parent_request.answered_at = parent_request.answered_at or now
    parent_request.save(update_fields=["status", "decision", "decided_by", "decided_at", "answered_at"])
    _staff_audit(
        "rights.request_done",
        parent_request,
        acting_user,
        request,
        details={"corrections": parent_request.corrections.count()},
    )
    _tell_parent(parent_request)
    return parent_request


# --- The viewing ---------------------------------------------------------------------


def overview_read(parent_request, access, *, request, shows_health, pdf):
    """The overview made for the appointment is a read of the whole dossier:
    audited as such (R-ACC-7, S-21), and as the overview of this request.
    Call it inside the transaction that reads what is shown."""
    dossier_actions.dossier_read(access, "substantive", request=request, details={"request": parent_request.pk})
    if shows_health:
        dossier_actions.dossier_read(access, "health", request=request, details={"request": parent_request.pk})
    _audit(
        "rights.overview_made",
        parent_request,
        request=request,
        ground=access.ground,
        details={"format": "pdf" if pdf else "html"},
    )


@transaction.atomic
def viewing_record(parent_request, access, *, held_on, attendees, acting_user, request=None):
    """R-RGT-1: afterwards the staff member records who attended. The viewing
    is an audit event of the dossier."""
    parent_request = _lock(parent_request)
    if parent_request.status != Status.SCHEDULED:
        _fail(_("Only a scheduled viewing can be recorded."))
    if not attendees.strip():
        _fail(_("Say who attended."))
    parent_request.status = Status.VIEWED
    parent_request.viewing_held_on = held_on
    parent_request.attendees = attendees.strip()[:300]
    parent_request.viewing_recorded_by = acting_user
    parent_request.save(update_fields=["status", "viewing_held_on", "attendees", "viewing_recorded_by"])
    _audit(
        "rights.viewing_held",
        parent_request,
        actor=acting_user,
        request=request,
        ground=access.ground,
        details={"held_on": held_on.isoformat()},
    )
    return parent_request


# --- The deadline warnings (S-28) -----------------------------------------------------


def _claim(request_id, column, now):
    """Claim one warning: only the run whose conditional UPDATE changes the
    row sends it."""
    open_unwarned = {"pk": request_id, "answered_at__isnull": True, f"{column}__isnull": True}
    return ParentRequest.objects.filter(**open_unwarned).update(**{column: now}) == 1


def deadline_warnings_send(today=None, now=None):
    """Warn the school's handlers 7 and 2 days before an open request's
    deadline, each once (R-RGT-3, S-28). A request found at 2 days or less
    without its 7-day warning gets the 2-day one only. Returns counts."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    far, near = deadlines.WARN_DAYS
    sent = {"warned_7": 0, "warned_2": 0, "notices": 0}
    due_soon = (
        ParentRequest.objects.open()
        .filter(due_on__lte=today + datetime.timedelta(days=far))
        .filter(warned_2_at__isnull=True)
        .select_related("pupil")
        .order_by("due_on", "pk")
    )
    for parent_request in due_soon:
        left = parent_request.days_left(today)
        if left <= near:
            if not _claim(parent_request.pk, "warned_2_at", now):
                continue
            # The 7-day warning is overtaken: claim it too, so it never follows.
            _claim(parent_request.pk, "warned_7_at", now)
            sent["warned_2"] += 1
        elif not _claim(parent_request.pk, "warned_7_at", now):
            continue
        else:
            sent["warned_7"] += 1
        recipients = handler_addresses(parent_request.pupil.school_id)
        path = reverse("rights_request_detail", args=[parent_request.pk])
        _send_each("rights_deadline_warning", recipients, path)
        sent["notices"] += len(recipients)
    return sent
