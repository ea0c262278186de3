"""Grants of access for temporary teachers and support staff (R-ACC-2, R-ACC-3).

An Assignment gives a trainee or substitute a group or named pupils and the
record types they may edit, from and until a date. An Involvement gives a
support-team member one pupil's whole dossier; it is mirrored as the
django-guardian object permission `students.view_dossier_as_involved`, and the
policy wants both (students.policy.dossier_access).

Dates are checked by the policy on every request, so a grant that ends stops
at once (S-14). Ending a grant by hand moves its end date to yesterday;
`students.tasks.expire_grants` records the end of the others once (S-28) and
removes their guardian rows. Every change writes its audit event in the same
transaction (STYLE 2); the details carry ids, dates and record-type names,
never a pupil's name and never the free-text reason.

The managers of grants (capability "grants.manage": the director and the
application admin) reach a grant only through `assignment_for_manager` and
`involvement_for_manager`, which answer 404 for another school's grant and for
one that does not exist alike (S-11).
"""

from datetime import timedelta

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import assign_perm, remove_perm

from privacy_admin.auditlog import audit_record
from privacy_admin.models import Membership, User
from privacy_admin.roles import SchoolRole
from students.models import Assignment, Involvement
from students.policy import ASSIGNABLE_TYPES, INVOLVED_PERMISSION

MANAGE_CAPABILITY = "grants.manage"

# Readable names for the record types an assignment may name, in the order of
# students.policy.RECORD_TYPES.
RECORD_TYPE_LABELS = {
    "contact": _("Address and contact history"),
    "enrolment_event": _("Enrolment events"),
    "attendance": _("Attendance and absence"),
    "funding": _("Funding data"),
    "support": _("Support needs"),
    "health": _("Health notes"),
    "progress": _("Progress and results"),
    "conversation": _("Conversation reports"),
    "agreement": _("Agreements"),
    "document": _("Documents"),
}


def record_type_label(record_type):
    return RECORD_TYPE_LABELS.get(record_type, record_type)


# --- Who may be given a grant, and who may manage them -----------------------


def _holders_of(role, schools, today=None):
    current = Membership.objects.current(today).filter(school__in=schools, role=role)
    return User.objects.filter(is_active=True, memberships__in=current).distinct().order_by("last_name", "first_name")


def eligible_temp_teachers(schools, today=None):
    """Users with a current temporary-teacher role at one of `schools`."""
    return _holders_of(SchoolRole.TEMP_TEACHER, schools, today)


def eligible_support_members(schools, today=None):
    """Users with a current support-team role at one of `schools`."""
    return _holders_of(SchoolRole.SUPPORT, schools, today)


def _holds_role(user, school_id, role, today):
    return Membership.objects.current(today).filter(user=user, school_id=school_id, role=role).exists()


def _require_manager(acting_user, school_id):
    if acting_user is None or not acting_user.has_capability(MANAGE_CAPABILITY, school_id):
        raise PermissionDenied


def managed_assignments(user):
    """The assignments of the schools where `user` manages grants: the same
    filter for the list as for ending one (S-12)."""
    return Assignment.objects.filter(school__in=user.schools_with(MANAGE_CAPABILITY))


def managed_involvements(user):
    return Involvement.objects.filter(pupil__school__in=user.schools_with(MANAGE_CAPABILITY))


def assignment_for_manager(user, assignment_id):
    """The one way to an assignment for the manage screens; 404 for another
    school's and for a missing one alike (S-11)."""
    assignment = managed_assignments(user).select_related("school").filter(pk=assignment_id).first()
    if assignment is None:
        raise Http404
    return assignment


def involvement_for_manager(user, involvement_id):
    involvement = managed_involvements(user).select_related("pupil", "user").filter(pk=involvement_id).first()
    if involvement is None:
        raise Http404
    return involvement


# --- Validation -----------------------------------------------------------------


def _date_errors(valid_from, valid_until, today):
    if valid_from is None or valid_until is None:
        return {"valid_until": _("Give a start and an end date.")}
    if valid_until < valid_from:
        return {"valid_until": _("The end date lies before the start date.")}
    if valid_until < today:
        return {"valid_until": _("The end date has already passed.")}
    return {}


