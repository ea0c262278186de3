"""Benchmark of the staff portal's pages on PostgreSQL (issue 10, item 1).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/privacy_admin \\
        .venv/bin/python bench/portal.py [--schools 20] [--pupils-per-school 400] [--small 40]

Only the server of DATABASE_URL is used: the bench creates its own scratch
database (privacy_admin_bench_portal, `--db`), migrates it with
`migrate`, builds a foundation in it and drops it when done (`--keep` keeps
it). A superuser is needed (CREATE DATABASE; the audit chain head is moved
past the bulk-loaded rows with session_replication_role).

1. Build, in bulk SQL (generate_series) and bulk_create, one foundation of
   `--schools` schools of `--pupils-per-school` current pupils each, plus
   one school of `--small` current pupils: the two school sizes the pages
   are compared at, side by side in one database, so both see the same table
   sizes. Every school has 8 groups (current pupils spread evenly: 50 per
   group at 400, 5 at 40), 25% more pupils who left over the last 8 years
   (no group; what the retention preview counts), staff (director,
   application admin, IB, administration, teacher) with a second factor,
   the 7 usual consent categories (consent.services.categories_seed) and the
   foundation's register of recipients (disclosures.seed), each processor
   with its signed agreement (a 300 kB PDF, as uploaded). Per pupil: 1-2
   guardians with e-mail addresses, 1-2 addresses, the enrolment with its
   events (application, enrolment, a group change a year, unenrolment), the
   paper dossier, 20-60 absences, 1-4 funding rows, 4-12
   results, support needs (25%), health notes (5%), agreements (10%), 0-3
   conversation reports (30% with an attachment), consent answers of every
   parent with authority for every category (85% answered, 20% changed
   later), and 18-52 audit rows (on average 35; a valid HMAC chain, written
   with COPY). Per school, in proportion to its size: disclosures of every
   kind with their pupils (size/4, at least 14; Inspectie requests pending,
   approved and refused; emergencies reviewed and awaiting review),
   parents' requests in every state with corrections (size/20, at least 6),
   data breaches in every state (size/50, at least 3, plus 5 for the whole
   foundation), a draft publication showing group 5, three published ones,
   and legal holds on 0.5% of leavers (at least one per school). All names and texts are synthetic;
   encrypted columns hold real ciphertexts.
2. The probe pupil of each measured school (the fifth pupil, in group 5) has
   every kind of record, two parents with authority, a disclosure of every
   kind, a parents' request of every kind with a correction and 250 audit
   rows, so the dossier's tabs run the same code at both sizes.
3. Measure in-process with Django's test client, after VACUUM ANALYZE: each
   page `--warmup` times untimed, then its query count (Django's
   CaptureQueriesContext; the lowest of three requests: the staff gate
   writes the session's idle clock at most once per 15 s, one UPDATE more
   on whichever request it falls), then `--repeat` timed requests, taken
   round-robin over all pages so drift hits every page alike. DEBUG's query
   log is off while timing, as in production. Every response must be a 200.

The floor: the staff member's own security page (/accounts/security/,
`account_security`), the lightest page that renders the portal layout
behind the same middleware (session, login, second factor, idle lock) and
needs no capability. Each page's ratio is its median over the median of the
floor of the same staff member. /healthz is timed too, for reference only:
it passes the same gate but renders no template.

Pages (each as the role that uses it): the group overview (teacher, group
5), the dossier's six tabs (director, probe pupil), the consent matrix of
group 5 (teacher), the publication check of group 5 (teacher: the draft
publication showing the group's pupils, narrowed to the group with
?group=), the director's inboxes (disclosures to decide, parents'
requests), the retention preview (application admin) and the breach
register (director).

Printed: per page and school size the median and p95 in ms, the ratio to
the floor and the query count (statements that read or write; BEGIN,
SAVEPOINT, RELEASE and COMMIT are shown apart), beside the targets with
PASS/FAIL: every page
<= 4 x the floor; the same query count at both sizes; no page above 20
queries. Exit status 1 when a target fails. `--json FILE` writes the figures.
"""

import argparse
import dataclasses
import datetime
import json
import os
import pathlib
import random
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_DB = "privacy_admin_bench_portal"
TARGET_FLOOR_RATIO = 4.0
TARGET_MAX_QUERIES = 20
LEAVERS = 0.25
PROBE_INDEX = 4  # the fifth current pupil of a school: group 5 (index % 8 + 1)
PROBE_AUDIT_ROWS = 250
STAFF_ROLES = ("director", "app_admin", "ib", "administration", "teacher")


# --- the builder ------------------------------------------------------------------
#
# Runs on the current Django connection (the smoke test calls it inside its
# test transaction). Reference rows go through the ORM; the per-pupil rows
# through INSERT ... SELECT over generate_series; the rows per school
# (disclosures, requests, breaches, publications) through bulk_create; the
# audit log through COPY.


@dataclasses.dataclass
class BuiltSchool:
    school_id: int
    brin: str
    size: int  # current pupils
    group_id: int  # group 5 of this school year
    probe_pupil_id: int
    publication_id: int  # the draft showing group 5
    staff: dict  # role -> user id


@dataclasses.dataclass
class Built:
    foundation_id: int
    schools: list
    rows: dict
    seconds: float

    def school_of_size(self, size):
        return next(s for s in self.schools if s.size == size)


def _brin(i):
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    pair = i // 100
    return f"{i % 100:02d}{letters[(pair // 26) % 26]}{letters[pair % 26]}"


