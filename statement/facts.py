"""What the privacy statement says, read from the live configuration.

`statement_facts(school)` collects, as plain JSON-ready data, everything the
statement templates show: the consent categories with their current question
texts and the reminder date, the recipients of the register per kind with
their whitelisted fields, the retention rules, the roles and what each may
see, the security settings and the FG's contact. Every label is resolved in
both languages here, so the templates (templates/statement/statement_nl.html
and statement_en.html) only lay the facts out, and the same facts always give
the same statement: that is what makes a digest of the facts a cheap test of
"did the statement change?" (statement/services.py).

No pupil data is read: only the school's configuration, the register of
recipients, the retention rules, the role table and settings.
"""

import datetime
import functools

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import translation

from consent.models import ConsentCategory, ConsentSettings, QuestionVersion
from disclosures.models import LegalBasis, Recipient
from privacy_admin.crypto import EncryptedTextField
from privacy_admin.models import FoundationMembership
from privacy_admin.records import RetentionCategory
from privacy_admin.roles import FoundationRole, SchoolRole, capabilities_for
from retention.models import RetentionRule
from statement.models import StatementText
from students import policy
from students.grants import RECORD_TYPE_LABELS

LANGUAGES = ("nl", "en")

MONTHS = {
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}

# The wording of each record type of the dossier (students/policy.py) in the
# statement. A record type added later without wording here is shown with its
# label from students/grants.py, so it is never left out.
RECORD_TYPE_TEXT = {
    "contact": (
        "adres- en contactgegevens van uw kind en van de ouders/verzorgers, met of zonder ouderlijk gezag",
        "address and contact details of your child and of the parents/guardians, with or without parental authority",
    ),
    "enrolment_event": (
        "gegevens over aanmelding, inschrijving, wisseling van groep en uitschrijving",
        "data on application, enrolment, change of group and unenrolment",
    ),
    "attendance": (
        "gegevens over aan- en afwezigheid (geoorloofd en ongeoorloofd verzuim)",
        "data on attendance and absence (authorised and unauthorised)",
    ),
    "funding": (
        "gegevens die nodig zijn voor de bekostiging van het onderwijs",
        "data needed for the funding of education",
    ),
    "support": (
        "gegevens over de ondersteuningsbehoefte, als uw kind die heeft",
        "data on support needs, if your child has any",
    ),
    "health": (
        "gegevens over de gezondheid van uw kind, alleen als die nodig zijn voor speciale begeleiding of "
        "voorzieningen (bijzondere persoonsgegevens, AVG artikel 9)",
        "data on your child's health, only where needed for special guidance or provisions (special-category "
        "data, GDPR article 9)",
    ),
    "progress": (
        "gegevens over de vorderingen en resultaten, meestal uit het leerlingvolgsysteem",
        "progress and results, usually from the pupil monitoring system",
    ),
    "conversation": ("gespreksverslagen", "reports of conversations"),
    "agreement": ("afspraken die over uw kind zijn gemaakt", "agreements made about your child"),
    "document": (
        "documenten die bij deze gegevens horen, zoals bijlagen bij een gespreksverslag",
        "documents that belong to these data, such as attachments to a conversation report",
    ),
}

# R-DOS-2: the two documents of the paper dossier, by their field in
# students.PaperDossier.
PAPER_DOSSIER_TEXT = {
    "has_application_form": (
        "het door de ouder(s) ingevulde aanmeld- en inschrijfformulier",
        "the application and enrolment form filled in by the parent(s)",
    ),
    "has_pupil_card": (
        "de leerlingkaart met de aanmeldgegevens, ondertekend door ten minste één ouder",
        "the pupil card with the application data, signed by at least one parent",
    ),
}

LEGAL_BASIS_TEXT = {
    LegalBasis.CONSENT: ("toestemming van de ouders", "the parents' consent"),
    LegalBasis.LEGAL_OBLIGATION: ("wettelijke verplichting", "legal obligation"),
    LegalBasis.VITAL_INTEREST: ("vitaal belang", "vital interest"),
    LegalBasis.PUBLIC_TASK: ("taak van algemeen belang", "task in the public interest"),
}

