"""Periodic jobs of the core. Tasks take ids (or nothing), never model
instances or personal data (S-24)."""

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from privacy_admin import actions, auditlog, throttle
from privacy_admin.auditlog import audit_record
from privacy_admin.jobs import job_run
from privacy_admin.models import Membership, StaffSession

logger = logging.getLogger(__name__)


@shared_task
def audit_anchor():
    """Record where the audit chain's head stands: its last row number and
    that row's HMAC, in this run's JobRun record and in the worker's log (no
    personal data). The key proves every row up to the head; the anchors prove
    the head was once further on, so a log emptied, or cut short with an older
    head put back, fails `verify_audit_log` ("rows after N are missing").
    Running twice records the same position twice, which is harmless (S-28)."""
    with job_run(auditlog.ANCHOR_JOB) as counts:
        counts.update(auditlog.anchor_position())
        logger.info("audit anchor: last_seq=%s last_hmac=%s", counts["last_seq"], counts["last_hmac"])
    return counts


@shared_task
def security_housekeeping():
    with job_run("security_housekeeping") as counts:
        counts["sessions_removed"] = StaffSession.objects.filter(expire_date__lt=timezone.now()).delete()[0]
        counts["failures_removed"] = throttle.purge_old_failures()
    return counts


@shared_task
def expired_memberships():
    """Record each membership whose end date passed, once, and end the
    sessions of people left without any current role."""
    with job_run("expired_memberships") as counts:
        counts["expired"] = 0
        counts["sessions_ended"] = 0
        today = timezone.localdate()
        candidates = Membership.objects.filter(valid_until__lt=today, expiry_recorded_at=None)
        for membership in candidates.select_related("user"):
            with transaction.atomic():
                claimed = Membership.objects.filter(pk=membership.pk, expiry_recorded_at=None).update(
                    expiry_recorded_at=timezone.now()
                )
                if claimed != 1:
                    continue
                audit_record(
                    "role.expired",
                    actor_label="system",
                    obj=membership.user,
                    school_id=membership.school_id,
                    details={"role": membership.role},
                )
                counts["expired"] += 1
                user = membership.user
                if not user.current_memberships().exists() and not user.foundation_memberships.exists():
                    counts["sessions_ended"] += actions.sessions_end(user, acting_user=None, reason="role_expired")
    return counts
