"""The audit log's own retention term (R-RET-6, S-23, S-27).

Audit events are kept AUDIT_RETENTION_YEARS (default 5) and then removed by
the same machinery as pupil data: the one retention lock, batches in their
own transactions, a PurgeRun with a PurgeRecord per batch (category "audit",
counts and rule text only) and an audit event per batch.

The term counts like R-RET-5: an event written on day D (local date) is due
on the day after D + term. Only the oldest events go, as one unbroken run
from the start of the log: the purge stops before the first event that is
not yet due, so an event written with a clock that ran behind waits for the
ones before it. Each batch goes through `auditlog.cut_through()`, which
verifies the rows, writes a signed checkpoint carrying the chain forward and
deletes them (on PostgreSQL the trigger of migration 0005 lets exactly that
deletion through), so `verify_audit_log` keeps proving what is left.

"audit" is not one of the pupil categories (privacy_admin.records): its
counts are events, not pupils, so it stays out of the engine's due/purged
per category and is reported on its own ("audit_events").

Idempotent: a second run finds nothing due. A run that stops halfway leaves
earlier batches done, each with its checkpoint; the next run goes on.
"""

import dataclasses
import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone

from privacy_admin import auditlog
from privacy_admin.auditlog import audit_record
from privacy_admin.models import AuditEvent
from retention import engine
from retention.models import AUDIT_CATEGORY, PurgeRecord, PurgeRun, RetentionLock

ACTION = "retention_audit_purge"
DEFAULT_BATCH_SIZE = 5000


@dataclasses.dataclass
class AuditPurgeResult:
    as_of: datetime.date
    due: int
    purged: int
    run_id: int | None = None

    def as_json(self):
        return {"due": self.due, "purged": self.purged}


def rule_text(years=None):
    years = settings.AUDIT_RETENTION_YEARS if years is None else years
    return f"audit log: {years} year{'s' if years != 1 else ''} after the event"


def _last_due_day(as_of, months):
    """The latest day D whose events are due on `as_of`: D + term < as_of."""
    day = engine.add_months(as_of, -months)
    while engine.add_months(day, months) >= as_of:
        day -= datetime.timedelta(days=1)
    while engine.add_months(day + datetime.timedelta(days=1), months) < as_of:
        day += datetime.timedelta(days=1)
    return day


def boundary(as_of, years=None):
    """Events written before this moment are due on `as_of`: the start of the
    day after the last due day, in the portal's time zone."""
    years = settings.AUDIT_RETENTION_YEARS if years is None else years
    day = _last_due_day(as_of, years * 12) + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def due_through(as_of, years=None):
    """The last row number due on `as_of` (0 when none): the row before the
    first event that is not yet due, or the last row when all are due."""
    first_kept = AuditEvent.objects.filter(at__gte=boundary(as_of, years)).aggregate(seq=Min("seq"))["seq"]
    if first_kept is not None:
        return first_kept - 1
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    return last or 0


def due_count(as_of, years=None):
    """How many events are due on `as_of`."""
    through = due_through(as_of, years)
    return AuditEvent.objects.filter(seq__lte=through).count() if through else 0


def _heartbeat(token):
    # As the engine's: a lock that went stale and was taken over stops us.
    if RetentionLock.objects.filter(pk=1, holder=token).update(heartbeat_at=timezone.now()) != 1:
        raise engine.PurgeLocked


def _run_counts(result):
    """PurgeRun.counts in the engine's shape (no pupils), plus the events."""
    return {
        "as_of": result.as_of.isoformat(),
        "due": dict.fromkeys(engine.CATEGORIES, 0),
        "purged": dict.fromkeys(engine.CATEGORIES, 0),
        "held": 0,
        "audit_events": result.as_json(),
    }


def purge_audit(as_of, *, acting_user=None, dry_run=False, batch_size=DEFAULT_BATCH_SIZE):
    """Remove the audit events whose term has passed on `as_of`. With
    `dry_run`, only count them. Raises engine.PurgeLocked when another purge
    runs, auditlog.AuditChainError when the rows due do not verify (then
    nothing of that batch is removed and the run is recorded as failed)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if dry_run:
        return AuditPurgeResult(as_of=as_of, due=due_count(as_of), purged=0)
    token = engine.take_lock()
    try:
        through = due_through(as_of)
        due = AuditEvent.objects.filter(seq__lte=through).count() if through else 0
        result = AuditPurgeResult(as_of=as_of, due=due, purged=0)
        if not due:
            return result
        now = timezone.now()
        run = PurgeRun.objects.create(
            started_at=now,
            as_of=as_of,
            by=acting_user,
            counts=_run_counts(result),
            total=due,
            done=0,
            progress_at=now,
        )
        result.run_id = run.pk
        rule = rule_text()
        try:
            while True:
                _heartbeat(token)
                with transaction.atomic():
                    previous = auditlog.last_checkpoint()
                    start = previous.through_seq + 1 if previous is not None else 1
                    if start > through:
                        break
                    checkpoint = auditlog.cut_through(min(start + batch_size - 1, through))
                    # Progress in events, committed with the batch (U-3).
                    PurgeRun.objects.filter(pk=run.pk).update(
                        done=F("done") + checkpoint.rows, progress_at=timezone.now()
                    )
                    PurgeRecord.objects.create(
                        run=run,
                        category=AUDIT_CATEGORY,
                        rule=rule,
                        pupils=0,
                        rows=checkpoint.rows,
                        at=timezone.now(),
                        by=acting_user,
                    )
                    audit_record(
                        ACTION,
                        actor=acting_user,
                        actor_label="retention",
                        object_type="retention.purgerun",
                        object_id=run.pk,
                        details={
                            "category": AUDIT_CATEGORY,
                            "rule": rule,
                            "rows": checkpoint.rows,
                            "through_seq": checkpoint.through_seq,
                        },
                    )
                result.purged += checkpoint.rows
        except Exception as exc:
            run.status = PurgeRun.Status.FAILED
            run.error = type(exc).__name__
            run.finished_at = timezone.now()
            run.counts = _run_counts(result)
            run.save(update_fields=["status", "error", "finished_at", "counts"])
            raise
        run.status = PurgeRun.Status.DONE
        run.finished_at = timezone.now()
        run.counts = _run_counts(result)
        run.save(update_fields=["status", "finished_at", "counts"])
        return result
    finally:
        engine.release_lock(token)