# Field keys of the disclosure register, for when the catalogue
# (disclosures/fields.py) does not know a key: the key is then shown through
# this list, or as itself.
FIELD_TEXT = {
    "name": ("naam", "name"),
    "first_name": ("voornaam", "first name"),
    "last_name": ("achternaam", "last name"),
    "birth_date": ("geboortedatum", "birth date"),
    "sex": ("geslacht", "sex"),
    "bsn": ("burgerservicenummer (BSN)", "citizen service number (BSN)"),
    "group": ("groep", "group"),
    "year_group": ("leerjaar", "year group"),
    "postcode": ("postcode", "postcode"),
    "house_number": ("huisnummer", "house number"),
    "address": ("adres", "address"),
    "results": ("toetsresultaten", "test results"),
    "guardian_name": ("naam van de ouder", "parent's name"),
    "guardian_email": ("e-mailadres van de ouder", "parent's e-mail address"),
    "guardian_phone": ("telefoonnummer van de ouder", "parent's phone number"),
}

# English for the Dutch names and purposes of the seeded register entries.
# Only an exact match is translated: a name or purpose the school changed is
# shown as the school wrote it, marked as Dutch in the English statement.
REGISTER_TEXT_EN = {
    # Names (disclosures/seed.py, disclosures/nco.py)
    "Penningmeester ouderraad": "Treasurer of the parents' council",
    "Samenwerkingsverband Onderwijs dat past": "Samenwerkingsverband Onderwijs dat past (partnership for inclusive "
    "education)",
    "Schoollogopedist (samenwerkingsverband)": "School speech therapist (samenwerkingsverband)",
    "Centrum voor Jeugd & Gezin": "Centrum voor Jeugd & Gezin (youth and family centre)",
    "Bibliotheek op school": "Bibliotheek op school (the library at school)",
    "Mondzorg voor Kids": "Mondzorg voor Kids (youth dental care)",
    "ParnasSys": "ParnasSys",
    "Cfolio": "Cfolio",
    "Basispoort": "Basispoort",
    "Onderwijs Transparant": "Onderwijs Transparant",
    "Microsoft": "Microsoft",
    "Inspectie van het Onderwijs": "Inspectie van het Onderwijs (Inspectorate of Education)",
    "Ontvangende school": "The receiving school",
    "Artsen, ziekenhuis en hulpdiensten": "Doctors, hospital and emergency services",
    "Leerplichtambtenaar": "School attendance officer (leerplichtambtenaar)",
    "Veilig Thuis": "Veilig Thuis (advice and reporting centre for domestic violence and child abuse)",
    "CBS (Nationaal Cohortonderzoek Onderwijs)": "CBS, Statistics Netherlands (National Cohort Study on Education)",
    "Schoolfotograaf Flits": "Schoolfotograaf Flits (school photographer)",
    # Purposes
    "Schoolfoto's: naam en groep op de fotokaart.": "School photos: name and group on the photo card.",
    "Inning van de ouderbijdrage.": "Collecting the parents' contribution.",
    "Planning van de werkzaamheden van medewerkers van het samenwerkingsverband (passend onderwijs).": (
        "Planning the work of the partnership's staff (inclusive education)."
    ),
    "Planning van de werkzaamheden en zo nodig contact met de ouders.": (
        "Planning the work and, where needed, contacting the parents."
    ),
    "Planning van de werkzaamheden.": "Planning the work.",
    "Uitleenadministratie van de Bibliotheek op school.": "Keeping the lending records of the library at school.",
    "Ophalen en terugbrengen van kinderen die hun ouders hebben aangemeld voor de jeugdtandverzorging.": (
        "Collecting and bringing back the children whose parents registered them for youth dental care."
    ),
    "Leerlingadministratie en leerlingvolgsysteem.": "Pupil administration and pupil monitoring system.",
    "Registratie van de ontwikkeling van kinderen.": "Recording children's development.",
    "Toegang tot digitale lesmethoden van de schooluitgeverijen.": (
        "Access to the digital teaching materials of the educational publishers."
    ),
    "Beveiligde overdracht van leerlinggegevens aan het voortgezet onderwijs en betrokken professionals.": (
        "Secure transfer of pupil data to secondary schools and the professionals involved."
    ),
    "Kantoorsoftware; niet gebruikt voor persoonsgegevens van leerlingen.": (
        "Office software; not used for pupils' personal data."
    ),
    "Inzage in of controle op gegevens door de Inspectie van het Onderwijs.": (
        "Inspection or checking of data by the Inspectorate of Education."
    ),
    "Onderwijskundig rapport bij de overstap naar een andere school.": (
        "The educational report (onderwijskundig rapport) when a pupil moves to another school."
    ),
    "Noodsituatie: informatie aan artsen, het ziekenhuis of hulpdiensten.": (
        "Emergency: information to doctors, the hospital or emergency services."
    ),
    "Melding van (vermoedelijk) ongeoorloofd verzuim.": "Reporting (suspected) unauthorised absence.",
    "Melding bij een vermoeden van kindermishandeling (meldcode).": (
        "Reporting a suspicion of child abuse (under the reporting code)."
    ),
    "Koppeling van toetsresultaten voor het Nationaal Cohortonderzoek Onderwijs (NCO).": (
        "Linking test results for the National Cohort Study on Education (NCO)."
    ),
    "Koppeling van toetsresultaten taal en rekenen aan het Nationaal Cohortonderzoek Onderwijs (NCO); ouders kunnen "
    "bezwaar maken.": (
        "Linking the results of the language and arithmetic tests to the National Cohort Study on Education (NCO); "
        "parents can object."
    ),
}