def _raise_if(errors):
    # Keyed by the action's argument names, which the forms share, so a view
    # can put each message next to its field.
    if errors:
        raise ValidationError(errors)


# --- Assignments (R-ACC-2) ------------------------------------------------------


@transaction.atomic
def assignment_create(
    *, user, school, group=None, pupils=(), record_types, valid_from, valid_until, acting_user, request=None
):
    """Give a temporary teacher a group and/or named pupils of `school`, and
    the record types they may see and edit, from `valid_from` to
    `valid_until` inclusive."""
    _require_manager(acting_user, school.pk)
    today = timezone.localdate()
    pupils = list(pupils)
    wanted_types = set(record_types or ())
    errors = {}
    if not _holds_role(user, school.pk, SchoolRole.TEMP_TEACHER, today):
        errors["user"] = _("Only a staff member with a current temporary-teacher role at this school can be assigned.")
    if group is not None and group.school_id != school.pk:
        errors["group"] = _("This group belongs to another school.")
    if any(pupil.school_id != school.pk for pupil in pupils):
        errors["pupils"] = _("Choose only pupils of this school.")
    if group is None and not pupils:
        errors[NON_FIELD_ERRORS] = _("Choose a group, named pupils, or both.")
    if not wanted_types:
        errors["record_types"] = _("Choose at least one record type.")
    elif not wanted_types <= set(ASSIGNABLE_TYPES):
        errors["record_types"] = _("Unknown record type.")
    errors.update(_date_errors(valid_from, valid_until, today))
    _raise_if(errors)

    assignment = Assignment.objects.create(
        user=user,
        school=school,
        group=group,
        record_types=[t for t in ASSIGNABLE_TYPES if t in wanted_types],
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=acting_user,
    )
    if pupils:
        assignment.pupils.set(pupils)
    audit_record(
        "grant.assignment_created",
        actor=acting_user,
        request=request,
        obj=assignment,
        school_id=school.pk,
        details={
            "user_id": user.pk,
            "group_id": group.pk if group is not None else None,
            "pupil_ids": sorted(pupil.pk for pupil in pupils),
            "record_types": assignment.record_types,
            "valid_from": str(valid_from),
            "valid_until": str(valid_until),
        },
    )
    return assignment


@transaction.atomic
def assignment_end(assignment, *, acting_user, request=None):
    """End an assignment now: its last day becomes yesterday, so the next
    request is refused (S-14). Returns False if it had already ended."""
    _require_manager(acting_user, assignment.school_id)
    new_until = min(assignment.valid_until, timezone.localdate() - timedelta(days=1))
    claimed = Assignment.objects.filter(pk=assignment.pk, ended_recorded_at=None).update(
        valid_until=new_until, ended_recorded_at=timezone.now()
    )
    if claimed != 1:
        return False
    audit_record(
        "grant.assignment_ended",
        actor=acting_user,
        request=request,
        obj=assignment,
        school_id=assignment.school_id,
        details={
            "user_id": assignment.user_id,
            "valid_until_before": str(assignment.valid_until),
            "valid_until": str(new_until),
        },
    )
    assignment.refresh_from_db(fields=["valid_until", "ended_recorded_at"])
    return True


def assignment_expire(assignment_id):
    """Record once that an assignment's end date passed (S-28). Returns True
    if this call recorded it."""
    with transaction.atomic():
        assignment = Assignment.objects.filter(pk=assignment_id).first()
        if assignment is None:
            return False
        claimed = Assignment.objects.filter(
            pk=assignment_id, ended_recorded_at=None, valid_until__lt=timezone.localdate()
        ).update(ended_recorded_at=timezone.now())
        if claimed != 1:
            return False
        audit_record(
            "grant.expired",
            actor_label="system",
            obj=assignment,
            school_id=assignment.school_id,
            details={"kind": "assignment", "user_id": assignment.user_id, "valid_until": str(assignment.valid_until)},
        )
    return True


