"""Disclosures as named actions (R-DIS-1..3, R-DIS-5, R-DIS-7, U-2).

Every act of giving data is a Disclosure, written with its pupils and its
audit events in one transaction. The rules live here, not in the views:

- what goes out is the recipient's whitelist from the field catalogue, never
  more (disclosures/fields.py); a processor at most name, birth date and year
  group, and only under a processing agreement that has not expired (R-DIS-5);
- a consent-based disclosure covers only pupils whose parents gave consent
  for the recipient's question; the others are blocked with the reason and
  nothing is disclosed about them (R-DIS-1); Mondzorg voor Kids only gets the
  pupils their parents registered (R-DIS-3);
- an Inspectie request waits for the director, who approves or refuses with a
  reason; nothing is disclosed before that (U-2);
- an emergency is recorded at once (break-glass), the directors are told at
  once, and a director reviews it afterwards (R-DIS-2);
- suspected child abuse is restricted to the director and the IB and puts the
  pupil under a legal hold (R-DIS-2, R-RET-6);
- a transfer's report goes with a link-only notice to the parents with
  authority, who may add their view (R-DIS-2).

A Disclosure is not edited once disclosed: the only later writes are the
director's review of an emergency and the parents' view on a transfer, each
claimed with a conditional update so that it happens once.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from consent.models import ConsentCategory
from consent.services import effective_answers
from disclosures import fields as catalogue
from disclosures.models import Disclosure, DisclosurePupil, Recipient
from disclosures.seed import seeded_recipient
from privacy_admin.auditlog import audit_record
from privacy_admin.models import Membership
from privacy_admin.notify import send_notice
from privacy_admin.roles import SchoolRole
from retention.actions import legal_hold_set
from students.models import Guardian

K = Disclosure.Kind
M = Disclosure.Method

# Which register entries each kind of disclosure goes to.
RECIPIENT_KIND = {
    K.STANDING_EXPORT: Recipient.Kind.STANDING,
    K.CONSENT: Recipient.Kind.CONSENT,
    K.PROCESSOR: Recipient.Kind.PROCESSOR,
}
RECIPIENT_KEY = {
    K.INSPECTIE: "inspectie",
    K.TRANSFER: "receiving-school",
    K.EMERGENCY: "emergency",
    K.LEERPLICHT: "leerplicht",
    K.CHILD_ABUSE: "veilig-thuis",
    K.NCO: "cbs",
}
# How each kind may be handed over.
METHODS = {
    K.STANDING_EXPORT: (M.CSV, M.PDF),
    K.CONSENT: (M.CSV, M.PDF),
    K.PROCESSOR: (M.CSV, M.PDF),
    K.INSPECTIE: (M.INSPECTION, M.PDF, M.CSV, M.SECURE_LINK),
    K.TRANSFER: (M.SECURE_LINK, M.PDF),
    K.EMERGENCY: (M.PHONE, M.IN_PERSON, M.PDF),
    K.CHILD_ABUSE: (M.PHONE, M.SECURE_LINK, M.IN_PERSON, M.PDF),
}
EXPORT_KINDS = (K.STANDING_EXPORT, K.CONSENT, K.PROCESSOR)


@dataclass
class Blocked:
    pupil: object
    reason: str


@dataclass
class Plan:
    """Exactly what a disclosure would give: to whom, which fields, about
    which pupils, and who is left out and why."""

    recipient: Recipient
    kind: str
    fields: list
    allowed: list = field(default_factory=list)
    blocked: list = field(default_factory=list)


def mandatory_recipient(school, kind):
    return seeded_recipient(school.foundation, RECIPIENT_KEY[kind])


def _ground(user, school_id):
    for membership in user.memberships_today():
        if membership.school_id == school_id:
            return f"{membership.get_role_display()} {membership.school.brin}"
    return ""


def _require(user, capability, school_id):
    if not user.has_capability(capability, school_id):
        raise PermissionDenied


def _consent_reasons(recipient, school, pupils):
    """{pupil_id: reason} for the pupils without consent for the recipient's
    question at this school (R-DIS-1): no recorded consent is no consent."""
    category = None
    if recipient.consent_category_id is not None:
        category = ConsentCategory.objects.filter(
            school=school, key=recipient.consent_category.key, active=True, kind=ConsentCategory.Kind.CONSENT
        ).first()
    if category is None:
        reason = _("this school does not ask the parents' consent for it")
        return {p.pk: reason for p in pupils}
    answers = effective_answers(pupils, [category])
    reasons = {}
    for pupil in pupils:
        state = answers[(pupil.pk, category.pk)].state
        if state == "given":
            continue
        if state == "refused":
            reasons[pupil.pk] = _("consent refused by a parent with parental authority")
        else:
            reasons[pupil.pk] = _("no consent recorded (no answer is no consent)")
    return reasons


def disclosure_plan(*, school, recipient, kind, pupils, fields, acting_user):
    """Check a disclosure before it is made and say who is left out. Raises
    ValidationError for what cannot be disclosed at all."""
    if recipient.foundation_id != school.foundation_id or recipient.school_id not in (None, school.pk):
        raise ValidationError(_("This recipient is not in the register of this school."))
    if not recipient.active:
        raise ValidationError(_("This recipient is no longer active in the register."))
    if kind in RECIPIENT_KIND and recipient.kind != RECIPIENT_KIND[kind]:
        raise ValidationError(_("This recipient does not receive this kind of disclosure."))
    if kind in RECIPIENT_KEY and recipient.key != RECIPIENT_KEY[kind]:
        raise ValidationError(_("This recipient does not receive this kind of disclosure."))
    chosen = set(fields)
    if chosen - set(recipient.fields) or catalogue.unknown(chosen):
        raise ValidationError(_("Only the fields on the recipient's whitelist can be disclosed."))
    # In the whitelist's own order: an export's columns are its whitelist.
    fields = [k for k in recipient.fields if k in chosen]
    if not fields:
        raise ValidationError(_("Nothing to disclose: no fields are allowed or chosen for this recipient."))
    if recipient.kind == Recipient.Kind.PROCESSOR:
        if set(fields) - set(catalogue.PROCESSOR_FIELDS):
            raise ValidationError(_("A processor receives at most name, birth date and year group."))
        if recipient.agreement_state() not in ("ok", "expiring"):
            raise ValidationError(
                _("There is no valid processing agreement with this processor: record it in the register first.")
            )
    lacking = catalogue.missing_capabilities(fields, acting_user.capabilities(school.pk))
    if lacking:
        raise ValidationError(
            _("Your role may not see these fields, so you cannot disclose them: %(fields)s")
            % {"fields": ", ".join(catalogue.labels(lacking))}
        )
    pupils = list(pupils)
    if any(p.school_id != school.pk for p in pupils):
        raise ValidationError(_("Every pupil must be of the school that discloses."))
    plan = Plan(recipient=recipient, kind=kind, fields=fields)
    reasons = {}
    if recipient.registered_pupils_only:
        for pupil in pupils:
            if not pupil.mondzorg_registered:
                reasons[pupil.pk] = _("not registered for it by the parents")
    if kind == K.CONSENT:
        for pupil_id, reason in _consent_reasons(recipient, school, pupils).items():
            reasons.setdefault(pupil_id, reason)
    for pupil in pupils:
        if pupil.pk in reasons:
            plan.blocked.append(Blocked(pupil, reasons[pupil.pk]))
        else:
            plan.allowed.append(pupil)
    return plan


def _check_method(kind, method):
    if method not in METHODS[kind]:
        raise ValidationError(_("This way of handing over does not fit this kind of disclosure."))


def _create(*, plan, school, status, method, purpose, recipient_detail, acting_user, restricted=False):
    now = timezone.now()
    disclosure = Disclosure.objects.create(
        school=school,
        recipient=plan.recipient,
        recipient_detail=recipient_detail,
        kind=plan.kind,
        legal_basis=plan.recipient.legal_basis,
        purpose=purpose or plan.recipient.purpose,
        fields=plan.fields,
        method=method,
        status=status,
        requested_by=acting_user,
        requested_at=now,
        disclosed_at=now if status == Disclosure.Status.DISCLOSED else None,
        restricted=restricted,
        pupil_count=len(plan.allowed),
    )
    DisclosurePupil.objects.bulk_create(DisclosurePupil(disclosure=disclosure, pupil=p) for p in plan.allowed)
    return disclosure


def _audit(action, disclosure, *, acting_user, request=None, details=None):
    """One event for the disclosure. A restricted one names neither kind nor
    recipient in the log, which more people read than may see it."""
    base = {"pupils": disclosure.pupil_count}
    if not disclosure.restricted:
        base.update({"kind": disclosure.kind, "recipient": disclosure.recipient_id, "fields": disclosure.fields})
    audit_record(
        action,
        actor=acting_user,
        request=request,
        obj=disclosure,
        school_id=disclosure.school_id,
        ground=_ground(acting_user, disclosure.school_id) if acting_user is not None else "",
        details=base | (details or {}),
    )


def _audit_pupils(disclosure, *, acting_user, request=None):
    """R-ACC-7: the disclosure shows in each pupil's own log."""
    ground = _ground(acting_user, disclosure.school_id)
    for pupil_id in disclosure.pupils.values_list("pupil_id", flat=True):
        audit_record(
            "disclosure.pupil_disclosed",
            actor=acting_user,
            request=request,
            obj=disclosure,
            pupil_id=pupil_id,
            school_id=disclosure.school_id,
            ground=ground,
        )