# R-RET-5's example: terms are counted from the day of unenrolment.
EXAMPLE_LEFT_ON = datetime.date(2023, 7, 31)


def both(label):
    """A lazily translated label in both languages."""
    result = {}
    for language in LANGUAGES:
        with translation.override(language):
            result[language] = str(label)
    return result


def pair(nl, en):
    return {"nl": nl, "en": en}


def long_date(day):
    if day is None:
        return None
    return {language: f"{day.day} {MONTHS[language][day.month - 1]} {day.year}" for language in LANGUAGES}


def _register_text(text):
    english = REGISTER_TEXT_EN.get(text)
    return {"nl": text, "en": english or text, "en_is_dutch": english is None and bool(text)}


def _catalogue():
    try:
        from disclosures.fields import CATALOGUE
    except ImportError:
        return {}
    return CATALOGUE


@functools.cache
def field_label(key):
    """A field key's label in both languages; the catalogue and the
    translations are fixed for the life of the process, so once per key."""
    entry = _catalogue().get(key)
    if entry is not None:
        return both(getattr(entry, "label", entry))
    if key in FIELD_TEXT:
        return pair(*FIELD_TEXT[key])
    return pair(key, key)


# --- Sections ------------------------------------------------------------------------


def _question(category):
    newest = category.versions_newest[0] if category.versions_newest else None
    return {
        "key": category.key,
        "label": pair(category.label_nl, category.label_en),
        "question": pair(newest.text_nl, newest.text_en) if newest else None,
    }


def consent_facts(school):
    """R-CON-1..8, R-DIS-4: the school's active categories and their current questions."""
    from consent.tasks import DEFAULT_DAY, DEFAULT_MONTH

    versions = Prefetch("versions", queryset=QuestionVersion.objects.order_by("-number"), to_attr="versions_newest")
    categories = list(
        ConsentCategory.objects.filter(school=school, active=True).order_by("order", "pk").prefetch_related(versions)
    )
    consent = [c for c in categories if c.kind == ConsentCategory.Kind.CONSENT]
    setting = ConsentSettings.objects.filter(school=school).first()
    month = setting.reminder_month if setting else DEFAULT_MONTH
    day = setting.reminder_day if setting else DEFAULT_DAY
    return {
        "parent_app": [_question(c) for c in consent if c.is_parent_app],
        "channels": [_question(c) for c in consent if c.is_publication_channel and not c.is_parent_app],
        "other": [_question(c) for c in consent if not c.is_publication_channel and not c.is_parent_app],
        "objections": [_question(c) for c in categories if c.kind == ConsentCategory.Kind.OBJECTION],
        "reminder": {language: f"{day} {MONTHS[language][month - 1]}" for language in LANGUAGES},
    }


def _agreement(recipient, today):
    if recipient.agreement_signed_on is None:
        state = "missing"
    elif recipient.agreement_expires_on is not None and recipient.agreement_expires_on < today:
        state = "expired"
    else:
        state = "valid"
    return {
        "state": state,
        "signed_on": long_date(recipient.agreement_signed_on),
        "expires_on": long_date(recipient.agreement_expires_on),
    }


