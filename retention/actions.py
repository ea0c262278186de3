"""Retention's writes as named actions, each audited in the same transaction
(STYLE 2): legal holds (R-RET-6), the terms (R-RET-5), the nightly mode per
school, and the confirmation of a purge (U-3). Who may do it is checked by
the caller through retention.policy; a hold's reason is sealed and kept out
of the log."""

from django.db import transaction
from django.utils import timezone

from privacy_admin.auditlog import audit_record
from retention.models import LegalHold, PurgeRun, RetentionSettings
from retention.tasks import queue_confirmed_purge


def legal_hold_set(*, pupil, reason, acting_user, request=None):
    with transaction.atomic():
        hold = LegalHold.objects.create(pupil=pupil, reason=reason, set_by=acting_user, set_at=timezone.now())
        audit_record(
            "legal_hold_set",
            actor=acting_user,
            request=request,
            obj=hold,
            pupil_id=pupil.pk,
            school_id=pupil.school_id,
        )
    return hold


def legal_hold_lift(*, hold, acting_user, request=None):
    """Lift an active hold; lifting twice records it once."""
    with transaction.atomic():
        now = timezone.now()
        if LegalHold.objects.filter(pk=hold.pk, lifted_at__isnull=True).update(lifted_at=now, lifted_by=acting_user):
            hold.refresh_from_db()
            audit_record(
                "legal_hold_lift",
                actor=acting_user,
                request=request,
                obj=hold,
                pupil_id=hold.pupil_id,
                school_id=hold.pupil.school_id,
            )
    return hold


def retention_rule_change(*, rule, years, months, permanent, acting_user, request=None):
    """Change a term (R-RET-5: terms are configuration). Rules hold for every
    school; the audit event carries the old and the new term."""
    old = {"years": rule.years, "months": rule.months, "permanent": rule.permanent, "text": rule.description}
    with transaction.atomic():
        rule.years, rule.months, rule.permanent = (0, 0, True) if permanent else (years, months, False)
        rule.save(update_fields=["years", "months", "permanent"])
        new = {"years": rule.years, "months": rule.months, "permanent": rule.permanent, "text": rule.description}
        audit_record(
            "retention_rule_change",
            actor=acting_user,
            request=request,
            obj=rule,
            details={"category": rule.category, "condition": rule.condition, "old": old, "new": new},
        )
    return rule


def retention_mode_set(*, school, mode, acting_user, request=None):
    """The school's nightly purge: "propose" (the admin confirms) or "automatic"."""
    with transaction.atomic():
        settings, _created = RetentionSettings.objects.select_for_update().get_or_create(school=school)
        old = settings.mode
        if old != mode:
            settings.mode = mode
            settings.save(update_fields=["mode"])
            audit_record(
                "retention_mode_set",
                actor=acting_user,
                request=request,
                obj=settings,
                school_id=school.pk,
                details={"old": old, "new": mode},
            )
    return settings


def purge_confirm(*, school, as_of, acting_user, request=None):
    """The application admin confirms the purge of what is due at `school` on
    `as_of` (U-3, after the step-up of S-8). The run is recorded as queued and
    its task sent once the transaction commits (STYLE 5); until a worker takes
    it, the run waits in the database (S-29, retention.tasks)."""
    with transaction.atomic():
        now = timezone.now()
        run = PurgeRun.objects.create(
            status=PurgeRun.Status.QUEUED,
            requested_at=now,
            started_at=now,
            as_of=as_of,
            school=school,
            by=acting_user,
        )
        audit_record(
            "retention_purge_confirm",
            actor=acting_user,
            request=request,
            obj=run,
            school_id=school.pk,
            details={"as_of": as_of.isoformat()},
        )
        transaction.on_commit(lambda: queue_confirmed_purge(run.pk))
    return run
