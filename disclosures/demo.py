"""Demo register and disclosures for `manage.py seed_demo` (issue 5: "works in
the browser on the demo data").

The foundation gets the standard register (R-DIS-2, R-DIS-3, R-DIS-5); the
processors get agreements in every state the dashboard warns about (valid,
expired, missing). For 99MS a consent question for the school photographer
and a recipient that depends on it show R-DIS-1 at work. Then, through the
same actions as the screens, one disclosure of each common kind: a standing
export, a consent-based one (some pupils blocked), a processor export, a
transfer report, an emergency waiting for the director's review, an approved
Inspectie request and one pending (U-2).

Idempotent: the register is seeded by key and agreements are only filled
when empty; the disclosures are made only when 99MS has none yet.
"""

import base64
import datetime

from django.utils import timezone

from consent import services as consent_services
from consent.models import ConsentAnswer, ConsentCategory, QuestionVersion
from disclosures import actions, demo_reports
from disclosures.models import Disclosure, Recipient
from disclosures.seed import recipients_seed
from students.models import GuardianLink, Pupil

DEMO_BRIN = "99MS"
# A tiny synthetic PDF standing in for a signed agreement.
DEMO_AGREEMENT = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
# key: (signed days ago, expires in days; negative is in the past) or None: missing
AGREEMENTS = {
    "parnassys": (900, 600),
    "cfolio": (700, 400),
    "basispoort": (400, 30),
    "onderwijs-transparant": (1200, -20),
    "microsoft": None,
}
PHOTOGRAPHER_KEY = "schoolfotograaf"


def _agreements(foundation):
    today = timezone.localdate()
    for key, dates in AGREEMENTS.items():
        recipient = Recipient.objects.filter(foundation=foundation, school=None, key=key).first()
        if recipient is None or dates is None or recipient.agreement_content:
            continue
        signed_ago, expires_in = dates
        recipient.agreement_signed_on = today - datetime.timedelta(days=signed_ago)
        recipient.agreement_expires_on = today + datetime.timedelta(days=expires_in)
        recipient.agreement_filename = f"verwerkersovereenkomst-{key}.pdf"
        recipient.agreement_content_type = "application/pdf"
        recipient.agreement_content = base64.b64encode(DEMO_AGREEMENT).decode()
        recipient.save(
            update_fields=[
                "agreement_signed_on",
                "agreement_expires_on",
                "agreement_filename",
                "agreement_content_type",
                "agreement_content",
            ]
        )


def _photographer(school, entered_by):
    """R-DIS-1: a consent question for the school photographer, answered by
    some parents of group 5, and the recipient that depends on it."""
    category, created = ConsentCategory.objects.get_or_create(
        school=school,
        key=PHOTOGRAPHER_KEY,
        defaults={
            "label_nl": "Schoolfotograaf",
            "label_en": "School photographer",
            "kind": ConsentCategory.Kind.CONSENT,
            "is_publication_channel": False,
            "order": 50,
        },
    )
    if created or not category.versions.exists():
        QuestionVersion.objects.create(
            category=category,
            number=1,
            text_nl="Mag de school de naam en groep van uw kind doorgeven aan de schoolfotograaf, voor de "
            "schoolfoto's?",
            text_en="May the school pass your child's name and group to the school photographer, for the school "
            "photos?",
        )
    recipient, _ = Recipient.objects.get_or_create(
        foundation=school.foundation,
        school=school,
        key=PHOTOGRAPHER_KEY,
        defaults={
            "name": "Schoolfotograaf Flits",
            "kind": Recipient.Kind.CONSENT,
            "legal_basis": "consent",
            "purpose": "Schoolfoto's: naam en groep op de fotokaart.",
            "fields": ["full_name", "group"],
            "consent_category": category,
        },
    )
    if entered_by is not None and not ConsentAnswer.objects.filter(category=category).exists():
        links = (
            GuardianLink.objects.filter(pupil__school=school, pupil__group__grade=5, has_authority=True)
            .select_related("pupil", "guardian")
            .order_by("pupil__pupil_ref", "pk")
        )
        seen = []
        for link in links:
            if link.pupil_id in seen:
                continue
            seen.append(link.pupil_id)
            # Every other family answered; of those, one refused.
            if len(seen) % 2 == 0:
                continue
            value = ConsentAnswer.Value.REFUSED if len(seen) == 3 else ConsentAnswer.Value.GIVEN
            consent_services.answer_record(
                pupil=link.pupil,
                category=category,
                guardian=link.guardian,
                value=value,
                channel=ConsentAnswer.Channel.PAPER,
                acting_user=entered_by,
            )
    return recipient