def _recipient(recipient, today):
    basis = LEGAL_BASIS_TEXT.get(recipient.legal_basis)
    return {
        "key": recipient.key,
        "name": _register_text(recipient.name),
        "purpose": _register_text(recipient.purpose),
        "basis": pair(*basis) if basis else both(recipient.get_legal_basis_display()),
        "fields": [field_label(key) for key in recipient.fields],
        "registered_only": recipient.registered_pupils_only,
        "consent_category": (
            pair(recipient.consent_category.label_nl, recipient.consent_category.label_en)
            if recipient.consent_category_id
            else None
        ),
        "agreement": _agreement(recipient, today) if recipient.kind == Recipient.Kind.PROCESSOR else None,
    }


def _nco_recipient_key():
    try:
        from disclosures.nco import RECIPIENT_KEY
    except ImportError:
        return "cbs"
    return RECIPIENT_KEY


def disclosure_facts(school, objection_keys, today):
    """R-DIS-1..5: the register's active entries for this school (its own and
    the foundation's), per kind. The research recipients (linked to an
    objection category, or CBS for the NCO) are told in the NCO section."""
    recipients = (
        Recipient.objects.filter(foundation_id=school.foundation_id, active=True)
        .filter(Q(school__isnull=True) | Q(school=school))
        .select_related("consent_category")
        .order_by("name", "pk")
    )
    nco_key = _nco_recipient_key()
    result = {"research": [], "mandatory": [], "consent": [], "standing": [], "processors": []}
    kinds = {
        Recipient.Kind.MANDATORY: "mandatory",
        Recipient.Kind.CONSENT: "consent",
        Recipient.Kind.STANDING: "standing",
        Recipient.Kind.PROCESSOR: "processors",
    }
    for recipient in recipients:
        item = _recipient(recipient, today)
        research = recipient.key == nco_key or (
            recipient.consent_category_id is not None and recipient.consent_category.key in objection_keys
        )
        if research:
            result["research"].append(item)
        elif recipient.kind in kinds:
            result[kinds[recipient.kind]].append(item)
    return result


def _roles_with(capability):
    return [both(role.label) for role in SchoolRole if capability in capabilities_for(role)]


@functools.cache
def dossier_facts():
    """R-DOS-1..6 and R-ACC-1..3: the two parts of the dossier from the record
    types of the access policy, and who may see what from the role table."""

    def describe(record_type):
        if record_type in RECORD_TYPE_TEXT:
            return pair(*RECORD_TYPE_TEXT[record_type])
        return both(RECORD_TYPE_LABELS.get(record_type, record_type))

    from students.models import PaperDossier

    paper = [
        pair(*PAPER_DOSSIER_TEXT[f.name]) if f.name in PAPER_DOSSIER_TEXT else both(f.verbose_name)
        for f in PaperDossier._meta.get_fields()
        if f.get_internal_type() == "BooleanField"
    ]
    return {
        "paper": paper,
        "admin": [describe(t) for t in policy.ADMIN_TYPES],
        "substantive": [describe(t) for t in policy.SUBSTANTIVE_TYPES],
        "full_access": _roles_with("dossier.all_pupils"),
        "assigned": _roles_with("dossier.assigned_tasks"),
        "assigned_never_health": "health" not in policy.ASSIGNABLE_TYPES,
        "involved": _roles_with("dossier.involved_pupils"),
        "bsn": _roles_with("pupil.bsn"),
        "health": _roles_with("pupil.health"),
        "requests": _roles_with("requests.decide"),
        "foundation_dossier_access": [
            both(role.label)
            for role in FoundationRole
            if capabilities_for(role) & {"dossier.all_pupils", "dossier.assigned_tasks", "dossier.involved_pupils"}
        ],
    }


def _term(rule):
    if rule is None:
        return None
    due = None
    if not rule.permanent:
        from retention.engine import due_date

        due = long_date(due_date(EXAMPLE_LEFT_ON, rule))
    return {"permanent": rule.permanent, "years": rule.years, "months": rule.months, "example_due": due}


@functools.cache
def _label(choice):
    return both(choice.label)


def retention_facts():
    """R-RET-1..6: the term of every category, and the special-education term."""
    rules = {(r.category, r.condition): r for r in RetentionRule.objects.all()}
    special = RetentionRule.Condition.SPECIAL
    rows = []
    for category in RetentionCategory:
        base = rules.get((category.value, ""))
        other = rules.get((category.value, special))
        rows.append({"key": category.value, "label": _label(category), "term": _term(base), "special": _term(other)})
    return {"rows": rows, "example_left_on": long_date(EXAMPLE_LEFT_ON)}