# --- Involvements (R-ACC-3) ------------------------------------------------------


@transaction.atomic
def involvement_create(*, user, pupil, reason, valid_from, valid_until, acting_user, request=None):
    """Give a support-team member the whole dossier of one pupil, as an
    Involvement row and the guardian object permission the policy checks."""
    _require_manager(acting_user, pupil.school_id)
    today = timezone.localdate()
    reason = (reason or "").strip()
    errors = {}
    if not _holds_role(user, pupil.school_id, SchoolRole.SUPPORT, today):
        errors["user"] = _(
            "Only a staff member with a current support-team role at the pupil's school can be involved."
        )
    if not reason:
        errors["reason"] = _("Say what the involvement is.")
    errors.update(_date_errors(valid_from, valid_until, today))
    _raise_if(errors)

    involvement = Involvement.objects.create(
        user=user,
        pupil=pupil,
        reason=reason,
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=acting_user,
    )
    assign_perm(INVOLVED_PERMISSION, user, pupil)
    audit_record(
        "grant.involvement_created",
        actor=acting_user,
        request=request,
        obj=involvement,
        pupil_id=pupil.pk,
        school_id=pupil.school_id,
        details={"user_id": user.pk, "valid_from": str(valid_from), "valid_until": str(valid_until)},
    )
    return involvement


def _drop_permission_unless_still_involved(involvement):
    """Remove the guardian row, unless another involvement of the same person
    with the same pupil is still open: it shares the one permission row."""
    still_open = (
        Involvement.objects.filter(
            user_id=involvement.user_id,
            pupil_id=involvement.pupil_id,
            ended_recorded_at=None,
            valid_until__gte=timezone.localdate(),
        )
        .exclude(pk=involvement.pk)
        .exists()
    )
    if still_open:
        return False
    remove_perm(INVOLVED_PERMISSION, involvement.user, involvement.pupil)
    return True


@transaction.atomic
def involvement_end(involvement, *, acting_user, request=None):
    """End an involvement now: last day yesterday and the guardian permission
    removed, in one transaction with the audit event. Returns False if it had
    already ended."""
    _require_manager(acting_user, involvement.pupil.school_id)
    new_until = min(involvement.valid_until, timezone.localdate() - timedelta(days=1))
    claimed = Involvement.objects.filter(pk=involvement.pk, ended_recorded_at=None).update(
        valid_until=new_until, ended_recorded_at=timezone.now()
    )
    if claimed != 1:
        return False
    permission_removed = _drop_permission_unless_still_involved(involvement)
    audit_record(
        "grant.involvement_ended",
        actor=acting_user,
        request=request,
        obj=involvement,
        pupil_id=involvement.pupil_id,
        school_id=involvement.pupil.school_id,
        details={
            "user_id": involvement.user_id,
            "valid_until_before": str(involvement.valid_until),
            "valid_until": str(new_until),
            "permission_removed": permission_removed,
        },
    )
    involvement.refresh_from_db(fields=["valid_until", "ended_recorded_at"])
    return True


def involvement_expire(involvement_id):
    """Record once that an involvement's end date passed and remove its
    guardian permission (S-28). Returns (recorded, permission_removed)."""
    with transaction.atomic():
        involvement = Involvement.objects.select_related("user", "pupil").filter(pk=involvement_id).first()
        if involvement is None:
            return False, False
        claimed = Involvement.objects.filter(
            pk=involvement_id, ended_recorded_at=None, valid_until__lt=timezone.localdate()
        ).update(ended_recorded_at=timezone.now())
        if claimed != 1:
            return False, False
        permission_removed = _drop_permission_unless_still_involved(involvement)
        audit_record(
            "grant.expired",
            actor_label="system",
            obj=involvement,
            pupil_id=involvement.pupil_id,
            school_id=involvement.pupil.school_id,
            details={
                "kind": "involvement",
                "user_id": involvement.user_id,
                "valid_until": str(involvement.valid_until),
                "permission_removed": permission_removed,
            },
        )
    return True, permission_removed