def _director_addresses(school_id):
    return sorted(
        set(
            Membership.objects.current()
            .filter(school_id=school_id, role=SchoolRole.DIRECTOR, user__is_active=True)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def _notify(kind, addresses, path):
    # Each address on its own: one bad address does not stop the others, and
    # no recipient sees another's address. A link only (R-DIS-6).
    for address in addresses:
        transaction.on_commit(lambda a=address: send_notice(kind, a, path))


def _nothing_allowed(plan):
    if not plan.allowed:
        raise ValidationError(
            ngettext(
                "Nothing was disclosed: the pupil is blocked.",
                "Nothing was disclosed: all %(n)s pupils are blocked.",
                len(plan.blocked),
            )
            % {"n": len(plan.blocked)}
            if plan.blocked
            else _("Choose at least one pupil.")
        )


# --- Exports to standing recipients, with consent, to processors ---------------


@transaction.atomic
def disclosure_export_make(*, school, recipient, kind, pupils, method, acting_user, request=None):
    """R-DIS-3, R-DIS-1, R-DIS-5: the whitelisted fields of the allowed pupils,
    recorded as disclosed at once; the file is then read through
    disclosure_data_read. Returns (disclosure, plan)."""
    if kind not in EXPORT_KINDS:
        raise ValidationError(_("Unknown kind of export."))
    _require(acting_user, "disclosures.make", school.pk)
    _check_method(kind, method)
    plan = disclosure_plan(
        school=school, recipient=recipient, kind=kind, pupils=pupils, fields=recipient.fields, acting_user=acting_user
    )
    _nothing_allowed(plan)
    disclosure = _create(
        plan=plan,
        school=school,
        status=Disclosure.Status.DISCLOSED,
        method=method,
        purpose=recipient.purpose,
        recipient_detail="",
        acting_user=acting_user,
    )
    _audit(
        "disclosure.disclosed",
        disclosure,
        acting_user=acting_user,
        request=request,
        details={"blocked": len(plan.blocked)},
    )
    _audit_pupils(disclosure, acting_user=acting_user, request=request)
    return disclosure, plan


# --- The Inspectie's request and the director's decision (U-2) -----------------


@transaction.atomic
def disclosure_request_make(*, school, pupils, fields, purpose, recipient_detail, method, acting_user, request=None):
    """U-2: the administrative staff or the IB enter an Inspectie request. It
    waits for the director; nothing is disclosed yet."""
    _require(acting_user, "disclosures.make", school.pk)
    _check_method(K.INSPECTIE, method)
    recipient = mandatory_recipient(school, K.INSPECTIE)
    plan = disclosure_plan(
        school=school, recipient=recipient, kind=K.INSPECTIE, pupils=pupils, fields=fields, acting_user=acting_user
    )
    _nothing_allowed(plan)
    disclosure = _create(
        plan=plan,
        school=school,
        status=Disclosure.Status.PENDING,
        method=method,
        purpose=purpose,
        recipient_detail=recipient_detail,
        acting_user=acting_user,
    )
    _audit("disclosure.requested", disclosure, acting_user=acting_user, request=request)
    _notify("disclosure_pending", _director_addresses(school.pk), reverse("disclosure_decide", args=[disclosure.pk]))
    return disclosure


def _claim_pending(disclosure, acting_user):
    _require(acting_user, "requests.decide", disclosure.school_id)
    locked = Disclosure.objects.select_for_update().get(pk=disclosure.pk)
    if locked.status != Disclosure.Status.PENDING:
        raise ValidationError(_("This request was already decided."))
    return locked


def _reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for the decision."))
    return reason


@transaction.atomic
def disclosure_approve(*, disclosure, reason, acting_user, request=None):
    """U-2: the director approves; only now is the request disclosed."""
    reason = _reason(reason)
    disclosure = _claim_pending(disclosure, acting_user)
    now = timezone.now()
    disclosure.status = Disclosure.Status.DISCLOSED
    disclosure.decided_by = acting_user
    disclosure.decided_at = now
    disclosure.decision_reason = reason
    disclosure.disclosed_at = now
    disclosure.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "disclosed_at"])
    _audit("disclosure.approved", disclosure, acting_user=acting_user, request=request)
    _audit_pupils(disclosure, acting_user=acting_user, request=request)
    _notify_requester(disclosure)
    return disclosure