def _group_pupils(school, grade):
    return list(Pupil.objects.filter(school=school, group__grade=grade).order_by("pupil_ref", "pk"))


def _disclosures(school, staff, photographer):
    admin, ib = staff.get("admin.a"), staff.get("ib.a")
    director, teacher = staff.get("directeur.a"), staff.get("leerkracht.a")
    if not all((admin, ib, director, teacher)) or Disclosure.objects.filter(school=school).exists():
        return 0
    foundation = school.foundation
    group5, group6, group8 = _group_pupils(school, 5), _group_pupils(school, 6), _group_pupils(school, 8)
    if not (group5 and group6 and group8):
        return 0
    library = Recipient.objects.get(foundation=foundation, school=None, key="bibliotheek")
    basispoort = Recipient.objects.get(foundation=foundation, school=None, key="basispoort")
    made = 0
    for recipient, kind in (
        (library, Disclosure.Kind.STANDING_EXPORT),
        (photographer, Disclosure.Kind.CONSENT),
        (basispoort, Disclosure.Kind.PROCESSOR),
    ):
        actions.disclosure_export_make(
            school=school,
            recipient=recipient,
            kind=kind,
            pupils=group5,
            method=Disclosure.Method.CSV,
            acting_user=admin,
        )
        made += 1
    actions.disclosure_transfer_make(
        pupil=group8[-1],
        recipient_detail="Basisschool De Regenboog, Amersfoort",
        method=Disclosure.Method.SECURE_LINK,
        acting_user=ib,
    )
    actions.disclosure_emergency_make(
        pupil=group6[0],
        fields=["full_name", "birth_date", "guardian_names", "guardian_phones", "health"],
        purpose="Val van het klimrek tijdens de pauze; ambulance gebeld.",
        recipient_detail="Ambulancedienst Regio Utrecht",
        method=Disclosure.Method.PHONE,
        acting_user=teacher,
    )
    approved = actions.disclosure_request_make(
        school=school,
        pupils=group6,
        fields=["full_name", "birth_date", "group", "absence_last_year"],
        purpose="Controle van de verzuimregistratie in groep 6.",
        recipient_detail="Inspecteur J. de Vries, kenmerk INS-2026-014",
        method=Disclosure.Method.INSPECTION,
        acting_user=ib,
    )
    actions.disclosure_approve(
        disclosure=approved,
        reason="Wettelijke taak van de Inspectie; alleen de gevraagde velden.",
        acting_user=director,
    )
    actions.disclosure_request_make(
        school=school,
        pupils=group5,
        fields=["full_name", "group", "results", "support_given"],
        purpose="Themaonderzoek naar de ondersteuning in de middenbouw.",
        recipient_detail="Inspecteur A. Bakker, kenmerk INS-2026-031",
        method=Disclosure.Method.INSPECTION,
        acting_user=ib,
    )
    return made + 4


def seed(schools, staff, stdout):
    foundations = {school.foundation_id: school.foundation for school in schools.values()}
    created = 0
    for foundation in foundations.values():
        created += recipients_seed(foundation)
        _agreements(foundation)
    made = 0
    school = schools.get(DEMO_BRIN)
    if school is not None:
        photographer = _photographer(school, staff.get("admin.a"))
        made = _disclosures(school, staff, photographer)
    stdout.write(f"Demo disclosures: {created} register entries added, {made} disclosures made.")
    # Test results for the NCO export and absence for the leerplicht list.
    demo_reports.seed(schools, staff, stdout)