def rights_facts():
    """R-RGT-1..4: the legal terms the parents' requests run on, and whether
    parents can ask in the portal."""
    from django.urls import NoReverseMatch, reverse

    try:
        from disclosures.rights.deadlines import MAX_EXTENSION_MONTHS, TERM_MONTHS
    except ImportError:  # AVG art. 12(3)
        TERM_MONTHS, MAX_EXTENSION_MONTHS = 1, 2  # noqa: N806
    try:
        requests_path = reverse("parent_requests")
    except NoReverseMatch:
        requests_path = None
    return {"answer_months": TERM_MONTHS, "extension_months": MAX_EXTENSION_MONTHS, "requests_path": requests_path}


def security_facts():
    """R-ACC-4..7, S-25: what the settings and the models enforce."""
    from consent.parents import CODE_MINUTES

    return {
        "idle_minutes": settings.SESSION_IDLE_MINUTES,
        "max_hours": settings.SESSION_MAX_HOURS,
        "parent_code_minutes": CODE_MINUTES,
        "encrypted": _encrypted(),
    }


@functools.cache
def _encrypted():
    """What the models seal at rest: fixed for the life of the process."""
    from students.models import Document, Pupil
    from students.views import RECORD_TYPES

    def sealed(model):
        return any(isinstance(f, EncryptedTextField) for f in model._meta.concrete_fields)

    models = {key: model for key, (model, _form, _title) in RECORD_TYPES.items()} | {"document": Document}
    encrypted = []
    if isinstance(Pupil._meta.get_field("bsn"), EncryptedTextField):
        encrypted.append(pair("het burgerservicenummer (BSN)", "the citizen service number (BSN)"))
    if "health" in models and sealed(models["health"]):
        encrypted.append(pair("gezondheidsgegevens", "health data"))
    if any(sealed(models[t]) for t in ("support", "conversation", "agreement") if t in models):
        encrypted.append(
            pair(
                "de teksten van het inhoudelijk gedeelte (ondersteuningsbehoefte, gespreksverslagen, afspraken)",
                "the texts of the substantive part (support needs, conversation reports, agreements)",
            )
        )
    if sealed(Document):
        encrypted.append(pair("toegevoegde documenten", "uploaded documents"))
    return encrypted


def breach_facts(school):
    """R-BRK-1..3: where a data breach goes, and the FG's contact address."""
    from breaches.models import AP_DEADLINE

    foundation = school.foundation
    roles = set(FoundationMembership.objects.filter(foundation=foundation).values_list("role", flat=True))
    return {
        "foundation": foundation.name,
        "fg_email": foundation.fg_email,
        "deputy": FoundationRole.FG_DEPUTY in roles,
        "ap_hours": int(AP_DEADLINE.total_seconds() // 3600),
    }


def statement_facts(school, today=None):
    """Everything the statement of `school` says, as JSON-ready data."""
    from django.utils import timezone

    today = today or timezone.localdate()
    text = StatementText.objects.filter(school=school).first()
    consent = consent_facts(school)
    objection_keys = {c["key"] for c in consent["objections"]}
    return {
        "school": {"name": school.name, "brin": school.brin, "foundation": school.foundation.name},
        "texts": {
            "intro": pair(text.intro_nl, text.intro_en) if text else pair("", ""),
            "closing": pair(text.closing_nl, text.closing_en) if text else pair("", ""),
        },
        "consent": consent,
        "disclosures": disclosure_facts(school, objection_keys, today),
        "dossier": dossier_facts(),
        "retention": retention_facts(),
        "rights": rights_facts(),
        "security": security_facts(),
        "breach": breach_facts(school),
    }


def localise(facts, language):
    """The facts with every {"nl": ..., "en": ...} pair replaced by the text
    of `language`, so a template reads `item.label` in either language."""
    if isinstance(facts, dict):
        if "en_is_dutch" in facts:
            return {"text": facts[language], "is_dutch": language == "en" and facts["en_is_dutch"]}
        if set(facts) == {"nl", "en"} and all(isinstance(facts[k], str) for k in ("nl", "en")):
            return facts[language]
        return {key: localise(value, language) for key, value in facts.items()}
    if isinstance(facts, list):
        return [localise(item, language) for item in facts]
    return facts
