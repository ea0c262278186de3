"""Writing and verifying the audit log. One call for every audited act:
`audit_record(...)`, inside the transaction of the act itself.

What proves the log whole (S-23) is the key, not the database: every row
carries an HMAC chained to the previous row, and the chain head carries an HMAC
over its own position, so rows cannot be altered, removed from the middle or cut
off the end without AUDIT_HMAC_KEY. Two things the key alone cannot tell are
an empty log that used to be full, and a head put back to an older signed
position after the rows behind it were deleted. For those, the daily
`audit_anchor` job copies the head's position into its job record (and the
worker's log), and the verifier checks the log against every anchor.

The log's own retention term (retention/auditterm.py) removes the oldest rows
through `cut_through()`: it first checks the rows it removes, then writes an
AuditCheckpoint holding the last removed row's HMAC (signed, and chained to
the checkpoint before), then deletes them, all in one transaction. The
verifier starts where the checkpoints end, so what is left is proved as
before, and a row removed any other way is still "missing".
"""

import datetime
import hashlib
import hmac
import json

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from privacy_admin.models import AuditChainHead, AuditCheckpoint, AuditEvent, JobRun
from privacy_admin.net import client_ip

GENESIS = "0" * 64
ANCHOR_JOB = "audit_anchor"


class AuditHeadError(Exception):
    """The chain head is missing or its HMAC does not match."""


class AuditChainError(Exception):
    """The rows a purge would remove do not verify; nothing is removed."""


def _digest(event, prev_hmac):
    payload = json.dumps(
        [
            event.seq,
            event.at.astimezone(datetime.UTC).isoformat(),
            event.actor_id,
            event.actor_label,
            event.action,
            event.object_type,
            event.object_id,
            event.pupil_id,
            event.school_id,
            event.ground,
            event.ip,
            event.details,
            prev_hmac,
        ],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), payload.encode(), hashlib.sha256).hexdigest()


def head_digest(last_seq, last_hmac):
    """The chain head's own HMAC, over its position. The "head" tag keeps it
    from ever equalling a row's digest."""
    payload = json.dumps(["head", last_seq, last_hmac], separators=(",", ":"))
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), payload.encode(), hashlib.sha256).hexdigest()


def checkpoint_digest(checkpoint):
    """A checkpoint's own HMAC. The "checkpoint" tag keeps it from ever
    equalling a row's or the head's digest."""
    payload = json.dumps(
        [
            "checkpoint",
            checkpoint.from_seq,
            checkpoint.through_seq,
            checkpoint.through_hmac,
            checkpoint.rows,
            checkpoint.first_at.astimezone(datetime.UTC).isoformat(),
            checkpoint.last_at.astimezone(datetime.UTC).isoformat(),
            checkpoint.made_at.astimezone(datetime.UTC).isoformat(),
            checkpoint.prev_hmac,
        ],
        separators=(",", ":"),
    )
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _checkpoint_is_signed(checkpoint):
    return hmac.compare_digest(checkpoint.hmac or "", checkpoint_digest(checkpoint))


def _head_is_signed(head):
    return hmac.compare_digest(head.head_hmac or "", head_digest(head.last_seq, head.last_hmac))


def audit_record(
    action,
    *,
    actor=None,
    actor_label="",
    request=None,
    obj=None,
    object_type="",
    object_id="",
    pupil_id=None,
    school_id=None,
    ground="",
    details=None,
):
    """Append one event. Call it inside the transaction of the audited act: if
    the act rolls back, so does its record, and if the record cannot be written
    the act fails too (S-21)."""
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        if request.user.is_authenticated:
            actor = request.user
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    with transaction.atomic():
        head, _created = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=head.last_seq + 1,
            at=timezone.now(),
            actor_id=actor.pk if actor is not None else None,
            actor_label=(actor.get_username() if actor is not None else actor_label)[:150],
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            pupil_id=pupil_id,
            school_id=school_id,
            ground=ground[:200],
            # Normalised (net.normalise_ip): the digest must cover the text the
            # database gives back, or a non-canonical IPv6 breaks the chain.
            ip=client_ip(request),
            details=details or {},
            prev_hmac=head.last_hmac,
        )
        # Round-trip the JSON now so the digest covers what the database keeps.
        event.details = json.loads(json.dumps(event.details, default=str))
        event.hmac = _digest(event, head.last_hmac)
        event.save(force_insert=True)
        head.last_seq = event.seq
        head.last_hmac = event.hmac
        head.head_hmac = head_digest(event.seq, event.hmac)
        head.save(update_fields=["last_seq", "last_hmac", "head_hmac"])
    return event


