"""Writing and verifying the audit log. One call for every audited act:
`audit_record(...)`, inside the transaction of the act itself."""

import datetime
import hashlib
import hmac
import json

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from privacy_admin.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64


def _client_ip(request):
    if request is None:
        return None
    # REMOTE_ADDR only: X-Forwarded-For is set by whoever connects. Behind a
    # proxy, the proxy is configured to set REMOTE_ADDR (gunicorn --forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR") or None


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
            ip=_client_ip(request),
            details=details or {},
            prev_hmac=head.last_hmac,
        )
        # Round-trip the JSON now so the digest covers what the database keeps.
        event.details = json.loads(json.dumps(event.details, default=str))
        event.hmac = _digest(event, head.last_hmac)
        event.save(force_insert=True)
        head.last_seq = event.seq
        head.last_hmac = event.hmac
        head.save(update_fields=["last_seq", "last_hmac"])
    return event


def verify_chain():
    """Walk the log in order. Returns (ok, message, rows_checked); the message
    names the first altered or missing row."""
    expected_seq = 1
    prev = GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return False, f"row {expected_seq} is missing (next row found is {event.seq})", checked
        if event.prev_hmac != prev or not hmac.compare_digest(event.hmac, _digest(event, prev)):
            return False, f"row {event.seq} was altered", checked
        prev = event.hmac
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_seq >= expected_seq:
        return False, f"row {expected_seq} is missing (the log should end at row {head.last_seq})", checked
    if head is not None and head.last_seq and head.last_hmac != prev:
        return False, f"row {head.last_seq} was altered", checked
    return True, f"audit log intact: {checked} rows", checked
