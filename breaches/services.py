"""Named actions on breaches (STYLE 2): each writes the rows, the append-only
BreachEvent and the AuditEvent in one transaction, and queues its e-mails on
commit. E-mails are fixed notices with a link only (R-DIS-6, S-24)."""

import datetime
import logging

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from breaches.models import Breach, BreachEvent, Escalation
from privacy_admin import notify
from privacy_admin.auditlog import audit_record
from privacy_admin.models import FoundationMembership, Membership
from privacy_admin.roles import FoundationRole, SchoolRole

S = Breach.State

# Escalation until the decision is recorded: (step, hours after awareness,
# foundation roles told). The FG is reminded at 24 h, the deputy joins at
# 48 h, the bestuurder at 60 h, twelve hours before the AP deadline.
logger = logging.getLogger(__name__)

ESCALATION_STEPS = (
    ("24h", 24, (FoundationRole.FG,)),
    ("48h", 48, (FoundationRole.FG, FoundationRole.FG_DEPUTY)),
    ("60h", 60, (FoundationRole.FG, FoundationRole.FG_DEPUTY, FoundationRole.BOARD)),
)

# Which form may move an incident from which states to which (None: stays).
TRANSITIONS = {
    "assess": ({S.REPORTED, S.ASSESSING, S.DECIDED, S.AP_NOTIFIED, S.PEOPLE_TOLD}, S.ASSESSING),
    "decide": ({S.REPORTED, S.ASSESSING}, S.DECIDED),
    "ap": ({S.DECIDED}, S.AP_NOTIFIED),
    "people": ({S.DECIDED, S.AP_NOTIFIED}, S.PEOPLE_TOLD),
    "close": ({S.PEOPLE_TOLD}, S.CLOSED),
}


class TransitionRefused(Exception):
    pass


def step_allowed(breach, step):
    """Whether `step` may be taken now. After a decision to notify the AP, the
    AP step comes first: the people step is not reachable before it, so an
    incident cannot be closed without the AP notice (R-BRK-2)."""
    allowed, _target = TRANSITIONS[step]
    if breach.state not in allowed:
        return False
    if step == "ap" and not breach.ap_notify:
        return False
    return not (step == "people" and breach.state == S.DECIDED and breach.ap_notify)


def _send_each(kind, recipients, path):
    """Mail each recipient on its own: one refused address or a mail-server
    hiccup must not keep the alert from the others, nor turn a saved report
    into an error page. Failures are logged without the address (S-24)."""
    failed = 0
    for to in recipients:
        try:
            notify.send_notice(kind, to, path)
        except Exception:  # noqa: BLE001 - any mail failure; logged, counted
            failed += 1
    if failed:
        logger.error("%s: %d of %d notices could not be sent", kind, failed, len(recipients))
    return failed


def _foundation_addresses(foundation, roles):
    emails = set(
        FoundationMembership.objects.filter(foundation=foundation, role__in=roles, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if FoundationRole.FG in roles and foundation.fg_email:
        emails.add(foundation.fg_email)
    return emails


def report_recipients(breach):
    """R-BRK-1: the FG (accounts and the foundation's FG address), the deputy,
    and the director(s) of the school concerned."""
    emails = _foundation_addresses(breach.foundation, (FoundationRole.FG, FoundationRole.FG_DEPUTY))
    if breach.school_id:
        emails |= set(
            Membership.objects.current()
            .filter(school_id=breach.school_id, role=SchoolRole.DIRECTOR, user__is_active=True)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    return sorted(emails)


def _link(breach):
    return reverse("breach_detail", kwargs={"breach_id": breach.pk})


def _event(breach, action, actor, from_state="", to_state=""):
    BreachEvent.objects.create(breach=breach, actor=actor, action=action, from_state=from_state, to_state=to_state)


def breach_report(
    *, reporter, foundation, school, aware_at, what_happened, data_concerned, approx_pupils, ongoing, request=None
):
    with transaction.atomic():
        breach = Breach.objects.create(
            foundation=foundation,
            school=school,
            reporter=reporter,
            aware_at=aware_at,
            what_happened=what_happened,
            data_concerned=data_concerned,
            approx_pupils=approx_pupils,
            ongoing=ongoing,
        )
        _event(breach, "reported", reporter, to_state=breach.state)
        recipients = report_recipients(breach)
        audit_record(
            "breach.reported",
            actor=reporter,
            request=request,
            obj=breach,
            school_id=breach.school_id,
            details={"recipients": len(recipients)},
        )
        path = _link(breach)
        transaction.on_commit(lambda: _send_each("breach_reported", recipients, path))
    return breach


def breach_update(breach, *, step, fields, acting_user, request=None):
    """Save the fields of one workflow form and move the state where the step
    says so. The state is re-read under a row lock, so two FGs saving at once
    cannot both move it."""
    allowed, target = TRANSITIONS[step]
    with transaction.atomic():
        locked = Breach.objects.select_for_update().get(pk=breach.pk)
        if locked.state not in allowed or not step_allowed(locked, step):
            raise TransitionRefused(step)
        old_state = locked.state
        for name, value in fields.items():
            setattr(breach, name, value)
        new_state = old_state
        if step != "assess" or old_state == S.REPORTED:
            new_state = target
        now = timezone.now()
        breach.state = new_state
        changed = [*fields, "state"]
        if step == "decide":
            breach.decided_at = now
            changed.append("decided_at")
        if step == "close":
            breach.closed_at = now
            changed.append("closed_at")
        breach.save(update_fields=changed)
        _event(breach, step, acting_user, old_state, new_state)
        audit_record(
            f"breach.{step}",
            actor=acting_user,
            request=request,
            obj=breach,
            school_id=breach.school_id,
            details={"from": old_state, "to": new_state, "fields": sorted(fields)},
        )
    return breach


def escalate_due(now=None):
    """Send each escalation step that is due for an undecided breach, once.
    The unique (breach, step) row is the claim (S-28): a second run, or a
    parallel one, fails to create it and sends nothing. Returns the number of
    steps sent."""
    now = now or timezone.now()
    sent = 0
    first_hours = ESCALATION_STEPS[0][1]
    candidates = Breach.objects.undecided().filter(aware_at__lte=now - datetime.timedelta(hours=first_hours))
    for breach in candidates.select_related("foundation"):
        for step, hours, roles in ESCALATION_STEPS:
            if breach.aware_at > now - datetime.timedelta(hours=hours):
                continue
            recipients = sorted(_foundation_addresses(breach.foundation, roles))
            try:
                with transaction.atomic():
                    Escalation.objects.create(breach=breach, step=step, sent_at=now, recipients=len(recipients))
                    _event(breach, f"escalation_{step}", None)
                    audit_record(
                        "breach.escalated",
                        actor_label="system",
                        obj=breach,
                        school_id=breach.school_id,
                        details={"step": step, "recipients": len(recipients)},
                    )
            except IntegrityError:
                continue
            _send_each("breach_escalation", recipients, _link(breach))
            sent += 1
    return sent