@transaction.atomic
def disclosure_refuse(*, disclosure, reason, acting_user, request=None):
    """U-2: the director refuses with a reason; nothing is disclosed."""
    reason = _reason(reason)
    disclosure = _claim_pending(disclosure, acting_user)
    disclosure.status = Disclosure.Status.REFUSED
    disclosure.decided_by = acting_user
    disclosure.decided_at = timezone.now()
    disclosure.decision_reason = reason
    disclosure.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    _audit("disclosure.refused", disclosure, acting_user=acting_user, request=request)
    _notify_requester(disclosure)
    return disclosure


def _notify_requester(disclosure):
    requester = disclosure.requested_by
    if requester.email and requester.is_active:
        _notify("disclosure_decided", [requester.email], reverse("disclosure_detail", args=[disclosure.pk]))


# --- Emergencies (break-glass) ---------------------------------------------------


def _disclose_at_once(
    *, pupil, kind, capability, fields, purpose, recipient_detail, method, acting_user, restricted=False
):
    """A mandatory disclosure about one pupil that needs no approval first
    (emergency, suspected child abuse): checked, planned and recorded."""
    school = pupil.school
    _require(acting_user, capability, school.pk)
    _check_method(kind, method)
    recipient = mandatory_recipient(school, kind)
    plan = disclosure_plan(
        school=school, recipient=recipient, kind=kind, pupils=[pupil], fields=fields, acting_user=acting_user
    )
    _nothing_allowed(plan)
    return _create(
        plan=plan,
        school=school,
        status=Disclosure.Status.DISCLOSED,
        method=method,
        purpose=purpose,
        recipient_detail=recipient_detail,
        acting_user=acting_user,
        restricted=restricted,
    )


