"""Legal holds: set and lifted as named actions, audited in the same
transaction (R-RET-6). Who may do it (the director or the FG) is checked by
the caller's access policy; the reason is sealed and kept out of the log."""

from django.db import transaction
from django.utils import timezone

from privacy_admin.auditlog import audit_record
from retention.models import LegalHold


def legal_hold_set(*, pupil, reason, acting_user):
    with transaction.atomic():
        hold = LegalHold.objects.create(pupil=pupil, reason=reason, set_by=acting_user, set_at=timezone.now())
        audit_record("legal_hold_set", actor=acting_user, obj=hold, pupil_id=pupil.pk, school_id=pupil.school_id)
    return hold


def legal_hold_lift(*, hold, acting_user):
    """Lift an active hold; lifting twice records it once."""
    with transaction.atomic():
        now = timezone.now()
        if LegalHold.objects.filter(pk=hold.pk, lifted_at__isnull=True).update(lifted_at=now, lifted_by=acting_user):
            hold.refresh_from_db()
            audit_record(
                "legal_hold_lift",
                actor=acting_user,
                obj=hold,
                pupil_id=hold.pupil_id,
                school_id=hold.pupil.school_id,
            )
    return hold
