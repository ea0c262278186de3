"""Who sees and handles which disclosure and recipient: the one way in
(R-DIS-7, U-2, S-11, S-12).

A disclosure of another school, a restricted one (suspected child abuse)
for anyone but the director and the IB, and one that does not exist are the
same 404. Capabilities come from memberships in force today, so a revoked
role stops on the next request (S-14); the FG's come from the foundation.
"""

from django.db.models import Q
from django.http import Http404

from disclosures.models import Disclosure, Recipient
from privacy_admin.models import School
from privacy_admin.roles import capabilities_for
from students.policy import visible_pupils

# A disclosure shown with its recipient does not need the recipient's stored
# processing agreement (base64, up to 5 MB): lists would read it once per row.
RECIPIENT_DOCUMENT = ("recipient__agreement_content",)


def membership_school_ids(user, capability):
    return {m.school_id for m in user.memberships_today() if capability in capabilities_for(m.role)}


def foundation_ids(user, capability):
    return {fm.foundation_id for fm in user.foundation_roles_today() if capability in capabilities_for(fm.role)}


def schools_with(user, capability):
    """Schools where the user holds `capability`: through a school role, or
    through a foundation role (the FG) for every school of that foundation."""
    if not (user.is_authenticated and user.is_active):
        return School.objects.none()
    return School.objects.filter(
        Q(pk__in=membership_school_ids(user, capability)) | Q(foundation_id__in=foundation_ids(user, capability))
    ).order_by("name")


def _school_ids(user, capability):
    return set(schools_with(user, capability).values_list("pk", flat=True))


def visible_disclosures(user):
    """Every disclosure the user may read: the school's log for those who
    keep it (disclosures.view), restricted ones only for the director and the
    IB (disclosures.restricted), and one's own requests while one still works
    at that school."""
    if not (user.is_authenticated and user.is_active):
        return Disclosure.objects.none()
    view = _school_ids(user, "disclosures.view")
    restricted = membership_school_ids(user, "disclosures.restricted")
    own_schools = {m.school_id for m in user.memberships_today()}
    condition = Q(school_id__in=view, restricted=False)
    condition |= Q(school_id__in=restricted)
    condition |= Q(requested_by=user, school_id__in=own_schools, restricted=False)
    return Disclosure.objects.filter(condition)


def disclosure_access(user, disclosure_id):
    disclosure = (
        visible_disclosures(user)
        .select_related("school", "recipient", "requested_by", "decided_by", "reviewed_by")
        .defer(*RECIPIENT_DOCUMENT)
        .filter(pk=disclosure_id)
        .first()
    )
    if disclosure is None:
        raise Http404
    return disclosure


def can_read_data(user, disclosure):
    """Whether the user may open or download what was disclosed: only once it
    is disclosed, by those who make disclosures at that school, or by the one
    who made an emergency disclosure (break-glass)."""
    if disclosure.status != Disclosure.Status.DISCLOSED:
        return False
    caps = user.capabilities(disclosure.school_id)
    if disclosure.restricted and "disclosures.restricted" not in caps:
        return False
    if "disclosures.make" in caps:
        return True
    return (
        disclosure.kind == Disclosure.Kind.EMERGENCY
        and disclosure.requested_by_id == user.pk
        and "disclosures.emergency" in caps
    )


def decidable_disclosures(user):
    """Disclosures of the schools where the user decides (the director, U-2)."""
    schools = membership_school_ids(user, "requests.decide")
    restricted = membership_school_ids(user, "disclosures.restricted")
    return Disclosure.objects.filter(Q(restricted=False) | Q(school_id__in=restricted), school_id__in=schools)


def decidable_disclosure(user, disclosure_id):
    disclosure = (
        decidable_disclosures(user)
        .select_related("school", "recipient", "requested_by", "decided_by", "reviewed_by")
        .defer(*RECIPIENT_DOCUMENT)
        .filter(pk=disclosure_id)
        .first()
    )
    if disclosure is None:
        raise Http404
    return disclosure


def pupil_disclosures(user, pupil):
    """The disclosures of one pupil for the dossier's tab: restricted ones only
    for the director and the IB of the pupil's school."""
    rows = Disclosure.objects.filter(pupils__pupil=pupil)
    if "disclosures.restricted" not in user.capabilities(pupil.school_id):
        rows = rows.filter(restricted=False)
    return rows


def disclosable_pupils(user, school):
    """The pupils of `school` the user may disclose about: the same filter as
    every list (S-12)."""
    return visible_pupils(user).filter(school=school)


# --- The register of recipients ------------------------------------------------


def recipients_for_school(school):
    """Active recipients that apply to a school: the foundation's and its own."""
    return Recipient.objects.filter(
        Q(school=None) | Q(school=school), foundation_id=school.foundation_id, active=True
    ).order_by("kind", "name")


def _register_scope(schools):
    school_ids = [s.pk for s in schools]
    foundations = {s.foundation_id for s in schools}
    return Q(foundation_id__in=foundations, school=None) | Q(school_id__in=school_ids)


def visible_recipients(user):
    schools = list(schools_with(user, "disclosures.view")) + list(schools_with(user, "disclosures.register"))
    if not schools:
        return Recipient.objects.none()
    return Recipient.objects.filter(_register_scope(schools))


def editable_recipients(user):
    """Recipients the user keeps: their schools' own, and the foundation's
    (the seeded ones, processors), which every register keeper of the
    foundation shares."""
    schools = list(schools_with(user, "disclosures.register"))
    if not schools:
        return Recipient.objects.none()
    return Recipient.objects.filter(_register_scope(schools))


def recipient_access(user, recipient_id, *, edit=False):
    rows = editable_recipients(user) if edit else visible_recipients(user)
    recipient = rows.select_related("school", "foundation", "consent_category").filter(pk=recipient_id).first()
    if recipient is None:
        raise Http404
    return recipient