@transaction.atomic
def disclosure_emergency_make(*, pupil, fields, purpose, recipient_detail, method, acting_user, request=None):
    """R-DIS-2: in an emergency any staff member with the whole dossier
    discloses at once; the directors are told at once and review it."""
    school = pupil.school
    disclosure = _disclose_at_once(
        pupil=pupil,
        kind=K.EMERGENCY,
        capability="disclosures.emergency",
        fields=fields,
        purpose=purpose,
        recipient_detail=recipient_detail,
        method=method,
        acting_user=acting_user,
    )
    _audit("disclosure.emergency", disclosure, acting_user=acting_user, request=request)
    _audit_pupils(disclosure, acting_user=acting_user, request=request)
    _notify("disclosure_emergency", _director_addresses(school.pk), reverse("disclosure_review", args=[disclosure.pk]))
    return disclosure


@transaction.atomic
def disclosure_review(*, disclosure, note, acting_user, request=None):
    """The director's review of an emergency disclosure, once."""
    _require(acting_user, "requests.decide", disclosure.school_id)
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Write down the review."))
    if disclosure.kind != K.EMERGENCY or disclosure.status != Disclosure.Status.DISCLOSED:
        raise ValidationError(_("Only an emergency disclosure is reviewed."))
    now = timezone.now()
    claimed = Disclosure.objects.filter(pk=disclosure.pk, reviewed_at=None).update(
        reviewed_by=acting_user, reviewed_at=now, review_note=note
    )
    if claimed != 1:
        raise ValidationError(_("This disclosure was already reviewed."))
    disclosure.refresh_from_db()
    _audit("disclosure.reviewed", disclosure, acting_user=acting_user, request=request)
    return disclosure


