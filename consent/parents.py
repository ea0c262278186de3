"""The parents' portal realm: sign-in by e-mail address and one-time code, the
gate in front of every /parents/ page, and the one way in to a parent's
children (U-4, R-CON-2, R-CON-6).

Parents are not staff users: they never pass django.contrib.auth's login. A
signed-in parent is an e-mail address in the session under keys of this realm
only, with its own idle timeout and absolute cap (S-6 analogue); signing out
removes those keys and leaves anything else in the session alone.

Codes (S-3 analogue): six random digits, stored as an HMAC bound to the
address, valid once, for CODE_MINUTES, dead after CODE_MAX_ATTEMPTS wrong
tries; asking for a new one kills the previous one. Whether an address is
known never shows: the same page, the same throttle and the same audit row
for every address (no account enumeration).

Code requests are counted through their audit rows ("parent.code_requested",
which carry the client address and a keyed digest of the e-mail address, never
the address itself): that counts unknown addresses too, so the throttle
message cannot tell a known address from an unknown one, and it needs neither
the cache nor a table of typed addresses.
"""

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from consent.models import ConsentAnswer, ConsentCategory, ParentLoginCode, QuestionVersion
from consent.services import answer_record, effective_answers, has_one_off_since
from privacy_admin.auditlog import audit_record
from privacy_admin.models import AuditEvent
from privacy_admin.net import client_ip
from privacy_admin.notify import send_login_code, send_notice
from students.models import Guardian, GuardianLink, Pupil

PARENT_PREFIX = "/parents/"
PARENT_PUBLIC_URL_NAMES = {"parent_login", "parent_login_code"}

# Session keys of this realm; the staff realm's keys are "pa_*" and Django's own.
EMAIL_KEY = "parent_email"
AUTH_AT_KEY = "parent_auth_at"
LAST_SEEN_KEY = "parent_last_seen"
PENDING_EMAIL_KEY = "parent_pending_email"
SESSION_KEYS = (EMAIL_KEY, AUTH_AT_KEY, LAST_SEEN_KEY, PENDING_EMAIL_KEY)

CODE_DIGITS = 6
CODE_MINUTES = 10
CODE_MAX_ATTEMPTS = 5
REQUEST_WINDOW_MINUTES = 15
REQUESTS_PER_ADDRESS = 3
REQUESTS_PER_CLIENT = 20
# Wrong codes are limited per code (CODE_MAX_ATTEMPTS); this bounds what one
# client can make us write to the audit log by guessing at addresses that have
# no code at all.
CODE_FAILURES_PER_CLIENT = 50
# As for staff: writing the session on every request would cost a database
# write per page, so the idle clock is kept to within this many seconds.
LAST_SEEN_RESOLUTION = 15

CODE_REQUESTED = "parent.code_requested"
LOGIN_FAILED = "parent.login_failed"
_CODE_SALT = "consent.parents.login_code"
_ADDRESS_SALT = "consent.parents.address"


# --- Session ---------------------------------------------------------------------


def _session_expired(session, now):
    auth_at = session.get(AUTH_AT_KEY)
    last_seen = session.get(LAST_SEEN_KEY, auth_at)
    if not isinstance(auth_at, int | float) or not isinstance(last_seen, int | float):
        return True
    return now - auth_at > settings.SESSION_MAX_HOURS * 3600 or now - last_seen > settings.SESSION_IDLE_MINUTES * 60


