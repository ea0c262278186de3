"""The recipients every foundation starts with (R-DIS-2, R-DIS-3, R-DIS-5).

`recipients_seed(foundation)` creates what is missing, matched by `key`, and
changes nothing that exists: a register the school has edited stays as it is.
It is called by the demo seed and, lazily, the first time a register or a
disclosure form is shown. Seeded recipients are foundation-wide (school
empty); a school adds its own beside them. The keys of the mandatory
recipients are fixed: code elsewhere (the NCO export, the leerplicht report)
finds them by key.
"""

from django.db import transaction

from disclosures.fields import TRANSFER_FIELDS
from disclosures.models import LegalBasis, Recipient

K = Recipient.Kind
B = LegalBasis

# key, name, kind, legal basis, purpose, fields, registered pupils only
SEED = [
    # R-DIS-3: only the administrative data relevant to their task.
    (
        "penningmeester-ouderraad",
        "Penningmeester ouderraad",
        K.STANDING,
        B.PUBLIC_TASK,
        "Inning van de ouderbijdrage.",
        ["full_name", "group", "guardian_names", "guardian_emails", "guardian_phones"],
        False,
    ),
    (
        "samenwerkingsverband",
        "Samenwerkingsverband Onderwijs dat past",
        K.STANDING,
        B.LEGAL_OBLIGATION,
        "Planning van de werkzaamheden van medewerkers van het samenwerkingsverband (passend onderwijs).",
        ["full_name", "birth_date", "group", "year_group"],
        False,
    ),
    (
        "schoollogopedist",
        "Schoollogopedist (samenwerkingsverband)",
        K.STANDING,
        B.PUBLIC_TASK,
        "Planning van de werkzaamheden en zo nodig contact met de ouders.",
        ["full_name", "birth_date", "group", "guardian_names", "guardian_phones"],
        False,
    ),
    (
        "cjg",
        "Centrum voor Jeugd & Gezin",
        K.STANDING,
        B.PUBLIC_TASK,
        "Planning van de werkzaamheden.",
        ["full_name", "birth_date", "group", "address", "postcode", "house_number"],
        False,
    ),
    (
        "bibliotheek",
        "Bibliotheek op school",
        K.STANDING,
        B.PUBLIC_TASK,
        "Uitleenadministratie van de Bibliotheek op school.",
        ["full_name", "group"],
        False,
    ),
    (
        "mondzorg-voor-kids",
        "Mondzorg voor Kids",
        K.STANDING,
        B.CONSENT,
        "Ophalen en terugbrengen van kinderen die hun ouders hebben aangemeld voor de jeugdtandverzorging.",
        ["full_name", "birth_date", "group"],
        True,
    ),
    # R-DIS-5: processors get at most name, birth date and year group.
    (
        "parnassys",
        "ParnasSys",
        K.PROCESSOR,
        B.PUBLIC_TASK,
        "Leerlingadministratie en leerlingvolgsysteem.",
        ["full_name", "birth_date", "year_group"],
        False,
    ),
    (
        "cfolio",
        "Cfolio",
        K.PROCESSOR,
        B.PUBLIC_TASK,
        "Registratie van de ontwikkeling van kinderen.",
        ["full_name", "birth_date", "year_group"],
        False,
    ),
    (
        "basispoort",
        "Basispoort",
        K.PROCESSOR,
        B.PUBLIC_TASK,
        "Toegang tot digitale lesmethoden van de schooluitgeverijen.",
        ["full_name", "birth_date", "year_group"],
        False,
    ),
    (
        "onderwijs-transparant",
        "Onderwijs Transparant",
        K.PROCESSOR,
        B.PUBLIC_TASK,
        "Beveiligde overdracht van leerlinggegevens aan het voortgezet onderwijs en betrokken professionals.",
        ["full_name", "birth_date", "year_group"],
        False,
    ),
    (
        "microsoft",
        "Microsoft",
        K.PROCESSOR,
        B.PUBLIC_TASK,
        "Kantoorsoftware; niet gebruikt voor persoonsgegevens van leerlingen.",
        [],
        False,
    ),
    # R-DIS-2: mandatory disclosures, without consent.
    (
        "inspectie",
        "Inspectie van het Onderwijs",
        K.MANDATORY,
        B.LEGAL_OBLIGATION,
        "Inzage in of controle op gegevens door de Inspectie van het Onderwijs.",
        [
            "full_name",
            "birth_date",
            "sex",
            "bsn",
            "group",
            "year_group",
            "school_history",
            "absence_last_year",
            "results",
            "support_given",
        ],
        False,
    ),
    (
        "receiving-school",
        "Ontvangende school",
        K.MANDATORY,
        B.LEGAL_OBLIGATION,
        "Onderwijskundig rapport bij de overstap naar een andere school.",
        list(TRANSFER_FIELDS),
        False,
    ),
    (
        "emergency",
        "Artsen, ziekenhuis en hulpdiensten",
        K.MANDATORY,
        B.VITAL_INTEREST,
        "Noodsituatie: informatie aan artsen, het ziekenhuis of hulpdiensten.",
        ["full_name", "birth_date", "address", "guardian_names", "guardian_phones", "health"],
        False,
    ),
    (
        "leerplicht",
        "Leerplichtambtenaar",
        K.MANDATORY,
        B.LEGAL_OBLIGATION,
        "Melding van (vermoedelijk) ongeoorloofd verzuim.",
        [
            "full_name",
            "birth_date",
            "bsn",
            "address",
            "postcode",
            "house_number",
            "guardian_names",
            "guardian_phones",
            "group",
            "absence_last_year",
        ],
        False,
    ),
    (
        "veilig-thuis",
        "Veilig Thuis",
        K.MANDATORY,
        B.LEGAL_OBLIGATION,
        "Melding bij een vermoeden van kindermishandeling (meldcode).",
        [
            "full_name",
            "birth_date",
            "address",
            "postcode",
            "house_number",
            "guardian_names",
            "guardian_phones",
            "group",
            "social_emotional",
            "support_given",
            "absence_last_year",
        ],
        False,
    ),
    (
        "cbs",
        "CBS (Nationaal Cohortonderzoek Onderwijs)",
        K.MANDATORY,
        B.PUBLIC_TASK,
        "Koppeling van toetsresultaten voor het Nationaal Cohortonderzoek Onderwijs (NCO).",
        ["bsn", "sex", "birth_date", "full_name", "postcode", "house_number", "results"],
        False,
    ),
]