def anchor_position():
    """The head's position for the daily anchor: {"last_seq", "last_hmac"}
    (no personal data). A missing or unsigned head is not anchored: the job
    fails, visibly, instead of vouching for a log that is already broken."""
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        if AuditEvent.objects.exists():
            raise AuditHeadError("the chain head is missing")
        return {"last_seq": 0, "last_hmac": GENESIS}
    if not _head_is_signed(head):
        raise AuditHeadError("the chain head was altered")
    return {"last_seq": head.last_seq, "last_hmac": head.last_hmac}


def _anchors():
    """{seq: (hmac, day)} from every successful anchor run. Records that do
    not look like an anchor are skipped: they can prove nothing."""
    anchors = {}
    runs = JobRun.objects.filter(name=ANCHOR_JOB, outcome=JobRun.Outcome.OK).order_by("started_at")
    for counts, started_at in runs.values_list("counts", "started_at"):
        seq = counts.get("last_seq") if isinstance(counts, dict) else None
        digest = counts.get("last_hmac") if isinstance(counts, dict) else None
        if isinstance(seq, int) and seq > 0 and isinstance(digest, str):
            anchors.setdefault(seq, []).append((digest, started_at.astimezone(datetime.UTC).date().isoformat()))
    return anchors


def last_checkpoint():
    return AuditCheckpoint.objects.order_by("-through_seq").first()


def cut_through(through_seq):
    """Remove the oldest rows of the log, up to and including `through_seq`,
    leaving a checkpoint that carries the chain forward. Returns the
    checkpoint, or None when there is nothing to remove. Call it inside a
    transaction (the retention purge's batch): checkpoint and deletion commit
    together or not at all.

    The rows are verified first, against the previous checkpoint (or the
    genesis) and the anchors: a purge never erases the evidence of tampering;
    it raises AuditChainError and removes nothing."""
    if not connection.in_atomic_block:
        raise RuntimeError("cut_through() must run inside transaction.atomic()")
    previous = last_checkpoint()
    if previous is not None and not _checkpoint_is_signed(previous):
        raise AuditChainError(f"the checkpoint through row {previous.through_seq} was altered")
    from_seq = previous.through_seq + 1 if previous is not None else 1
    if through_seq < from_seq:
        return None
    prev = previous.through_hmac if previous is not None else GENESIS
    anchors = _anchors()
    expected = from_seq
    first_at = last_at = None
    rows = AuditEvent.objects.filter(seq__gte=from_seq, seq__lte=through_seq).order_by("seq")
    for event in rows.iterator(chunk_size=2000):
        if event.seq != expected:
            raise AuditChainError(f"row {expected} is missing")
        if event.prev_hmac != prev or not hmac.compare_digest(event.hmac, _digest(event, prev)):
            raise AuditChainError(f"row {event.seq} was altered")
        for anchored, _day in anchors.get(event.seq, ()):
            if not hmac.compare_digest(anchored, event.hmac):
                raise AuditChainError(f"row {event.seq} differs from its anchor")
        first_at = first_at or event.at
        last_at = event.at
        prev = event.hmac
        expected += 1
    if expected != through_seq + 1:
        raise AuditChainError(f"row {expected} is missing")
    checkpoint = AuditCheckpoint(
        from_seq=from_seq,
        through_seq=through_seq,
        through_hmac=prev,
        rows=through_seq - from_seq + 1,
        first_at=first_at,
        last_at=last_at,
        made_at=timezone.now(),
        prev_hmac=previous.hmac if previous is not None else GENESIS,
    )
    checkpoint.hmac = checkpoint_digest(checkpoint)
    checkpoint.save(force_insert=True)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The trigger (migration 0005) lets a DELETE through only with this
            # transaction-local setting, and only for rows a checkpoint covers.
            cursor.execute("SELECT set_config('privacy_admin.audit_purge', 'on', true)")
        cursor.execute(
            f"DELETE FROM {AuditEvent._meta.db_table} WHERE seq >= %s AND seq <= %s",  # noqa: S608 (table name)
            [from_seq, through_seq],
        )
        deleted = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('privacy_admin.audit_purge', 'off', true)")
    if deleted != checkpoint.rows:
        raise AuditChainError(f"removed {deleted} rows, expected {checkpoint.rows}")
    return checkpoint


