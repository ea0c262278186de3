"""Demo parents' requests for `manage.py seed_demo` (R-RGT-1..4), made through
the same actions as the screens, on the demo pupils of 99MS:

- the demo parent (README: ahmed.mulder1@example.org) asked to view the
  dossier six days ago; the director made the appointment, with the teacher
  present, a week from now: sign in to the parents' portal to see it;
- a parent without parental authority asked 25 days ago to correct a phone
  number: open, with days left, on the director's list (R-RGT-4);
- a parent asked 33 days ago to remove an absence record: open and past its
  deadline, so the dashboard and the list show an overdue request.

Idempotent: nothing is made when the school has requests already. Texts are
synthetic and name nobody.
"""

import datetime

from django.utils import timezone

from consent.parents import ParentAccess
from disclosures.rights import services
from disclosures.rights.models import ParentRequest
from students.models import GuardianLink

DEMO_BRIN = "99MS"
DEMO_PARENT = "ahmed.mulder1@example.org"


def _links(school):
    return GuardianLink.objects.filter(pupil__school=school, pupil__group__isnull=False).exclude(guardian__email="")


def _access(link):
    return ParentAccess(link.pupil, link.guardian, link.has_authority) if link is not None else None


def seed(schools, staff, stdout):
    school = schools.get(DEMO_BRIN)
    director, teacher = staff.get("directeur.a"), staff.get("leerkracht.a")
    if school is None or director is None or teacher is None:
        return
    if ParentRequest.objects.filter(pupil__school=school).exists():
        stdout.write("Demo parents' requests: already there.")
        return
    links = _links(school).select_related("pupil", "guardian").order_by("pupil__pupil_ref", "pk")
    demo_parent = (
        links.filter(guardian__email__iexact=DEMO_PARENT, has_authority=True).first()
        or links.filter(has_authority=True, pupil__group__grade=5).first()
    )
    without_authority = links.filter(has_authority=False).first()
    other = links.filter(has_authority=True).exclude(pupil=getattr(demo_parent, "pupil", None)).last()
    now = timezone.now()
    made = 0

    if demo_parent is not None:
        viewing = services.request_file(
            access=_access(demo_parent),
            kind=ParentRequest.Kind.VIEW,
            what="Liefst op een woensdagmiddag.",
            now=now - datetime.timedelta(days=6),
        )
        day = timezone.localdate() + datetime.timedelta(days=7)
        at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(14, 30)))
        services.viewing_schedule(viewing, at=at, place="Kamer van de directeur", staff=teacher, acting_user=director)
        made += 1
    if without_authority is not None:
        services.request_file(
            access=_access(without_authority),
            kind=ParentRequest.Kind.CORRECT,
            part="contact",
            what="Het telefoonnummer bij het adres klopt niet meer.",
            reason="Het nummer is sinds de zomer veranderd; het juiste nummer is 06-00000123.",
            now=now - datetime.timedelta(days=25),
        )
        made += 1
    if other is not None:
        services.request_file(
            access=_access(other),
            kind=ParentRequest.Kind.REMOVE,
            part="attendance",
            what="Afwezigheid op de dag van de schoolreis staat als ongeoorloofd genoteerd.",
            reason="Ons kind was die dag ziek gemeld; de melding hoort er niet zo in te staan.",
            now=now - datetime.timedelta(days=33),
        )
        made += 1
    stdout.write(f"Demo parents' requests: {made} made.")