KEYS = [row[0] for row in SEED]


@transaction.atomic
def recipients_seed(foundation):
    """Create the seeded recipients this foundation does not have yet; return
    how many were made."""
    have = set(Recipient.objects.filter(foundation=foundation, school=None).values_list("key", flat=True))
    made = 0
    for key, name, kind, basis, purpose, fields, registered_only in SEED:
        if key in have:
            continue
        Recipient.objects.create(
            foundation=foundation,
            school=None,
            key=key,
            name=name,
            kind=kind,
            legal_basis=basis,
            purpose=purpose,
            fields=list(fields),
            registered_pupils_only=registered_only,
        )
        made += 1
    return made


def seeded_recipient(foundation, key):
    """The foundation's recipient with this key, seeding the register first
    when it is not there yet."""
    recipient = Recipient.objects.filter(foundation=foundation, school=None, key=key).first()
    if recipient is None:
        recipients_seed(foundation)
        recipient = Recipient.objects.get(foundation=foundation, school=None, key=key)
    return recipient


def recipient_or_default(foundation, key):
    """The foundation's recipient with this key, or, before the register is
    seeded, an unsaved one with the seeded values: a form can be shown
    without writing anything on a GET (S-15)."""
    recipient = Recipient.objects.filter(foundation=foundation, school=None, key=key).first()
    if recipient is not None:
        return recipient
    for row_key, name, kind, basis, purpose, fields, registered_only in SEED:
        if row_key == key:
            return Recipient(
                foundation=foundation,
                key=key,
                name=name,
                kind=kind,
                legal_basis=basis,
                purpose=purpose,
                fields=list(fields),
                registered_pupils_only=registered_only,
            )
    raise KeyError(key)


def missing_keys(foundation):
    have = set(Recipient.objects.filter(foundation=foundation, school=None).values_list("key", flat=True))
    return [key for key in KEYS if key not in have]