# --- Transfer to another school (onderwijskundig rapport) ------------------------


def _authority_addresses(pupil):
    return sorted(
        set(
            Guardian.objects.filter(pupil_links__pupil=pupil, pupil_links__has_authority=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


@transaction.atomic
def disclosure_transfer_make(*, pupil, recipient_detail, method, acting_user, request=None):
    """R-DIS-2: the onderwijskundig rapport for the receiving school. The
    parents with authority get a link-only notice to their copy in the
    parents' portal, where they may add their view."""
    school = pupil.school
    _require(acting_user, "disclosures.make", school.pk)
    _check_method(K.TRANSFER, method)
    if not (recipient_detail or "").strip():
        raise ValidationError(_("Name the receiving school."))
    recipient = mandatory_recipient(school, K.TRANSFER)
    fields = [k for k in catalogue.TRANSFER_FIELDS if k in recipient.fields]
    plan = disclosure_plan(
        school=school, recipient=recipient, kind=K.TRANSFER, pupils=[pupil], fields=fields, acting_user=acting_user
    )
    _nothing_allowed(plan)
    disclosure = _create(
        plan=plan,
        school=school,
        status=Disclosure.Status.DISCLOSED,
        method=method,
        purpose=recipient.purpose,
        recipient_detail=recipient_detail.strip(),
        acting_user=acting_user,
    )
    _audit("disclosure.transfer", disclosure, acting_user=acting_user, request=request)
    _audit_pupils(disclosure, acting_user=acting_user, request=request)
    _notify(
        "disclosure_transfer_copy",
        _authority_addresses(pupil),
        reverse("parent_disclosure_report", args=[pupil.pk, disclosure.pk]),
    )
    return disclosure


@transaction.atomic
def disclosure_parent_view_save(*, disclosure_pupil, text, guardian, request=None):
    """R-DIS-2: a parent with authority adds their view to the transfer
    report; it goes with the report from then on."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Write your view first."))
    disclosure = disclosure_pupil.disclosure
    if disclosure.kind != K.TRANSFER or disclosure.status != Disclosure.Status.DISCLOSED or disclosure.restricted:
        raise PermissionDenied
    if not guardian.pupil_links.filter(pupil_id=disclosure_pupil.pupil_id, has_authority=True).exists():
        raise PermissionDenied(_("Only a parent with parental authority can add the view of the parents."))
    DisclosurePupil.objects.filter(pk=disclosure_pupil.pk).update(parent_view=text)
    disclosure_pupil.parent_view = text
    audit_record(
        "disclosure.parent_view",
        actor_label=f"guardian #{guardian.pk}",
        request=request,
        obj=disclosure,
        pupil_id=disclosure_pupil.pupil_id,
        school_id=disclosure.school_id,
        ground="ouder met gezag",
        details={"guardian": guardian.pk},
    )
    return disclosure_pupil


# --- Suspected child abuse ----------------------------------------------------------


@transaction.atomic
def disclosure_child_abuse_make(*, pupil, fields, purpose, recipient_detail, method, acting_user, request=None):
    """R-DIS-2: a report of suspected child abuse. Restricted to the director
    and the IB; the pupil goes under a legal hold so nothing is purged while
    the case runs (R-RET-6)."""
    disclosure = _disclose_at_once(
        pupil=pupil,
        kind=K.CHILD_ABUSE,
        capability="disclosures.restricted",
        fields=fields,
        purpose=purpose,
        recipient_detail=recipient_detail,
        method=method,
        acting_user=acting_user,
        restricted=True,
    )
    _audit("disclosure.disclosed", disclosure, acting_user=acting_user, request=request)
    _audit_pupils(disclosure, acting_user=acting_user, request=request)
    legal_hold_set(
        pupil=pupil,
        reason=f"Melding vermoeden kindermishandeling (verstrekking #{disclosure.pk})",
        acting_user=acting_user,
    )
    return disclosure


# --- Reading what was disclosed -----------------------------------------------------


@transaction.atomic
def disclosure_data_read(*, disclosure, output, acting_user, request=None):
    """The values of a disclosed disclosure, exactly its fields, for its
    pupils; audited in the same transaction as the read (R-ACC-7, S-21).
    Returns [(pupil, {key: value})]."""
    if disclosure.status != Disclosure.Status.DISCLOSED:
        raise PermissionDenied
    lacking = catalogue.missing_capabilities(disclosure.fields, acting_user.capabilities(disclosure.school_id))
    if lacking:
        raise PermissionDenied(_("Your role may not see some fields of this disclosure."))
    _audit("disclosure.data_read", disclosure, acting_user=acting_user, request=request, details={"output": output})
    pupils = [dp.pupil for dp in disclosure.pupils.select_related("pupil").order_by("pupil__last_name", "pupil__pk")]
    return catalogue.rows(pupils, disclosure.fields)


# --- The register ---------------------------------------------------------------------


@transaction.atomic
def recipient_save(*, recipient, acting_user, request=None, agreement_upload=None):
    """Add or change a register entry; the whitelist is checked against the
    catalogue and a processor's cap (R-DIS-5). An uploaded agreement is
    stored base64 with its type, like a dossier document."""
    created = recipient.pk is None
    if agreement_upload is not None:
        import base64

        content = agreement_upload.read()
        recipient.agreement_content = base64.b64encode(content).decode()
        recipient.agreement_content_type = getattr(agreement_upload, "detected_type", "application/pdf")
        recipient.agreement_filename = (agreement_upload.name or "overeenkomst.pdf")[:200]
    recipient.fields = catalogue.ordered(recipient.fields)
    recipient.full_clean()
    recipient.save()
    audit_record(
        "recipient.created" if created else "recipient.changed",
        actor=acting_user,
        request=request,
        obj=recipient,
        school_id=recipient.school_id,
        details={
            "kind": recipient.kind,
            "fields": recipient.fields,
            "active": recipient.active,
            "agreement_uploaded": agreement_upload is not None,
        },
    )
    return recipient