def verify_chain():
    """Walk the log in order, then check the head and the anchors. Returns
    (ok, message, rows_checked); the message names the first altered or
    missing row."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # One snapshot for rows, head and anchors: a row appended while the
            # walk runs is then neither "missing" nor "beyond the head".
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _verify()


def _verify_checkpoints(anchors):
    """Walk the checkpoints: each signed, each following the one before.
    Returns (problem or None, first seq expected in the log, the HMAC that
    row must chain to, number of checkpoints)."""
    expected_seq = 1
    prev = GENESIS
    prev_checkpoint = GENESIS
    checkpoints = list(AuditCheckpoint.objects.order_by("through_seq"))
    for checkpoint in checkpoints:
        name = f"the checkpoint through row {checkpoint.through_seq}"
        if not _checkpoint_is_signed(checkpoint):
            return f"{name} was altered (its HMAC does not match)", expected_seq, prev, 0
        if checkpoint.prev_hmac != prev_checkpoint or checkpoint.from_seq != expected_seq:
            return f"{name} does not follow the one before (a checkpoint is missing)", expected_seq, prev, 0
        for anchored, day in anchors.get(checkpoint.through_seq, ()):
            if not hmac.compare_digest(anchored, checkpoint.through_hmac):
                problem = f"row {checkpoint.through_seq} was altered (it differs from the anchor of {day})"
                return problem, expected_seq, prev, 0
        expected_seq = checkpoint.through_seq + 1
        prev = checkpoint.through_hmac
        prev_checkpoint = checkpoint.hmac
    return None, expected_seq, prev, len(checkpoints)


def _verify():
    anchors = _anchors()
    problem, expected_seq, prev, checkpoints = _verify_checkpoints(anchors)
    if problem:
        return False, problem, 0
    purged = expected_seq - 1
    checked = 0
    if purged:
        stale = AuditEvent.objects.filter(seq__lte=purged).order_by("seq").values_list("seq", flat=True).first()
        if stale is not None:
            return False, f"row {stale} is still there although a checkpoint says it was removed", checked
    for event in AuditEvent.objects.filter(seq__gt=purged).order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return False, f"row {expected_seq} is missing (next row found is {event.seq})", checked
        if event.prev_hmac != prev or not hmac.compare_digest(event.hmac, _digest(event, prev)):
            return False, f"row {event.seq} was altered", checked
        for anchored, day in anchors.get(event.seq, ()):
            if not hmac.compare_digest(anchored, event.hmac):
                return False, f"row {event.seq} was altered (it differs from the anchor of {day})", checked
        prev = event.hmac
        expected_seq += 1
        checked += 1
    last = expected_seq - 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None and last:
        return False, f"the chain head is missing (the log has {last} rows)", checked
    if head is not None:
        if not _head_is_signed(head):
            return False, "the chain head was altered (its HMAC does not match)", checked
        if head.last_seq > last:
            return False, f"row {last + 1} is missing (the log should end at row {head.last_seq})", checked
        if head.last_seq < last:
            # A signed head behind the log: an older head was put back.
            return (
                False,
                f"the chain head was put back (it ends at row {head.last_seq}, the log at row {last})",
                checked,
            )
        if head.last_hmac != prev:
            return False, f"row {last} was altered", checked
    beyond = [seq for seq in anchors if seq > last]
    if beyond:
        seq = max(beyond)
        day = anchors[seq][-1][1]
        return False, f"rows after {last} are missing (row {seq} was anchored on {day})", checked
    if purged:
        return (
            True,
            f"audit log intact: {checked} rows "
            f"(rows 1-{purged} removed after the retention term; {checkpoints} checkpoints)",
            checked,
        )
    return True, f"audit log intact: {checked} rows", checked