def parent_session(request):
    """The e-mail address the parent signed in with, while the sign-in is
    still valid (idle timeout and absolute cap); otherwise None."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    email = session.get(EMAIL_KEY)
    if not email or _session_expired(session, time.time()):
        return None
    return email


def pending_email(request):
    """The address between the two sign-in steps: kept in the session, never
    in the URL."""
    return request.session.get(PENDING_EMAIL_KEY) or None


def _audit_request(request):
    """What the audit log reads of a request in this realm: the client address,
    and no staff user. A staff member signed in in the same browser is not the
    actor of what a parent does here."""
    return SimpleNamespace(META=request.META, user=AnonymousUser())


class ParentGateMiddleware:
    """Every /parents/ page except the sign-in steps needs a signed-in parent;
    a staff session alone opens none of them. Ends a parent sign-in that was
    idle too long or is too old."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(PARENT_PREFIX):
            response = self._gate(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _gate(self, request):
        try:
            name = resolve(request.path_info).url_name
        except Resolver404:
            name = None
        session = request.session
        if session.get(EMAIL_KEY) and parent_session(request) is None:
            parent_sign_out(request, action="parent.session_expired")
            messages.info(request, _("Your session has ended. Please sign in again."))
            return None if name in PARENT_PUBLIC_URL_NAMES else redirect("parent_login")
        if name in PARENT_PUBLIC_URL_NAMES:
            return None
        if parent_session(request) is None:
            return redirect("parent_login")
        now = time.time()
        if now - session.get(LAST_SEEN_KEY, 0) > LAST_SEEN_RESOLUTION:
            session[LAST_SEEN_KEY] = now
        return None


# --- Sign-in -----------------------------------------------------------------------


def normalise_email(raw):
    return (raw or "").strip().lower()


def _address_ref(email):
    """A keyed digest of the address: what the audit log and the throttle
    know of it."""
    return salted_hmac(_ADDRESS_SALT, email, algorithm="sha256").hexdigest()[:32]


def _code_hash(email, code):
    # Keyed, so that six digits cannot be found back from a copy of the table;
    # bound to the address, so a code is worth nothing for another one.
    return salted_hmac(_CODE_SALT, f"{email}\n{code}", algorithm="sha256").hexdigest()


def _guardians_for(email):
    """Guardian rows with this address that are linked to a pupil."""
    if not email:
        return Guardian.objects.none()
    return Guardian.objects.filter(email__iexact=email, pupil_links__isnull=False).distinct().order_by("pk")


class _Throttled(Exception):
    pass


def login_code_request(request, email):
    """Step 1. For an address the school has, a new code (the previous one
    dies) goes out by e-mail; for any address, known or not, the request is
    counted and audited alike. False when over the limit: nothing is sent."""
    email = normalise_email(email)
    guardian = _guardians_for(email).first()
    ref = _address_ref(email)
    ip = client_ip(request)
    try:
        with transaction.atomic():
            # The audit write takes the audit chain's lock until commit, so
            # concurrent requests are counted one after the other.
            audit_record(
                CODE_REQUESTED,
                actor_label="parent",
                request=_audit_request(request),
                details={"address": ref, "guardian": guardian.pk if guardian else None},
            )
            since = timezone.now() - timedelta(minutes=REQUEST_WINDOW_MINUTES)
            recent = AuditEvent.objects.filter(action=CODE_REQUESTED, at__gte=since)
            per_address = recent.filter(details__address=ref).count()
            per_client = recent.filter(ip=ip).count() if ip else 0
            if per_address > REQUESTS_PER_ADDRESS or per_client > REQUESTS_PER_CLIENT:
                raise _Throttled
            if per_address == REQUESTS_PER_ADDRESS or per_client == REQUESTS_PER_CLIENT:
                audit_record(
                    "parent.code_limit_reached",
                    actor_label="parent",
                    request=_audit_request(request),
                    details={"address": ref, "minutes": REQUEST_WINDOW_MINUTES},
                )
            if guardian is not None:
                _code_issue(email)
    except _Throttled:
        return False
    request.session[PENDING_EMAIL_KEY] = email
    return True


def _code_issue(email):
    now = timezone.now()
    ParentLoginCode.objects.filter(email=email, used_at=None, expires_at__gt=now).update(expires_at=now)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    ParentLoginCode.objects.create(
        email=email,
        code_hash=_code_hash(email, code),
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
    )
    language = translation.get_language() or settings.LANGUAGE_CODE
    path = reverse("parent_login_code")
    # The code lives only in this closure and the message: never in a task
    # argument, a log line or the database (S-24).
    transaction.on_commit(lambda: send_login_code(email, code, path, language=language))


def code_attempts_blocked(request):
    """Too many failed codes from this client in the window (S-2 analogue)."""
    ip = client_ip(request)
    if not ip:
        return False
    since = timezone.now() - timedelta(minutes=REQUEST_WINDOW_MINUTES)
    failures = AuditEvent.objects.filter(action=LOGIN_FAILED, at__gte=since, ip=ip)
    return failures.count() >= CODE_FAILURES_PER_CLIENT


def login_code_check(request, email, code):
    """Step 2. The right code of a live code row signs the parent in and
    returns the guardian; anything else counts against the code and returns
    None. Used, expired, killed and exhausted codes all fail alike."""
    email = normalise_email(email)
    now = timezone.now()
    with transaction.atomic():
        live = (
            ParentLoginCode.objects.select_for_update()
            .filter(email=email, used_at=None, expires_at__gt=now, attempts__lt=CODE_MAX_ATTEMPTS)
            .order_by("-created_at", "-pk")
            .first()
        )
        guardian = _guardians_for(email).first()
        if live is None or guardian is None:
            _login_failed(request, email, guardian, "no_live_code")
            return None
        if not constant_time_compare(live.code_hash, _code_hash(email, code)):
            live.attempts += 1
            live.save(update_fields=["attempts"])
            _login_failed(request, email, guardian, "wrong_code", attempts=live.attempts)
            return None
        live.used_at = now
        live.save(update_fields=["used_at"])
        _sign_in(request, email, guardian)
    return guardian


def _login_failed(request, email, guardian, reason, **details):
    audit_record(
        LOGIN_FAILED,
        actor_label="parent",
        request=_audit_request(request),
        details={"reason": reason, "address": _address_ref(email), "guardian": guardian.pk if guardian else None}
        | details,
    )


def _sign_in(request, email, guardian):
    # A new session key at sign-in (S-5): a key planted before cannot ride along.
    request.session.cycle_key()
    now = time.time()
    request.session.pop(PENDING_EMAIL_KEY, None)
    request.session[EMAIL_KEY] = email
    request.session[AUTH_AT_KEY] = now
    request.session[LAST_SEEN_KEY] = now
    audit_record(
        "parent.login",
        actor_label="parent",
        request=_audit_request(request),
        obj=guardian,
        details={"guardian": guardian.pk},
    )


def parent_sign_out(request, *, action="parent.logout"):
    """Remove this realm's keys only: a staff sign-in in the same browser stays."""
    email = request.session.get(EMAIL_KEY)
    guardian = _guardians_for(email).first() if email else None
    for key in SESSION_KEYS:
        request.session.pop(key, None)
    if email:
        audit_record(
            action,
            actor_label="parent",
            request=_audit_request(request),
            details={"guardian": guardian.pk if guardian else None},
        )


# --- A parent's children -----------------------------------------------------------


@dataclass(frozen=True)
class ParentAccess:
    """A signed-in parent's relation to one child: the Guardian row with the
    signed-in address linked to it (siblings may each have their own row),
    and whether that row holds parental authority."""

    pupil: Pupil
    guardian: Guardian
    has_authority: bool


def _links(email):
    if not email:
        return GuardianLink.objects.none()
    # The row with authority first, so that it is the one acting when one
    # address has two rows for the same child.
    return (
        GuardianLink.objects.filter(guardian__email__iexact=email)
        .select_related("pupil__school", "guardian")
        .order_by("pupil__last_name", "pupil__first_name", "pupil_id", "-has_authority", "guardian_id")
    )


def parent_children(email):
    """Every child linked to a Guardian row with this address."""
    result = {}
    for link in _links(email):
        result.setdefault(link.pupil_id, ParentAccess(link.pupil, link.guardian, link.has_authority))
    return list(result.values())


def parent_child_access(email, pupil_id):
    """The one way in to a child for a parent: 404 when the child is not
    linked to this address, the same as a child that does not exist."""
    link = _links(email).filter(pupil_id=pupil_id).first()
    if link is None:
        raise Http404
    return ParentAccess(link.pupil, link.guardian, link.has_authority)


def active_categories(school_ids):
    """Active categories of these schools, each with its versions newest first
    (`current` is then versions[0], without a query per category)."""
    versions = Prefetch("versions", queryset=QuestionVersion.objects.order_by("-number"), to_attr="versions_newest")
    return list(
        ConsentCategory.objects.filter(school_id__in=school_ids, active=True)
        .order_by("school_id", "order", "pk")
        .prefetch_related(versions)
    )


def current_version(category):
    newest = getattr(category, "versions_newest", None)
    if newest is None:
        return category.current_version()
    return newest[0] if newest else None


def own_newest_answers(accesses):
    """{(pupil_id, category_id): newest answer of the parent's own Guardian row}."""
    guardian_by_pupil = {a.pupil.pk: a.guardian.pk for a in accesses}
    rows = ConsentAnswer.objects.filter(
        pupil_id__in=guardian_by_pupil, guardian_id__in=set(guardian_by_pupil.values())
    ).order_by("at", "pk")
    newest = {}
    for answer in rows.only("pk", "pupil_id", "category_id", "guardian_id", "value", "at", "statement_version"):
        if guardian_by_pupil.get(answer.pupil_id) == answer.guardian_id:
            newest[(answer.pupil_id, answer.category_id)] = answer
    return newest


@dataclass
class PreferenceRow:
    category: ConsentCategory
    version: QuestionVersion
    label: str
    question: str
    effective: object  # consent.services.Effective
    own: ConsentAnswer | None
    field: object = None  # the form's bound field, for a parent with authority


@dataclass
class ChildPreferences:
    access: ParentAccess
    rows: list
    form: object = None


def parent_overview(accesses, language):
    """Per child, per active category of its school: the question as it stands,
    the effective answer and the parent's own newest answer. A fixed number of
    queries, however many children and categories."""
    categories = active_categories({a.pupil.school_id for a in accesses})
    effective = effective_answers([a.pupil for a in accesses], categories)
    own = own_newest_answers(accesses)
    result = []
    for access in accesses:
        rows = []
        for category in categories:
            version = current_version(category)
            if category.school_id != access.pupil.school_id or version is None:
                continue
            rows.append(
                PreferenceRow(
                    category=category,
                    version=version,
                    label=category.label(language),
                    question=version.text(language),
                    effective=effective[(access.pupil.pk, category.pk)],
                    own=own.get((access.pupil.pk, category.pk)),
                )
            )
        result.append(ChildPreferences(access, rows))
    return result


# --- Named actions ------------------------------------------------------------------


@transaction.atomic
def parent_preferences_change(request, access, rows, values, *, email):
    """A parent with authority changes preferences for one child (R-CON-2,
    R-CON-6): one answer per changed category, all or none, each audited with
    the exact question version (R-CON-7); then a confirmation e-mail that
    carries only a link (R-DIS-6). Returns the changed rows."""
    if not access.has_authority:
        raise PermissionDenied(_("Only a parent with parental authority can give or withdraw consent."))
    changed = []
    for row in rows:
        value = values.get(row.category.pk)
        if not value:
            continue
        unchanged = row.own is not None and row.own.value == value
        # A "no" repeated after signing a one-off written consent withdraws that
        # consent, so it is recorded (R-CON-2, R-CON-4).
        withdraws_one_off = value == ConsentAnswer.Value.REFUSED and has_one_off_since(
            access.pupil, row.category, access.guardian, row.own.at if row.own is not None else None
        )
        if unchanged and not withdraws_one_off:
            continue
        answer_record(
            pupil=access.pupil,
            category=row.category,
            guardian=access.guardian,
            value=value,
            channel=ConsentAnswer.Channel.PORTAL,
            acting_user=None,
            request=_audit_request(request),
        )
        changed.append(row)
    if changed:
        language = translation.get_language() or settings.LANGUAGE_CODE
        path = reverse("parent_home")
        transaction.on_commit(lambda: send_notice("parent_preferences_changed", email, path, language=language))
    return changed


@transaction.atomic
def parent_invite(access, link, *, acting_user, request=None):
    """Staff invite a parent to the portal from the dossier: a notice with a
    link to the sign-in page, nothing else (R-DIS-6)."""
    audit_record(
        "parent.invited",
        actor=acting_user,
        request=request,
        obj=link,
        pupil_id=access.pupil.pk,
        school_id=access.pupil.school_id,
        ground=access.ground,
        details={"guardian": link.guardian_id},
    )
    email = link.guardian.email
    path = reverse("parent_login")
    transaction.on_commit(lambda: send_notice("parent_portal_invite", email, path))