def _ciphertexts():
    """One valid ciphertext per encrypted column the SQL fills."""
    from django.apps import apps

    from privacy_admin.crypto import encrypt

    def sealed(label, field, size):
        model = apps.get_model(label)
        context = model._meta.get_field(field).crypto_context
        return encrypt(("synthetic bench text " * (size // 21 + 1))[:size], context)

    return {
        "support": sealed("students.SupportNeed", "description", 300),
        "health_note": sealed("students.HealthNote", "note", 200),
        "health_for": sealed("students.HealthNote", "needed_for", 80),
        "participants": sealed("students.ConversationReport", "participants", 60),
        "report": sealed("students.ConversationReport", "report", 1200),
        "doc_name": sealed("students.Document", "filename", 30),
        "doc_content": sealed("students.Document", "content", 4000),
        "agreement": sealed("students.Agreement", "text", 300),
    }


def _reference_rows(sizes, tag):
    """Foundation, schools, groups, consent categories, the register of
    recipients and five staff per school. Returns (foundation, [(school,
    size)], {school id: {role: user}})."""
    from consent.services import categories_seed
    from disclosures.seed import recipients_seed
    from privacy_admin.models import Foundation, Group, Membership, School, StaffTOTPDevice, User
    from privacy_admin.models.org import current_school_year
    from privacy_admin.roles import SchoolRole

    foundation = Foundation.objects.create(name=f"Bench foundation {tag}", fg_email="fg@example.org")
    taken = set(School.objects.values_list("brin", flat=True))
    brins = [b for b in (_brin(i) for i in range(len(sizes) + len(taken) + 1)) if b not in taken][: len(sizes)]
    School.objects.bulk_create(School(foundation=foundation, brin=brin, name=f"Bench school {brin}") for brin in brins)
    by_brin = {s.brin: s for s in School.objects.filter(foundation=foundation)}
    schools = [(by_brin[brin], size) for brin, size in zip(brins, sizes, strict=True)]
    year = current_school_year()
    Group.objects.bulk_create(
        Group(school=school, school_year=year, grade=grade, name=f"Groep {grade}")
        for school, _size in schools
        for grade in range(1, 9)
    )
    for school, _size in schools:
        categories_seed(school)
    recipients_seed(foundation)
    _agreements(foundation)

    roles = {
        "director": SchoolRole.DIRECTOR,
        "app_admin": SchoolRole.APP_ADMIN,
        "ib": SchoolRole.IB,
        "administration": SchoolRole.ADMINISTRATION,
        "teacher": SchoolRole.TEACHER,
    }
    users = []
    for school, _size in schools:
        for role in STAFF_ROLES:
            user = User(
                username=f"{school.brin.lower()}.{role}",
                first_name=role.replace("_", " ").title(),
                last_name=f"Bench {school.brin}",
                email=f"{school.brin.lower()}.{role}@example.org",
            )
            user.set_unusable_password()
            users.append(user)
    User.objects.bulk_create(users)
    staff = {}
    by_name = {u.username: u for u in User.objects.filter(username__in=[u.username for u in users])}
    memberships, devices = [], []
    for school, _size in schools:
        staff[school.pk] = {}
        for role in STAFF_ROLES:
            user = by_name[f"{school.brin.lower()}.{role}"]
            staff[school.pk][role] = user
            memberships.append(Membership(user=user, school=school, role=roles[role]))
            devices.append(StaffTOTPDevice(user=user, name="bench", confirmed=True, secret_hex=os.urandom(20).hex()))
    Membership.objects.bulk_create(memberships)
    StaffTOTPDevice.objects.bulk_create(devices)
    return foundation, schools, staff


AGREEMENT_BYTES = 300_000  # a scanned, signed processing agreement (PDF)


def _agreements(foundation):
    """Every processor of the register gets its signed processing agreement
    (R-DIS-5), stored as the portal stores an upload: base64 in the row."""
    import base64

    from django.utils import timezone

    from disclosures.models import Recipient

    today = timezone.localdate()
    document = base64.b64encode(b"%PDF-1.4\n" + os.urandom(AGREEMENT_BYTES)).decode()
    Recipient.objects.filter(foundation=foundation, kind=Recipient.Kind.PROCESSOR).update(
        agreement_signed_on=today - datetime.timedelta(days=400),
        agreement_expires_on=today + datetime.timedelta(days=700),
        agreement_filename="verwerkersovereenkomst.pdf",
        agreement_content_type="application/pdf",
        agreement_content=document,
    )


PLAN_SQL = """
DROP TABLE IF EXISTS bp_group, bp_cat, bp_pupil;
CREATE TEMP TABLE bp_group AS
    SELECT g.school_id, g.grade, g.id AS group_id FROM privacy_admin_group g
    JOIN bp_school s ON s.school_id = g.school_id WHERE g.school_year = %(year)s;
CREATE TEMP TABLE bp_cat AS
    SELECT c.school_id, c.id AS category_id, max(v.id) AS version_id
    FROM consent_consentcategory c JOIN consent_questionversion v ON v.category_id = c.id
    JOIN bp_school s ON s.school_id = c.school_id
    GROUP BY c.school_id, c.id;
CREATE TEMP TABLE bp_pupil AS
WITH base AS (
    SELECT s.school_id, k AS idx, k >= s.n_current AS leaver
    FROM bp_school s CROSS JOIN LATERAL generate_series(0, s.n_current + s.n_leavers - 1) k
), r AS (
    SELECT base.*, (NOT leaver AND idx = %(probe)s) AS probe,
           row_number() OVER (ORDER BY school_id, idx) AS g,
           random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
           20 + floor(random() * 41)::int AS n_attendance,
           1 + floor(random() * 4)::int AS n_funding,
           4 + floor(random() * 9)::int AS n_results,
           floor(random() * 4)::int AS n_conversations,
           1 + (random() < 0.3)::int AS n_addresses,
           CASE WHEN random() < 0.25 THEN 1 + floor(random() * 2)::int ELSE 0 END AS n_support,
           random() < 0.05 AS health, random() < 0.10 AS agreement, random() < 0.6 AS two_guardians
    FROM base
)
SELECT (SELECT coalesce(max(id), 0) FROM students_pupil) + g AS pupil_id,
       (SELECT coalesce(max(id), 0) FROM students_guardian) + 2 * g - 1 AS guardian_id,
       (SELECT coalesce(max(id), 0) FROM students_guardian) + 2 * g AS guardian2_id,
       r.school_id, r.idx, r.leaver, r.probe, gr.group_id,
       CASE WHEN r.leaver THEN NULL ELSE r.idx %% 8 + 1 END AS grade,
       CASE WHEN r.leaver THEN %(as_of)s::date - (1 + floor(r1 * 8 * 365))::int END AS left_on,
       CASE WHEN NOT r.leaver THEN '' WHEN r2 < 0.04 THEN 'special' ELSE 'secondary' END AS destination,
       (ARRAY['Emma','Noah','Julia','Liam','Mila','Lucas','Sophie','Finn','Tess','Sem','Nora','Daan',
              'Zoe','Levi','Sara','Milan'])[1 + floor(r3 * 16)::int] AS first_name,
       (ARRAY['Jansen','Bakker','Visser','Smit','Meijer','Mulder','Bos','Vos','Peters','Hendriks',
              'Dekker','Brouwer','Dijkstra','Willems','Kok','Jacobs','Koster','Prins','Kuipers','Vermeulen'])
           [1 + floor(r4 * 20)::int] AS last_name,
       r.n_attendance, r.n_funding, r.n_results, r.n_addresses,
       greatest(r.n_conversations, CASE WHEN r.probe THEN 2 ELSE 0 END) AS n_conversations,
       greatest(r.n_support, r.probe::int) AS n_support,
       r.health OR r.probe AS health, r.agreement OR r.probe AS agreement,
       r.two_guardians OR r.probe AS two_guardians, r5
FROM r LEFT JOIN bp_group gr ON NOT r.leaver AND gr.school_id = r.school_id AND gr.grade = r.idx %% 8 + 1;
ALTER TABLE bp_pupil ADD COLUMN enrolled_on date, ADD COLUMN last_day date;
UPDATE bp_pupil SET
    enrolled_on = CASE WHEN leaver THEN left_on - (365 * (4 + floor(r5 * 5)::int))
                       ELSE %(as_of)s::date - (365 * (grade - 1) + 30 + floor(r5 * 60)::int) END,
    last_day = coalesce(left_on, %(as_of)s::date);
ANALYZE bp_pupil;
"""

BUILD_SQL = [
    (
        "pupils",
        """
        INSERT INTO students_pupil (id, school_id, group_id, pupil_ref, first_name, name_prefix, last_name,
            birth_date, sex, bsn, bsn_hash, year_group, mondzorg_registered, created_at)
        SELECT pupil_id, school_id, group_id, 'L' || pupil_id, first_name, '', last_name,
               enrolled_on - 4 * 365 - floor(r5 * 300)::int, CASE WHEN r5 < 0.5 THEN 'M' ELSE 'V' END,
               '', '', grade, r5 < 0.3, now()
        FROM bp_pupil;
        SELECT setval(pg_get_serial_sequence('students_pupil', 'id'), (SELECT max(id) FROM students_pupil));
        """,
    ),
    (
        "guardians",
        """
        INSERT INTO students_guardian (id, first_name, last_name, email, phone, street, house_number, postcode,
            city, bsn, bsn_hash)
        SELECT guardian_id, 'Ouder', last_name, 'ouder' || pupil_id || '@example.org', '0612345678',
               'Benchstraat', (1 + pupil_id %% 200)::text, '1234AB', 'Schiedam', '', ''
        FROM bp_pupil
        UNION ALL
        SELECT guardian2_id, 'Ouder', last_name, 'ouder' || pupil_id || 'b@example.org', '0687654321',
               'Benchstraat', (1 + pupil_id %% 200)::text, '1234AB', 'Schiedam', '', ''
        FROM bp_pupil WHERE two_guardians;
        SELECT setval(pg_get_serial_sequence('students_guardian', 'id'), (SELECT max(id) FROM students_guardian));
        INSERT INTO students_guardianlink (pupil_id, guardian_id, has_authority, relation)
        SELECT pupil_id, guardian_id, true, 'moeder' FROM bp_pupil
        UNION ALL
        SELECT pupil_id, guardian2_id, probe OR random() < 0.9, 'vader' FROM bp_pupil WHERE two_guardians;
        """,
    ),
    (
        "enrolment and addresses",
        """
        INSERT INTO students_enrolment (pupil_id, application_date, placement_guarantee, enrolled_on, left_on,
            destination, destination_school)
        SELECT pupil_id, enrolled_on - 60, true, enrolled_on, left_on, destination,
               CASE WHEN leaver THEN 'Vervolgschool ' || pupil_id %% 50 ELSE '' END
        FROM bp_pupil;
        INSERT INTO students_paperdossier (pupil_id, has_application_form, has_pupil_card, location)
        SELECT pupil_id, true, random() < 0.8, 'archiefkast' FROM bp_pupil;
        INSERT INTO students_enrolmentevent (pupil_id, date, kind, note)
        SELECT pupil_id, enrolled_on - 60, 'application', '' FROM bp_pupil
        UNION ALL SELECT pupil_id, enrolled_on, 'enrolment', '' FROM bp_pupil
        UNION ALL SELECT pupil_id, least(enrolled_on + 365 * k, last_day), 'group_change', 'naar volgende groep'
            FROM bp_pupil CROSS JOIN LATERAL generate_series(1, (last_day - enrolled_on) / 365) k
        UNION ALL SELECT pupil_id, left_on, 'unenrolment', '' FROM bp_pupil WHERE leaver;
        INSERT INTO students_address (pupil_id, street, house_number, postcode, city, phone, valid_from, source,
            created_at)
        SELECT pupil_id, 'Benchstraat', k::text, '1234AB', 'Schiedam', '', enrolled_on + (k - 1) * 400, 'import',
               now()
        FROM bp_pupil CROSS JOIN LATERAL generate_series(1, n_addresses) k;
        """,
    ),
    (
        "attendance and funding",
        """
        INSERT INTO students_attendancerecord (pupil_id, date, hours, authorised, reason)
        SELECT pupil_id, last_day - (k * 7 + floor(random() * 7))::int, (1 + floor(random() * 8)) / 2,
               random() < 0.9, 'ziek'
        FROM bp_pupil CROSS JOIN LATERAL generate_series(1, n_attendance) k;
        INSERT INTO students_fundingrecord (pupil_id, reference_date, indicator, value)
        SELECT pupil_id, last_day - 365 * k, 'gewicht', '0.3'
        FROM bp_pupil CROSS JOIN LATERAL generate_series(1, n_funding) k;
        """,
    ),
    (
        "substantive part",
        """
        INSERT INTO students_progressresult (pupil_id, date, test, subject, score, level)
        SELECT pupil_id, last_day - 180 * k, 'Cito', (ARRAY['rekenen','spelling','begrijpend lezen'])[1 + k %% 3],
               (20 + k * 7 %% 60)::text, (ARRAY['A','B','C','D'])[1 + k %% 4]
        FROM bp_pupil CROSS JOIN LATERAL generate_series(1, n_results) k;
        INSERT INTO students_supportneed (pupil_id, since, description)
        SELECT pupil_id, last_day - 300 * k, %(support)s
        FROM bp_pupil CROSS JOIN LATERAL generate_series(1, n_support) k;
        INSERT INTO students_healthnote (pupil_id, date, note, needed_for)
        SELECT pupil_id, last_day - 200, %(health_note)s, %(health_for)s FROM bp_pupil WHERE health;
        INSERT INTO students_agreement (pupil_id, date, text)
        SELECT pupil_id, last_day - 100, %(agreement)s FROM bp_pupil WHERE agreement;
        INSERT INTO students_conversationreport (pupil_id, date, participants, report, author_id)
        SELECT pupil_id, last_day - 120 * k, %(participants)s, %(report)s, %(author)s
        FROM bp_pupil CROSS JOIN LATERAL generate_series(1, n_conversations) k;
        INSERT INTO students_document (pupil_id, conversation_id, filename, content_type, size, content,
            uploaded_at, uploaded_by_id)
        SELECT c.pupil_id, c.id, %(doc_name)s, 'application/pdf', 3000, %(doc_content)s, now(), %(author)s
        FROM students_conversationreport c JOIN bp_pupil b ON b.pupil_id = c.pupil_id
        WHERE random() < 0.3 OR (b.probe AND c.date = b.last_day - 120);
        INSERT INTO students_document (pupil_id, conversation_id, filename, content_type, size, content,
            uploaded_at, uploaded_by_id)
        SELECT pupil_id, NULL, %(doc_name)s, 'application/pdf', 3000, %(doc_content)s, now(), %(author)s
        FROM bp_pupil WHERE probe OR random() < 0.05;
        """,
    ),
    (
        "consent answers",
        """
        INSERT INTO consent_consentanswer (pupil_id, category_id, guardian_id, value, version_id, channel,
            entered_by_id, scan_id, at, statement_version)
        SELECT x.pupil_id, x.category_id, x.guardian_id,
               CASE WHEN random() < 0.8 THEN 'given' ELSE 'refused' END, x.version_id,
               CASE WHEN n = 0 THEN 'paper' ELSE 'portal' END, NULL, NULL,
               (x.enrolled_on + n * (30 + floor(x.rc * 300)::int))::timestamp AT TIME ZONE 'Europe/Amsterdam',
               NULL
        FROM (
            SELECT p.pupil_id, p.enrolled_on, p.probe, l.guardian_id, c.category_id, c.version_id,
                   random() AS ra, random() AS rb, random() AS rc
            FROM bp_pupil p
            JOIN students_guardianlink l ON l.pupil_id = p.pupil_id AND l.has_authority
            JOIN bp_cat c ON c.school_id = p.school_id
        ) x CROSS JOIN LATERAL generate_series(0, (x.rb < 0.2 OR x.probe)::int) n
        WHERE x.ra < 0.85 OR x.probe;
        """,
    ),
]


def _pupil_map(cursor):
    """{school id: [(idx, pupil id, guardian id, guardian2 id or None, leaver, enrolled_on, left_on)]}."""
    cursor.execute(
        "SELECT school_id, idx, pupil_id, guardian_id, CASE WHEN two_guardians THEN guardian2_id END, leaver, "
        "enrolled_on, left_on FROM bp_pupil ORDER BY school_id, idx"
    )
    result = {}
    for school_id, *row in cursor.fetchall():
        result.setdefault(school_id, []).append(tuple(row))
    return result


# Disclosures: kind, the seeded recipient's key, method, pupils per disclosure.
def _disclosure_kinds():
    from disclosures.models import Disclosure

    K, M = Disclosure.Kind, Disclosure.Method
    return [
        (K.STANDING_EXPORT, "bibliotheek", M.CSV, 8),
        (K.PROCESSOR, "parnassys", M.CSV, 8),
        (K.TRANSFER, "receiving-school", M.SECURE_LINK, 1),
        (K.INSPECTIE, "inspectie", M.INSPECTION, 5),
        (K.EMERGENCY, "emergency", M.PHONE, 1),
        (K.LEERPLICHT, "leerplicht", M.SECURE_LINK, 1),
        (K.CHILD_ABUSE, "veilig-thuis", M.SECURE_LINK, 1),
    ]


def _disclosures(foundation, schools, staff, pupils, rng, now):
    from disclosures.models import Disclosure, DisclosurePupil, Recipient

    recipients = {r.key: r for r in Recipient.objects.filter(foundation=foundation, school=None)}
    kinds = _disclosure_kinds()
    S = Disclosure.Status
    made = []
    for school, size in schools:
        current = [p for p in pupils[school.pk] if not p[4]]
        probe = current[PROBE_INDEX][1]
        people = staff[school.pk]
        count = max(2 * len(kinds), size // 4)
        for j in range(count):
            kind, key, method, per = kinds[j % len(kinds)]
            round_ = j // len(kinds)
            recipient = recipients[key]
            requested_at = now - datetime.timedelta(days=(count - j) * 1800 / count, hours=rng.random() * 8)
            status, decided_by, decided_at, reviewed_by, reviewed_at = S.DISCLOSED, None, None, None, None
            if kind == Disclosure.Kind.INSPECTIE:
                status = (S.PENDING, S.DISCLOSED, S.REFUSED)[round_ % 3]
                if status != S.PENDING:
                    decided_by, decided_at = people["director"], requested_at + datetime.timedelta(days=2)
            if kind == Disclosure.Kind.EMERGENCY and round_ % 2 == 1:
                reviewed_by, reviewed_at = people["director"], requested_at + datetime.timedelta(days=1)
            chosen = [probe] if round_ == 0 else []
            others = [p[1] for p in current if p[1] != probe]
            chosen += rng.sample(others, min(len(others), per - len(chosen)))
            made.append(
                (
                    Disclosure(
                        school=school,
                        recipient=recipient,
                        recipient_detail="Bench" if kind != Disclosure.Kind.STANDING_EXPORT else "",
                        kind=kind,
                        legal_basis=recipient.legal_basis,
                        purpose=recipient.purpose,
                        fields=list(recipient.fields)[:4],
                        method=method,
                        status=status,
                        requested_by=people["ib"],
                        requested_at=requested_at,
                        decided_by=decided_by,
                        decided_at=decided_at,
                        decision_reason="Wettelijke taak." if decided_by else "",
                        disclosed_at=requested_at if status == S.DISCLOSED else None,
                        reviewed_by=reviewed_by,
                        reviewed_at=reviewed_at,
                        review_note="Terecht." if reviewed_by else "",
                        restricted=kind == Disclosure.Kind.CHILD_ABUSE,
                        pupil_count=len(chosen),
                    ),
                    chosen,
                )
            )
    Disclosure.objects.bulk_create([d for d, _p in made], batch_size=2000)
    DisclosurePupil.objects.bulk_create(
        [DisclosurePupil(disclosure=d, pupil_id=p) for d, chosen in made for p in chosen], batch_size=5000
    )


def _requests(schools, staff, pupils, rng, now, today):
    from disclosures.rights import deadlines
    from disclosures.rights.models import DossierCorrection, ParentRequest

    R = ParentRequest
    kinds = (R.Kind.VIEW, R.Kind.CORRECT, R.Kind.REMOVE)
    states = (R.Status.RECEIVED, R.Status.SCHEDULED, R.Status.VIEWED, R.Status.DONE, R.Status.REFUSED)
    made = []
    for school, size in schools:
        current = [p for p in pupils[school.pk] if not p[4]]
        people = staff[school.pk]
        count = max(6, size // 20)
        for j in range(count):
            pupil = current[PROBE_INDEX] if j < len(kinds) else rng.choice(current)
            kind = kinds[j % len(kinds)]
            status = states[j % len(states)]
            if kind != R.Kind.VIEW and status in (R.Status.SCHEDULED, R.Status.VIEWED):
                status = R.Status.DONE
            received_on = today - datetime.timedelta(days=(count - j) * 365 // count)
            received_at = datetime.datetime.combine(received_on, datetime.time(10), tzinfo=datetime.UTC)
            answered = status != R.Status.RECEIVED
            decided = status in (R.Status.DONE, R.Status.REFUSED)
            scheduled = status in (R.Status.SCHEDULED, R.Status.VIEWED)
            request = ParentRequest(
                pupil_id=pupil[1],
                guardian_id=pupil[2],
                requester_has_authority=True,
                kind=kind,
                part="" if kind == R.Kind.VIEW else "support",
                what="" if kind == R.Kind.VIEW else "De beschrijving klopt niet meer.",
                reason="Graag inzage." if kind == R.Kind.VIEW else "Verouderd.",
                status=status,
                received_at=received_at,
                received_on=received_on,
                due_on=deadlines.due_date(received_on, 0),
                answered_at=received_at + datetime.timedelta(days=5) if answered else None,
                appointment_at=received_at + datetime.timedelta(days=10) if scheduled else None,
                appointment_place="Kamer van de directeur" if scheduled else "",
                present_staff=people["teacher"] if scheduled else None,
                scheduled_by=people["director"] if scheduled else None,
                scheduled_at=received_at + datetime.timedelta(days=5) if scheduled else None,
                viewing_held_on=received_on + datetime.timedelta(days=10) if status == R.Status.VIEWED else None,
                attendees="Ouder" if status == R.Status.VIEWED else "",
                viewing_recorded_by=people["teacher"] if status == R.Status.VIEWED else None,
                decision="Aangepast." if decided else "",
                decided_by=people["director"] if decided else None,
                decided_at=received_at + datetime.timedelta(days=5) if decided else None,
            )
            made.append(request)
    ParentRequest.objects.bulk_create(made, batch_size=2000)
    corrections = [
        DossierCorrection(
            request=r,
            part="support",
            record_id=1,
            record_label="Ondersteuningsbehoefte",
            action=DossierCorrection.Action.CHANGED,
            changes=json.dumps([{"field": "description", "label": "Beschrijving", "old": "oud", "new": "nieuw"}]),
            applied_by=r.decided_by,
            applied_at=r.decided_at,
        )
        for r in made
        if r.kind == R.Kind.CORRECT and r.status == R.Status.DONE
    ]
    DossierCorrection.objects.bulk_create(corrections, batch_size=2000)


def _breaches(foundation, schools, staff, rng, now):
    from breaches.models import Breach, BreachEvent

    B = Breach
    states = list(B.State)
    severities = [B.Severity.LOW, B.Severity.RISK, B.Severity.HIGH]
    made = []

    def breach(school, reporter, j, count):
        state = states[j % len(states)]
        aware_at = now - datetime.timedelta(days=(count - j) * 1000 / count + 0.5)
        decided = state not in (B.State.REPORTED, B.State.ASSESSING)
        return Breach(
            foundation=foundation,
            school=school,
            reporter=reporter,
            reported_at=aware_at + datetime.timedelta(hours=2),
            aware_at=aware_at,
            state=state,
            what_happened="Een e-mail met een leerlingenlijst ging naar de verkeerde ouder.",
            data_concerned="Leerlingenlijst groep 5",
            approx_pupils=rng.randint(1, 30),
            severity=severities[j % 3] if decided else "",
            decided_at=aware_at + datetime.timedelta(hours=30) if decided else None,
            ap_notify=(j % 3 != 0) if decided else None,
            closed_at=aware_at + datetime.timedelta(days=20) if state == B.State.CLOSED else None,
        )

    for school, size in schools:
        count = max(3, size // 50)
        made += [breach(school, staff[school.pk]["teacher"], j, count) for j in range(count)]
    first = staff[schools[0][0].pk]["director"]
    made += [breach(None, first, j, 5) for j in range(5)]
    Breach.objects.bulk_create(made)
    BreachEvent.objects.bulk_create(
        BreachEvent(breach=b, at=b.reported_at, actor=b.reporter, action="reported", to_state="reported") for b in made
    )


def _publications(schools, staff, pupils, rng, today):
    from consent.models import ConsentCategory, Publication, PublicationPupil

    channels = {
        c.school_id: c for c in ConsentCategory.objects.filter(key="website", school__in=[s for s, _ in schools])
    }
    drafts = {}
    appearances = []
    for school, _size in schools:
        current = [p for p in pupils[school.pk] if not p[4]]
        teacher = staff[school.pk]["teacher"]
        draft = Publication.objects.create(
            school=school,
            channel=channels[school.pk],
            date=today,
            description="Sportdag groep 5",
            created_by=teacher,
        )
        drafts[school.pk] = draft
        group5 = [p for p in current if p[0] % 8 == 4]
        for p in group5:
            one_off = p[0] == PROBE_INDEX
            appearances.append(
                PublicationPupil(
                    publication=draft,
                    pupil_id=p[1],
                    one_off_consent_at=datetime.datetime.now(datetime.UTC) if one_off else None,
                    one_off_consent_by_id=p[2] if one_off else None,
                    one_off_recorded_by=teacher if one_off else None,
                )
            )
        for k in range(3):
            published = Publication.objects.create(
                school=school,
                channel=channels[school.pk],
                date=today - datetime.timedelta(days=30 * (k + 1)),
                description=f"Nieuwsbericht {k + 1}",
                status=Publication.Status.PUBLISHED,
                created_by=teacher,
                published_at=datetime.datetime.now(datetime.UTC),
            )
            for p in rng.sample(current, min(10, len(current))):
                appearances.append(PublicationPupil(publication=published, pupil_id=p[1]))
    PublicationPupil.objects.bulk_create(appearances, batch_size=5000)
    return {school_id: draft.pk for school_id, draft in drafts.items()}


def _legal_holds(schools, staff, pupils, rng, now):
    from retention.models import LegalHold

    holds = []
    for school, _size in schools:
        leavers = [p for p in pupils[school.pk] if p[4]]
        for p in rng.sample(leavers, min(len(leavers), max(1, len(leavers) // 200))):
            holds.append(
                LegalHold(pupil_id=p[1], reason="Lopend geschil", set_by=staff[school.pk]["director"], set_at=now)
            )
    LegalHold.objects.bulk_create(holds)


AUDIT_COLUMNS = (
    "seq",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "pupil_id",
    "school_id",
    "ground",
    "ip",
    "details",
    "prev_hmac",
    "hmac",
)
AUDIT_ACTIONS = [
    # action, weight, details
    ("dossier.read_substantive", 50, {}),
    ("dossier.record_created", 20, {"record_type": "attendance"}),
    ("dossier.record_changed", 10, {"record_type": "progress"}),
    ("consent.answered", 10, {"category": "website", "channel": "paper"}),
    ("dossier.changed", 10, {"fields": ["last_name"]}),
]


def _audit_rows(cursor, schools, staff, pupils, per_pupil, rng, now):
    """Audit rows for every pupil (18-52 at the default 35, the probe pupils
    PROBE_AUDIT_ROWS) and logins of the staff, in time order, chained with
    the real HMAC from the chain head on, written with COPY; the head then
    points past them. Returns the number of rows."""
    from types import SimpleNamespace

    from privacy_admin.auditlog import _digest, head_digest
    from privacy_admin.models import AuditChainHead

    actions = [a for a, _w, _d in AUDIT_ACTIONS]
    weights = [w for _a, w, _d in AUDIT_ACTIONS]
    details = {a: d for a, _w, d in AUDIT_ACTIONS}
    events = []
    for school, _size in schools:
        people = list(staff[school.pk].values())
        ground = f"Leerkracht {school.brin}"
        for idx, pupil_id, _g1, _g2, leaver, enrolled_on, left_on in pupils[school.pk]:
            start = datetime.datetime.combine(enrolled_on, datetime.time(8), tzinfo=datetime.UTC)
            end = datetime.datetime.combine(left_on, datetime.time(16), tzinfo=datetime.UTC) if leaver else now
            span = max((end - start).total_seconds(), 1)
            n = (
                PROBE_AUDIT_ROWS
                if (not leaver and idx == PROBE_INDEX)
                else rng.randint(per_pupil // 2, per_pupil * 3 // 2)
            )
            for action in rng.choices(actions, weights, k=n):
                actor = rng.choice(people)
                at = start + datetime.timedelta(seconds=rng.random() * span)
                events.append(
                    (at, actor, action, "students.pupil", str(pupil_id), pupil_id, school.pk, ground, details[action])
                )
        for person in people:
            for _k in range(max(1, per_pupil)):
                at = now - datetime.timedelta(seconds=rng.random() * 3 * 365 * 86400)
                events.append((at, person, "auth.login", "", "", None, None, "", {}))
    events.sort(key=lambda e: e[0])

    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    seq = head.last_seq if head else 0
    prev = head.last_hmac if head else "0" * 64
    with cursor.cursor.copy(f"COPY privacy_admin_auditevent ({', '.join(AUDIT_COLUMNS)}) FROM STDIN") as copy:
        for at, actor, action, object_type, object_id, pupil_id, school_id, ground, detail in events:
            seq += 1
            row = SimpleNamespace(
                seq=seq,
                at=at,
                actor_id=actor.pk,
                actor_label=actor.username,
                action=action,
                object_type=object_type,
                object_id=object_id,
                pupil_id=pupil_id,
                school_id=school_id,
                ground=ground,
                ip=None,
                details=detail,
                prev_hmac=prev,
            )
            row.hmac = prev = _digest(row, prev)
            row.details = json.dumps(detail)
            copy.write_row(tuple(getattr(row, column) for column in AUDIT_COLUMNS))
    if head is None:
        cursor.execute(
            "INSERT INTO privacy_admin_auditchainhead (id, last_seq, last_hmac, head_hmac) VALUES (1, %s, %s, %s)",
            [seq, prev, head_digest(seq, prev)],
        )
    else:
        # The head's guard lets it move one row at a time (migration 0003);
        # a bulk load moves it once, past every row it wrote.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE privacy_admin_auditchainhead SET last_seq = %s, last_hmac = %s, head_hmac = %s WHERE id = 1",
            [seq, prev, head_digest(seq, prev)],
        )
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    return len(events)


COUNTED_TABLES = [
    "students_pupil",
    "students_guardian",
    "students_guardianlink",
    "students_enrolment",
    "students_enrolmentevent",
    "students_address",
    "students_attendancerecord",
    "students_fundingrecord",
    "students_progressresult",
    "students_supportneed",
    "students_healthnote",
    "students_conversationreport",
    "students_document",
    "students_agreement",
    "consent_consentanswer",
    "consent_publicationpupil",
    "disclosures_disclosure",
    "disclosures_disclosurepupil",
    "rights_parentrequest",
    "rights_dossiercorrection",
    "breaches_breach",
    "retention_legalhold",
    "privacy_admin_auditevent",
]


def _counts(cursor, tables):
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed table names)
        counts[table] = cursor.fetchone()[0]
    return counts


def build(sizes, *, as_of=None, seed=0.42, leavers=LEAVERS, audit_per_pupil=35, stdout=None):
    """Build one foundation with a school of each size in `sizes` (current
    pupils; `leavers` more who left) on the current connection. Returns a
    Built. The data is synthetic."""
    from django.db import connection, transaction
    from django.utils import timezone

    from privacy_admin.models.org import current_school_year

    if connection.vendor != "postgresql":
        raise SystemExit("the portal bench builds with PostgreSQL's generate_series and COPY; set DATABASE_URL")
    if min(sizes) <= PROBE_INDEX:
        raise SystemExit(
            f"every school needs more than {PROBE_INDEX} pupils (the probe pupil is number {PROBE_INDEX + 1})"
        )
    started = time.perf_counter()
    as_of = as_of or timezone.localdate()
    now = timezone.now()
    rng = random.Random(seed)
    out = stdout

    def step(label, since):
        if out:
            out.write(f"    {label:<28} {time.perf_counter() - since:7.1f} s\n")
            out.flush()
        return time.perf_counter()

    tag = f"{time.time_ns()}"
    with transaction.atomic():
        t = time.perf_counter()
        foundation, schools, staff = _reference_rows(sizes, tag)
        t = step("schools, staff, categories", t)
        with connection.cursor() as cursor:
            before = _counts(cursor, COUNTED_TABLES)
            cursor.execute("SELECT setseed(%s)", [seed])
            cursor.execute("DROP TABLE IF EXISTS bp_school")
            cursor.execute("CREATE TEMP TABLE bp_school (school_id bigint, n_current int, n_leavers int)")
            cursor.executemany(
                "INSERT INTO bp_school VALUES (%s, %s, %s)",
                [(school.pk, size, round(size * leavers)) for school, size in schools],
            )
            cursor.execute(PLAN_SQL, {"year": current_school_year(as_of), "as_of": as_of, "probe": PROBE_INDEX})
            params = {"author": staff[schools[0][0].pk]["teacher"].pk, **_ciphertexts()}
            for label, sql in BUILD_SQL:
                cursor.execute(sql, params)
                t = step(label, t)
            pupils = _pupil_map(cursor)
            _disclosures(foundation, schools, staff, pupils, rng, now)
            _requests(schools, staff, pupils, rng, now, as_of)
            _breaches(foundation, schools, staff, rng, now)
            drafts = _publications(schools, staff, pupils, rng, as_of)
            _legal_holds(schools, staff, pupils, rng, now)
            t = step("disclosures, requests, ...", t)
            _audit_rows(cursor, schools, staff, pupils, audit_per_pupil, rng, now)
            t = step("audit rows (COPY)", t)
            cursor.execute("SELECT school_id, group_id FROM bp_group WHERE grade = 5")
            group5 = dict(cursor.fetchall())
            after = _counts(cursor, COUNTED_TABLES)
            cursor.execute("DROP TABLE IF EXISTS bp_school, bp_group, bp_cat, bp_pupil")
    built_schools = [
        BuiltSchool(
            school_id=school.pk,
            brin=school.brin,
            size=size,
            group_id=group5[school.pk],
            probe_pupil_id=[p for p in pupils[school.pk] if not p[4]][PROBE_INDEX][1],
            publication_id=drafts[school.pk],
            staff={role: user.pk for role, user in staff[school.pk].items()},
        )
        for school, size in schools
    ]
    return Built(
        foundation_id=foundation.pk,
        schools=built_schools,
        rows={t: after[t] - before[t] for t in COUNTED_TABLES},
        seconds=time.perf_counter() - started,
    )


# --- measuring ----------------------------------------------------------------------

FLOOR = ("floor: own security page", "account_security")
# label, URL name, role, what the URL needs ("group", "pupil", "publication" or None)
PAGES = [
    ("group overview", "group_detail", "teacher", "group"),
    ("dossier: administrative", "dossier", "director", "pupil"),
    ("dossier: substantive", "dossier_substantive", "director", "pupil"),
    ("dossier: consent", "dossier_consent", "director", "pupil"),
    ("dossier: disclosures", "dossier_disclosures", "director", "pupil"),
    ("dossier: parents' requests", "dossier_requests", "director", "pupil"),
    ("dossier: log", "dossier_log", "director", "pupil"),
    ("consent matrix of a group", "consent_matrix", "teacher", "group"),
    ("publication check of a group", "publication_detail", "teacher", "publication"),
    ("inbox: disclosures to decide", "disclosure_inbox", "director", None),
    ("inbox: parents' requests", "rights_request_list", "director", None),
    ("retention preview", "retention_overview", "app_admin", None),
    ("breach register", "breach_register", "director", None),
]


def verified_client(user):
    """A test client whose session passed the password and the second factor
    just now, made without a browser (as tests/conftest.py does)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from privacy_admin.actions import LAST_SEEN_KEY, OTP_AT_KEY
    from privacy_admin.models import StaffTOTPDevice
    from privacy_admin.sessions import AUTH_AT_KEY

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    now = time.time()
    session[AUTH_AT_KEY] = now
    session[LAST_SEEN_KEY] = now
    session[DEVICE_ID_SESSION_KEY] = StaffTOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session[OTP_AT_KEY] = now
    session.save()
    return client


def page_urls(school):
    """[(label, role, url)]: the floor per role, /healthz, then the pages."""
    from django.urls import reverse

    urls = []
    for role in ("teacher", "director", "app_admin"):
        urls.append((f"{FLOOR[0]} ({role.replace('_', ' ')})", role, reverse(FLOOR[1])))
    urls.append(("/healthz (reference, no template)", "director", reverse("healthz")))
    for label, name, role, needs in PAGES:
        if needs == "group":
            url = reverse(name, args=[school.group_id])
        elif needs == "pupil":
            url = reverse(name, args=[school.probe_pupil_id])
        elif needs == "publication":
            url = reverse(name, args=[school.publication_id]) + f"?group={school.group_id}"
        else:
            url = reverse(name)
        urls.append((label, role, url))
    return urls


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def _is_transaction_control(sql):
    """BEGIN, COMMIT, SAVEPOINT ...: Django logs them as queries; they are
    counted apart from the statements that read or write."""
    return sql.lstrip().upper().startswith(TRANSACTION_CONTROL)


def _get(client, url):
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}, not 200: the bench measures working pages only")
    return response


def measure_school(school, *, repeat, warmup):
    """{label: {"url", "role", "median_ms", "p95_ms", "queries", "max_queries"}} for one school."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from privacy_admin.models import User

    clients = {role: verified_client(User.objects.get(pk=pk)) for role, pk in school.staff.items()}
    urls = page_urls(school)
    results = {}
    for label, role, url in urls:
        for _ in range(warmup):
            _get(clients[role], url)
        counts = []
        for _ in range(3):
            with CaptureQueriesContext(connection) as captured:
                _get(clients[role], url)
            control = sum(1 for q in captured.captured_queries if _is_transaction_control(q["sql"]))
            counts.append((len(captured) - control, control))
        queries, control = min(counts)
        results[label] = {
            "url": url,
            "role": role,
            "queries": queries,
            "max_queries": max(counts)[0],
            "transaction_statements": control,
            "times": [],
        }
    debug = settings.DEBUG
    settings.DEBUG = False  # no query log while timing, as in production
    try:
        for _ in range(repeat):
            for label, role, url in urls:
                started = time.perf_counter()
                _get(clients[role], url)
                results[label]["times"].append(time.perf_counter() - started)
    finally:
        settings.DEBUG = debug
    for entry in results.values():
        times = sorted(entry.pop("times"))
        entry["median_ms"] = statistics.median(times) * 1000
        entry["p95_ms"] = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))] * 1000
    return results


def _floor_of(results, role):
    return results[f"{FLOOR[0]} ({role.replace('_', ' ')})"]["median_ms"]


def evaluate(by_size):
    """[(label, {size: entry with "ratio"}, verdicts)] with the targets of
    each page; verdicts None for the floor and reference lines."""
    sizes = sorted(by_size)
    rows = []
    for label, _role, _url in page_urls_labels(by_size):
        entries = {size: dict(by_size[size][label]) for size in sizes}
        for size, entry in entries.items():
            entry["ratio"] = entry["median_ms"] / _floor_of(by_size[size], entry["role"])
        verdicts = None
        if not label.startswith((FLOOR[0], "/healthz")):
            verdicts = {
                "floor": all(e["ratio"] <= TARGET_FLOOR_RATIO for e in entries.values()),
                "same_queries": len({e["queries"] for e in entries.values()}) == 1,
                "max_queries": all(e["queries"] <= TARGET_MAX_QUERIES for e in entries.values()),
            }
        rows.append((label, entries, verdicts))
    return rows


def page_urls_labels(by_size):
    first = next(iter(by_size.values()))
    return [(label, entry["role"], entry["url"]) for label, entry in first.items()]


def _verdict(ok):
    return "PASS" if ok else "FAIL"


def report(rows, sizes, out):
    """Print the table; True when every page meets every target."""
    cell = 35
    head = f"{'page':<38}" + "".join(f" | {f'{size} pupils per school':^{cell}}" for size in sizes)
    out.write(head + f" | {'<=4x floor':<10} {'same q':<6} {'<=20 q':<6}\n")
    sub = f"{'':<38}" + "".join(f" | {'median':>7} {'p95':>7} {'xfloor':>6} {'q':>5} {'tx':>4}" for _ in sizes)
    out.write(sub + "\n" + "-" * (len(sub) + 27) + "\n")
    ok = True
    for label, entries, verdicts in rows:
        line = f"{label:<38}"
        for size in sizes:
            e = entries[size]
            q = str(e["queries"]) + ("*" if e["max_queries"] != e["queries"] else "")
            line += (
                f" | {e['median_ms']:7.1f} {e['p95_ms']:7.1f} {e['ratio']:6.2f} {q:>5} {e['transaction_statements']:>4}"
            )
        if verdicts is not None:
            line += f" | {_verdict(verdicts['floor']):<10} {_verdict(verdicts['same_queries']):<6} "
            line += f"{_verdict(verdicts['max_queries']):<6}"
            ok = ok and all(verdicts.values())
        out.write(line + "\n")
    out.write(
        "\nmedian, p95: ms over the timed requests; xfloor: median / median of the floor of the same role; "
        "q: SQL statements that read or write (SELECT, INSERT, UPDATE, DELETE) per request, the lowest of three "
        "(*: one of the three had one more, the staff gate's idle-clock write); tx: transaction control "
        "statements beside them (BEGIN, SAVEPOINT, RELEASE, COMMIT), not counted in q\n"
    )
    return ok


# --- the scratch database -----------------------------------------------------------


class Server:
    """Creates and drops the scratch database on the server of DATABASE_URL."""

    def __init__(self, url):
        import dj_database_url

        self.config = dj_database_url.parse(url)

    def url_for(self, name):
        c = self.config
        auth = c["USER"] + (f":{c['PASSWORD']}" if c["PASSWORD"] else "")
        return f"postgres://{auth}@{c['HOST'] or 'localhost'}:{c['PORT'] or 5432}/{name}"

    def connect(self, name="postgres"):
        import psycopg

        c = self.config
        return psycopg.connect(
            dbname=name,
            user=c["USER"],
            password=c["PASSWORD"] or None,
            host=c["HOST"] or None,
            port=c["PORT"] or None,
            autocommit=True,
        )

    def create(self, name):
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')

    def drop(self, name):
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def vacuum(self, name):
        with self.connect(name) as conn:
            conn.execute("VACUUM ANALYZE")

    def version(self, name):
        with self.connect(name) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]


def require_postgres(prog):
    """The DATABASE_URL, or None after saying why it will not do."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    sys.stderr.write(
        f"{prog} measures PostgreSQL only: set DATABASE_URL=postgres://user@host:5432/dbname (only the server is "
        "used; the bench creates and drops its own scratch database, as a superuser). DATABASE_URL is "
        f"{'unset' if not url else 'not PostgreSQL'}.\n"
    )
    return None


def setup_django():
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacy_admin.settings")
    django.setup()


def _parse(argv):
    parser = argparse.ArgumentParser(
        prog="bench/portal.py",
        description=(
            "Benchmark the staff portal's pages on PostgreSQL: build a foundation of SCHOOLS schools of "
            "PUPILS_PER_SCHOOL pupils plus one of SMALL pupils, with full dossiers, consent history, disclosures, "
            "requests, breaches and audit rows, in a scratch database; then time each page in-process with the "
            "test client and count its queries, at both school sizes, against the floor (the own security page). "
            f"Targets: every page <= {TARGET_FLOOR_RATIO:g} x the floor; the same query count at both sizes; no "
            f"page above {TARGET_MAX_QUERIES} queries. DATABASE_URL must point to PostgreSQL; a superuser is "
            "needed. Exit status 1 when a target fails. Not part of the test suite."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--schools", type=int, default=20, help="schools of the large size")
    parser.add_argument("--pupils-per-school", type=int, default=400, help="current pupils of a large school")
    parser.add_argument("--small", type=int, default=40, help="current pupils of the one small school")
    parser.add_argument("--audit-per-pupil", type=int, default=35, help="average audit rows per pupil")
    parser.add_argument("--repeat", type=int, default=60, help="timed requests per page and size")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page before counting")
    parser.add_argument("--seed", type=float, default=0.42, help="seed of the build's random numbers")
    parser.add_argument("--db", default=DEFAULT_DB, help="name of the scratch database (dropped first)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database for a closer look")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    args = parser.parse_args(argv)
    if args.schools < 1 or args.repeat < 1 or args.warmup < 0:
        parser.error("--schools and --repeat must be at least 1, --warmup at least 0")
    if min(args.pupils_per_school, args.small) <= PROBE_INDEX:
        parser.error(f"--pupils-per-school and --small must be more than {PROBE_INDEX}")
    if args.small == args.pupils_per_school:
        parser.error("--small must differ from --pupils-per-school: the pages are compared at the two sizes")
    return args


def main(argv=None):
    args = _parse(argv)
    url = require_postgres("bench/portal.py")
    if url is None:
        return 2
    server = Server(url)
    server.create(args.db)
    os.environ["DATABASE_URL"] = server.url_for(args.db)
    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    out = sys.stdout
    started = time.perf_counter()
    try:
        out.write(f"migrating {args.db} ...\n")
        out.flush()
        call_command("migrate", verbosity=0)
        sizes = [args.pupils_per_school] * args.schools + [args.small]
        out.write(
            f"building {args.schools} schools x {args.pupils_per_school} pupils + 1 school x {args.small} pupils "
            f"(current pupils; {LEAVERS:.0%} more who left) ...\n"
        )
        built = build(sizes, seed=args.seed, audit_per_pupil=args.audit_per_pupil, stdout=out)
        connection.close()
        server.vacuum(args.db)
        out.write(f"  built in {built.seconds:.0f} s; rows:\n")
        for table, n in built.rows.items():
            out.write(f"    {table:<32} {n:>10,}\n")
        version = server.version(args.db)
        measured = {}
        for size in sorted({args.small, args.pupils_per_school}):
            school = built.school_of_size(size)
            out.write(
                f"measuring school {school.brin} ({size} pupils, group 5, probe pupil #{school.probe_pupil_id}) ...\n"
            )
            out.flush()
            measured[size] = measure_school(school, repeat=args.repeat, warmup=args.warmup)
        sizes_shown = sorted(measured)
        rows = evaluate(measured)
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        out.write(
            f"\nPostgreSQL {version}; Django test client in-process; {args.repeat} timed requests per page and size; "
            f"{os.cpu_count()} CPU cores; load average after measuring (1, 5, 15 min): {load}\n\n"
        )
        ok = report(rows, sizes_shown, out)
        failed = [label for label, _e, v in rows if v is not None and not all(v.values())]
        out.write(f"\ntargets: {'all PASS' if ok else 'FAIL: ' + ', '.join(failed)}\n")
        if args.json:
            pathlib.Path(args.json).write_text(
                json.dumps(
                    {
                        "postgresql": version,
                        "load_average": os.getloadavg(),
                        "repeat": args.repeat,
                        "sizes": sizes_shown,
                        "rows": built.rows,
                        "build_seconds": built.seconds,
                        "pages": [{"label": label, "by_size": e, "targets": v} for label, e, v in rows],
                    },
                    indent=2,
                    default=str,
                )
            )
    finally:
        connection.close()
        if not args.keep:
            server.drop(args.db)
    out.write(f"bench finished in {time.perf_counter() - started:.0f} s\n")
    return 0 if ok else 1


if __name__ == "__main__":
    # Run as a script, Python puts bench/ first on the path: use the project root.
    if sys.path and pathlib.Path(sys.path[0]).resolve() == ROOT / "bench":
        sys.path[0] = str(ROOT)
    else:
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
