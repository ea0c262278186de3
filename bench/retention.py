"""Benchmark of the retention purge on PostgreSQL (issue 7, item 9).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/privacy_admin \\
        .venv/bin/python bench/retention.py [--pupils 100000] [--as-of YYYY-MM-DD]

Only the server of DATABASE_URL is used: the bench creates its own scratch
databases (<prefix>_schema, _build, _engine, _sql, _memory; prefix
privacy_admin_bench) and drops them when done. Per size N, and again at 2N:

1. Build: N pupils in bulk SQL (generate_series, no ORM per row), with per
   pupil an enrolment row and 2-5 enrolment events, a paper dossier, 20-60
   attendance rows, 1-4 funding rows, 4-12 results, 0-3 conversation reports
   (30% with an attachment of ~4 kB), support needs (25%), health notes (5%),
   agreements (10%), involvements (5%), named in an assignment (2%), 4 consent
   answers (+20% changed answers), 1-2 addresses and guardians. Encrypted
   columns hold real ciphertexts. 40% are leavers: 80% left on 31 July of one
   of the last 8 school years, 20% on any day of those 8 years; 4% of leavers
   went to special education; 0.2% have a legal hold (half lifted). Then
   VACUUM ANALYZE. Each run below gets its own identical copy (CREATE
   DATABASE ... TEMPLATE), then a CHECKPOINT and the OS's write-back, so
   both start on equal footing; WAL written and checkpoints forced during
   each run are printed beside its time.
2. (a) The engine: `retention.engine.purge(as_of)` on a copy, in a
   fresh child process, so its peak memory is the purge's own. Memory is
   the child's peak resident set (getrusage ru_maxrss) minus its value just
   before the purge; the absolute peak is printed beside it. `--tracemalloc`
   adds a third copy purged under tracemalloc for its Python-heap peak (that
   run is slower and is not timed).
3. (b) Hand-written SQL: one transaction of bulk DELETEs of exactly the same
   rows on another copy (the due sets written out in SQL from the rules
   table, `left_on + term < as_of`, legal holds excluded).
4. Rows deleted per table in (a) and (b) must be equal; any difference is
   printed and the exit status is 1.

Printed: rows deleted, seconds of (a) and (b), the ratio a/b, peak memory,
and the engine's time at N and 2N with their ratio, each beside its target
(ratio <= 1.5; memory < 300 MB at 1,000,000 pupils; time(2N) <= 2.2 x
time(N)) with PASS/FAIL. `--repeat K` runs (a) and (b) K times on fresh
copies and keeps the fastest of each (for a shared machine). `--pupils
1000000` builds 1M and 2M pupils, about 70 rows a pupil: 13 GB a database at
1M and 27 GB at 2M, two at a time (the build and one copy), and on two cores
about 15 minutes at 1M and an hour at 2M; `--no-double` skips the 2N round.
Measured figures: bench/README.md.
"""

import argparse
import datetime
import json
import os
import pathlib
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_PREFIX = "privacy_admin_bench"
TARGET_RATIO = 1.5
TARGET_MEMORY_MB = 300
TARGET_MEMORY_AT = 1_000_000
TARGET_SCALING = 2.2
LEAVERS = 0.40


# --- the builder ------------------------------------------------------------------
#
# Runs on the current Django connection, so the smoke test can call it inside
# its test transaction. Reference rows (schools, consent categories, a few
# staff) go through the ORM in bulk; the per-pupil rows through INSERT ...
# SELECT over generate_series.


def _ciphertexts():
    """One valid ciphertext per encrypted column the builder fills, so the
    engine decrypts what it loads exactly as it would in production."""
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
        "hold_reason": sealed("retention.LegalHold", "reason", 60),
    }


def _brin(i):
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    pair = i // 100
    return f"{i % 100:02d}{letters[(pair // 26) % 26]}{letters[pair % 26]}"


def _reference_rows(pupils, tag):
    """Foundation, schools (~250 pupils each), 4 consent categories with a
    question each per school, a few staff. Returns a user id."""
    from consent.models import ConsentCategory, QuestionVersion
    from privacy_admin.models import Foundation, School, User

    foundation = Foundation.objects.create(name=f"Bench foundation {tag}")
    count = max(1, pupils // 250)
    taken = set(School.objects.values_list("brin", flat=True))
    brins = [b for b in (_brin(i) for i in range(count + len(taken) + 1)) if b not in taken][:count]
    if len(brins) < count:
        raise SystemExit(f"too many schools for the BRIN space ({count}); use fewer pupils")
    School.objects.bulk_create(School(foundation=foundation, brin=brin, name=f"Bench school {brin}") for brin in brins)
    schools = list(School.objects.filter(foundation=foundation).values_list("pk", flat=True))
    keys = ["parent-app", "website", "newsletter", "social-media"]
    ConsentCategory.objects.bulk_create(
        ConsentCategory(school_id=school, key=key, label_nl=key, label_en=key, order=i)
        for school in schools
        for i, key in enumerate(keys)
    )
    categories = ConsentCategory.objects.filter(school_id__in=schools).values_list("pk", flat=True)
    QuestionVersion.objects.bulk_create(
        QuestionVersion(category_id=pk, number=1, text_nl="Mag het?", text_en="May we?") for pk in categories
    )
    user = User(username=f"bench-{tag}", first_name="Bench")
    user.set_unusable_password()
    user.save()
    return foundation.pk, user.pk


def build(pupils, as_of, *, seed=0.42, leavers=LEAVERS, stdout=None):
    """Create `pupils` pupils with their records on the current database
    connection; returns {table: rows added}. The data is synthetic."""
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("the bench builder needs PostgreSQL")
    tag = f"{time.time_ns()}"
    foundation_id, user_id = _reference_rows(pupils, tag)
    sealed = _ciphertexts()
    params = {
        "n": pupils,
        "as_of": as_of,
        "leavers": leavers,
        "foundation": foundation_id,
        "user": user_id,
        **sealed,
    }
    tables = [
        "students_pupil",
        "students_guardian",
        "students_guardianlink",
        "students_enrolment",
        "students_address",
        "students_enrolmentevent",
        "students_paperdossier",
        "students_attendancerecord",
        "students_fundingrecord",
        "students_supportneed",
        "students_healthnote",
        "students_progressresult",
        "students_conversationreport",
        "students_document",
        "students_agreement",
        "students_involvement",
        "students_assignment",
        "students_assignment_pupils",
        "consent_consentanswer",
        "retention_legalhold",
    ]
    with connection.cursor() as cursor:
        before = _counts(cursor, tables)
        # Consistent by construction: skip the per-row foreign-key triggers
        # while loading (the standard bulk-load setting; needs a superuser).
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute("SELECT setseed(%s)", [seed])
            for label, sql in BUILD_SQL:
                started = time.perf_counter()
                cursor.execute(sql, params)
                if stdout:
                    stdout.write(f"    {label:<28} {time.perf_counter() - started:7.1f} s\n")
                    stdout.flush()
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        after = _counts(cursor, tables)
        cursor.execute("DROP TABLE IF EXISTS bench_school, bench_pupil, bench_cat")
    return {table: after[table] - before[table] for table in tables}


BUILD_SQL = [
    (
        "plan",
        """
        DROP TABLE IF EXISTS bench_school, bench_pupil, bench_cat;
        CREATE TEMP TABLE bench_school AS
            SELECT row_number() OVER (ORDER BY id) - 1 AS idx, id AS school_id
            FROM privacy_admin_school WHERE foundation_id = %(foundation)s;
        CREATE TEMP TABLE bench_cat AS
            SELECT c.school_id, row_number() OVER (PARTITION BY c.school_id ORDER BY c.id) AS k,
                   c.id AS category_id, v.id AS version_id
            FROM consent_consentcategory c JOIN consent_questionversion v ON v.category_id = c.id
            JOIN bench_school s ON s.school_id = c.school_id;
        CREATE TEMP TABLE bench_pupil AS
        WITH r AS (
            SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
                   -- Per-pupil counts, drawn here: a random() inside a LATERAL
                   -- call that names no outer column is evaluated only once.
                   20 + floor(random() * 41)::int AS n_attendance,
                   1 + floor(random() * 4)::int AS n_funding,
                   4 + floor(random() * 9)::int AS n_results,
                   floor(random() * 4)::int AS n_conversations,
                   1 + (random() < 0.3)::int AS n_addresses,
                   floor(random() * 3)::int AS n_moves,
                   CASE WHEN random() < 0.25 THEN 1 + floor(random() * 2)::int ELSE 0 END AS n_support,
                   random() < 0.05 AS health, random() < 0.10 AS agreement, random() < 0.05 AS involved,
                   random() < 0.02 AS assigned, random() < 0.20 AS changed_consent, random() AS r_hold
            FROM generate_series(1, %(n)s) g
        ), dated AS (
            SELECT r.*,
                   CASE WHEN r1 < %(leavers)s THEN
                       CASE WHEN r2 < 0.8
                           THEN make_date(extract(year FROM %(as_of)s::date)::int - 1 - floor(r3 * 8)::int, 7, 31)
                           ELSE %(as_of)s::date - (1 + floor(r3 * 8 * 365))::int
                       END
                   END AS left_on
            FROM r
        )
        SELECT (SELECT coalesce(max(id), 0) FROM students_pupil) + g AS pupil_id,
               (SELECT coalesce(max(id), 0) FROM students_guardian) + g AS guardian_id,
               (SELECT coalesce(max(id), 0) FROM students_guardian) + %(n)s + g AS guardian2_id,
               s.school_id,
               left_on,
               CASE WHEN left_on IS NULL THEN ''
                    WHEN r4 < 0.04 THEN 'special' WHEN r4 < 0.80 THEN 'secondary'
                    WHEN r4 < 0.97 THEN 'regular' ELSE 'abroad' END AS destination,
               CASE WHEN left_on IS NULL THEN %(as_of)s::date - floor(r5 * 8 * 365)::int
                    ELSE left_on - (365 + floor(r5 * 7 * 365))::int END AS enrolled_on,
               coalesce(left_on, %(as_of)s::date) AS last_day,
               r5 < 0.6 AS two_guardians,
               n_attendance, n_funding, n_results, n_conversations, n_addresses, n_moves, n_support,
               health, agreement, involved, assigned, changed_consent,
               left_on IS NOT NULL AND r_hold < 0.002 AS held
        FROM dated JOIN bench_school s ON s.idx = g %% (SELECT count(*) FROM bench_school);
        ANALYZE bench_pupil;
        """,
    ),
    (
        "pupils",
        """
        INSERT INTO students_pupil (id, school_id, group_id, pupil_ref, first_name, name_prefix, last_name,
            birth_date, sex, bsn, bsn_hash, year_group, mondzorg_registered, created_at)
        SELECT pupil_id, school_id, NULL, '', 'Kind', '', 'Bench' || pupil_id, enrolled_on - 4 * 365, 'X',
               '', '', CASE WHEN left_on IS NULL THEN 1 + pupil_id %% 8 END, false, now()
        FROM bench_pupil;
        SELECT setval(pg_get_serial_sequence('students_pupil', 'id'), (SELECT max(id) FROM students_pupil));
        """,
    ),
    (
        "guardians",
        """
        INSERT INTO students_guardian (id, first_name, last_name, email, phone, street, house_number, postcode,
            city, bsn, bsn_hash)
        SELECT guardian_id, 'Ouder', 'Bench' || pupil_id, 'ouder' || pupil_id || '@example.org', '0612345678',
               'Benchstraat', '1', '1234AB', 'Schiedam', '', ''
        FROM bench_pupil
        UNION ALL
        SELECT guardian2_id, 'Ouder2', 'Bench' || pupil_id, '', '', '', '', '', '', '', ''
        FROM bench_pupil WHERE two_guardians;
        SELECT setval(pg_get_serial_sequence('students_guardian', 'id'), (SELECT max(id) FROM students_guardian));
        INSERT INTO students_guardianlink (pupil_id, guardian_id, has_authority, relation)
        SELECT pupil_id, guardian_id, true, 'moeder' FROM bench_pupil
        UNION ALL
        SELECT pupil_id, guardian2_id, random() < 0.9, 'vader' FROM bench_pupil WHERE two_guardians;
        """,
    ),
    (
        "enrolment",
        """
        INSERT INTO students_enrolment (pupil_id, application_date, placement_guarantee, enrolled_on, left_on,
            destination, destination_school)
        SELECT pupil_id, enrolled_on - 60, true, enrolled_on, left_on, destination,
               CASE WHEN left_on IS NULL THEN '' ELSE 'Vervolgschool ' || pupil_id %% 500 END
        FROM bench_pupil;
        INSERT INTO students_paperdossier (pupil_id, has_application_form, has_pupil_card, location)
        SELECT pupil_id, true, random() < 0.8, 'archiefkast' FROM bench_pupil;
        INSERT INTO students_enrolmentevent (pupil_id, date, kind, note)
        SELECT pupil_id, enrolled_on - 60, 'application', '' FROM bench_pupil
        UNION ALL SELECT pupil_id, enrolled_on, 'enrolment', '' FROM bench_pupil
        UNION ALL SELECT pupil_id, least(enrolled_on + 365 * k, last_day), 'group_change', 'naar volgende groep'
            FROM bench_pupil CROSS JOIN LATERAL generate_series(1, n_moves) k
        UNION ALL SELECT pupil_id, left_on, 'unenrolment', '' FROM bench_pupil WHERE left_on IS NOT NULL;
        """,
    ),
    (
        "addresses",
        """
        INSERT INTO students_address (pupil_id, street, house_number, postcode, city, phone, valid_from, source,
            created_at)
        SELECT pupil_id, 'Benchstraat', k::text, '1234AB', 'Schiedam', '', enrolled_on + (k - 1) * 400, 'import', now()
        FROM bench_pupil CROSS JOIN LATERAL generate_series(1, n_addresses) k;
        """,
    ),
    (
        "attendance (20-60 each)",
        """
        INSERT INTO students_attendancerecord (pupil_id, date, hours, authorised, reason)
        SELECT pupil_id, last_day - (k * 7 + floor(random() * 7))::int, (1 + floor(random() * 8)) / 2,
               random() < 0.9, 'ziek'
        FROM bench_pupil CROSS JOIN LATERAL generate_series(1, n_attendance) k;
        """,
    ),
    (
        "funding",
        """
        INSERT INTO students_fundingrecord (pupil_id, reference_date, indicator, value)
        SELECT pupil_id, last_day - 365 * k, 'gewicht', '0.3'
        FROM bench_pupil CROSS JOIN LATERAL generate_series(1, n_funding) k;
        """,
    ),
    (
        "substantive",
        """
        INSERT INTO students_progressresult (pupil_id, date, test, subject, score, level)
        SELECT pupil_id, last_day - 180 * k, 'Cito', 'rekenen', '42', 'B'
        FROM bench_pupil CROSS JOIN LATERAL generate_series(1, n_results) k;
        INSERT INTO students_supportneed (pupil_id, since, description)
        SELECT pupil_id, last_day - 300 * k, %(support)s
        FROM bench_pupil CROSS JOIN LATERAL generate_series(1, n_support) k;
        INSERT INTO students_healthnote (pupil_id, date, note, needed_for)
        SELECT pupil_id, last_day - 200, %(health_note)s, %(health_for)s FROM bench_pupil WHERE health;
        INSERT INTO students_agreement (pupil_id, date, text)
        SELECT pupil_id, last_day - 100, %(agreement)s FROM bench_pupil WHERE agreement;
        INSERT INTO students_conversationreport (pupil_id, date, participants, report, author_id)
        SELECT pupil_id, last_day - 120 * k, %(participants)s, %(report)s, %(user)s
        FROM bench_pupil CROSS JOIN LATERAL generate_series(1, n_conversations) k;
        INSERT INTO students_document (pupil_id, conversation_id, filename, content_type, size, content,
            uploaded_at, uploaded_by_id)
        SELECT c.pupil_id, c.id, %(doc_name)s, 'application/pdf', 3000, %(doc_content)s, now(), %(user)s
        FROM students_conversationreport c JOIN bench_pupil b ON b.pupil_id = c.pupil_id
        WHERE random() < 0.3;
        INSERT INTO students_involvement (user_id, pupil_id, reason, valid_from, valid_until, created_by_id,
            ended_recorded_at)
        SELECT %(user)s, pupil_id, 'begeleiding', last_day - 400, last_day - 30, %(user)s, NULL
        FROM bench_pupil WHERE involved;
        INSERT INTO students_assignment (user_id, school_id, group_id, record_types, valid_from, valid_until,
            created_by_id, ended_recorded_at)
        SELECT %(user)s, school_id, NULL, '[]'::jsonb, %(as_of)s::date - 400, %(as_of)s::date - 300, %(user)s, NULL
        FROM bench_school;
        INSERT INTO students_assignment_pupils (assignment_id, pupil_id)
        SELECT a.id, b.pupil_id FROM bench_pupil b
        JOIN students_assignment a ON a.school_id = b.school_id AND a.user_id = %(user)s
        WHERE b.assigned;
        """,
    ),
    (
        "consent answers",
        """
        INSERT INTO consent_consentanswer (pupil_id, category_id, guardian_id, value, version_id, channel,
            entered_by_id, scan_id, at)
        SELECT b.pupil_id, c.category_id, b.guardian_id, CASE WHEN random() < 0.8 THEN 'given' ELSE 'refused' END,
               c.version_id, 'portal', NULL, NULL, (b.enrolled_on + n * 200)::timestamptz
        FROM bench_pupil b JOIN bench_cat c ON c.school_id = b.school_id
        CROSS JOIN LATERAL generate_series(0, b.changed_consent::int) n;
        """,
    ),
    (
        "legal holds",
        """
        INSERT INTO retention_legalhold (pupil_id, reason, set_by_id, set_at, lifted_at, lifted_by_id)
        SELECT pupil_id, %(hold_reason)s, %(user)s, now(),
               CASE WHEN pupil_id %% 2 = 0 THEN now() END, CASE WHEN pupil_id %% 2 = 0 THEN %(user)s END
        FROM bench_pupil WHERE held;
        """,
    ),
]


# --- the hand-written purge -------------------------------------------------------


def _months(rules, category, special):
    """Months of the rule that applies, None when nothing is ever due (read
    from the rules table, as an administrator writing SQL by hand would)."""
    rule = rules.get((category, "special")) if special else None
    rule = rule or rules.get((category, ""))
    if rule is None or rule["permanent"]:
        return None
    return rule["years"] * 12 + rule["months"]


def hand_sql(cursor, as_of):
    """The bulk DELETE statements that remove exactly what the engine removes
    on `as_of`: [(table, sql, params)], in an order that respects foreign keys.
    The unenrolment row goes last and waits for the longest term, as in the
    engine; legal holds and contact data stay."""
    cursor.execute("SELECT category, condition, years, months, permanent FROM retention_retentionrule")
    rules = {
        (cat, cond): {"years": years, "months": months, "permanent": permanent}
        for cat, cond, years, months, permanent in cursor.fetchall()
    }
    categories = ["attendance", "funding", "consent", "substantive", "disclosures", "requests", "enrolment"]
    terms = {c: (_months(rules, c, False), _months(rules, c, True)) for c in categories}
    for flag in (0, 1):
        # The anchor (enrolment) waits for every other term (engine._cutoffs).
        longest = [terms[c][flag] for c in categories if terms[c][flag] is not None]
        if terms["enrolment"][flag] is not None:
            terms["enrolment"] = tuple(max(longest) if i == flag else terms["enrolment"][i] for i in (0, 1))

    def due(category, alias="e"):
        regular, special = terms[category]
        branches = []
        if regular is not None:
            branches.append(
                f"({alias}.destination <> 'special' AND {alias}.left_on + make_interval(months => {int(regular)}) "
                "< %(as_of)s::date)"
            )
        if special is not None:
            branches.append(
                f"({alias}.destination = 'special' AND {alias}.left_on + make_interval(months => {int(special)}) "
                "< %(as_of)s::date)"
            )
        if not branches:
            return "false"
        return (
            f"{alias}.left_on IS NOT NULL AND ({' OR '.join(branches)}) AND NOT EXISTS "  # noqa: S608 (fixed text)
            f"(SELECT 1 FROM retention_legalhold h WHERE h.pupil_id = {alias}.pupil_id AND h.lifted_at IS NULL)"
        )

    def by_pupil(table, category, extra=""):
        return (
            table,
            f"DELETE FROM {table} t USING students_enrolment e "  # noqa: S608 (fixed table names)
            f"WHERE t.pupil_id = e.pupil_id AND {due(category)}"
            f"{extra}",
        )

    scans = (
        " AND NOT EXISTS (SELECT 1 FROM consent_consentanswer a WHERE a.scan_id = t.id)"
        " AND NOT EXISTS (SELECT 1 FROM consent_publicationpupil pp WHERE pp.one_off_scan_id = t.id)"
    )
    statements = [
        by_pupil("students_attendancerecord", "attendance"),
        by_pupil("students_fundingrecord", "funding"),
        by_pupil("consent_consentanswer", "consent"),
        by_pupil("consent_publicationpupil", "consent"),
        by_pupil("students_supportneed", "substantive"),
        by_pupil("students_healthnote", "substantive"),
        by_pupil("students_progressresult", "substantive"),
        by_pupil("students_document", "substantive", scans),
        by_pupil("students_conversationreport", "substantive"),
        by_pupil("students_agreement", "substantive"),
        by_pupil("students_assignment_pupils", "substantive"),
        by_pupil("students_involvement", "substantive"),
        by_pupil("disclosures_disclosurepupil", "disclosures"),
        by_pupil("rights_parentrequest", "requests"),
        by_pupil("students_enrolmentevent", "enrolment"),
        by_pupil("students_paperdossier", "enrolment"),
        ("students_enrolment", f"DELETE FROM students_enrolment e WHERE {due('enrolment')}"),  # noqa: S608
    ]
    return [(table, sql, {"as_of": as_of}) for table, sql in statements]


def run_hand_sql(cursor, as_of):
    """Run the statements in one transaction (the caller's); {table: rows}."""
    deleted = {}
    for table, sql, params in hand_sql(cursor, as_of):
        cursor.execute(sql, params)
        deleted[table] = deleted.get(table, 0) + cursor.rowcount
    return deleted


# --- measuring ----------------------------------------------------------------------


def pupil_tables():
    """Every table of a model (or many-to-many link) linked to a pupil."""
    from django.apps import apps

    from privacy_admin.records import pupil_linked_models

    pupil = apps.get_model("students", "Pupil")
    tables = set()
    for model in pupil_linked_models():
        tables.add(model._meta.db_table)
        for field in model._meta.many_to_many:
            if field.related_model is pupil:
                tables.add(field.remote_field.through._meta.db_table)
    tables.add(apps.get_model("students", "Guardian")._meta.db_table)
    return sorted(tables)


def _counts(cursor, tables):
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (table names from the app registry)
        counts[table] = cursor.fetchone()[0]
    return counts


class Server:
    """Creates and drops the scratch databases on the server of DATABASE_URL."""

    def __init__(self, url, prefix):
        import dj_database_url

        self.url = url
        self.prefix = prefix
        self.config = dj_database_url.parse(url)

    def url_for(self, name):
        c = self.config
        auth = c["USER"] + (f":{c['PASSWORD']}" if c["PASSWORD"] else "")
        return f"postgres://{auth}@{c['HOST'] or 'localhost'}:{c['PORT'] or 5432}/{name}"

    def connect(self, name="postgres", autocommit=True):
        import psycopg

        c = self.config
        return psycopg.connect(
            dbname=name,
            user=c["USER"],
            password=c["PASSWORD"] or None,
            host=c["HOST"] or None,
            port=c["PORT"] or None,
            autocommit=autocommit,
        )

    def name(self, suffix):
        return f"{self.prefix}_{suffix}"

    def drop(self, *suffixes):
        with self.connect() as conn:
            for suffix in suffixes:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name(suffix)}" WITH (FORCE)')

    def create(self, suffix, template=None):
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name(suffix)}" WITH (FORCE)')
            extra = f' TEMPLATE "{self.name(template)}"' if template else ""
            conn.execute(f'CREATE DATABASE "{self.name(suffix)}"{extra}')

    def max_wal_size(self, value):
        """Set the server's max_wal_size (ALTER SYSTEM, reload) for this run;
        returns a function that puts back what postgresql.auto.conf had."""
        with self.connect() as conn:
            before = conn.execute(
                "SELECT setting FROM pg_file_settings WHERE name = 'max_wal_size' "
                "AND sourcefile LIKE %s ORDER BY seqno DESC LIMIT 1",
                ["%postgresql.auto.conf"],
            ).fetchone()
            conn.execute(f"ALTER SYSTEM SET max_wal_size = '{value}'")
            conn.execute("SELECT pg_reload_conf()")

        def restore():
            with self.connect() as conn:
                if before is None:
                    conn.execute("ALTER SYSTEM RESET max_wal_size")
                else:
                    conn.execute(f"ALTER SYSTEM SET max_wal_size = '{before[0]}'")
                conn.execute("SELECT pg_reload_conf()")

        return restore

    def setting(self, name):
        with self.connect() as conn:
            return conn.execute("SELECT current_setting(%s)", [name]).fetchone()[0]

    def size(self, suffix):
        with self.connect() as conn:
            return conn.execute("SELECT pg_database_size(%s)", [self.name(suffix)]).fetchone()[0]


def _use_database(name):
    """Point Django's connection at another database of the same server."""
    from django.db import connections

    connections["default"].close()
    connections["default"].settings_dict["NAME"] = name


def _purge_in_child(server, suffix, as_of, batch_size, memory):
    """Run the engine's purge in a fresh process; its measurements as a dict."""
    env = {**os.environ, "DATABASE_URL": server.url_for(server.name(suffix))}
    args = [sys.executable, str(pathlib.Path(__file__).resolve()), "--child", as_of.isoformat(), "--memory", memory]
    if batch_size is not None:
        args += ["--batch-size", str(batch_size)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"the engine's purge failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(as_of, batch_size, memory):
    """In the child: purge through the engine and report time and memory."""
    import gc
    import resource
    import tracemalloc

    from django.db import connection

    from retention import engine

    connection.ensure_connection()
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if memory == "tracemalloc":
        tracemalloc.start()
    started = time.perf_counter()
    result = engine.purge(as_of, **({"batch_size": batch_size} if batch_size is not None else {}))
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if memory == "tracemalloc" else None
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_before_kb": rss_before,
                "rss_peak_kb": rss_after,
                "tracemalloc_peak": peak,
                "due": result.due,
                "purged": result.purged,
                "held": result.held,
            }
        )
    )


def _settle(server, suffix):
    """Before each timed run: a CHECKPOINT and the OS's write-back of the
    freshly copied database, so neither run pays for the copy's (or the
    other run's) writes: both start on equal footing."""
    with server.connect(server.name(suffix)) as conn:
        conn.execute("CHECKPOINT")
    os.sync()


def _server_stats(server):
    """WAL written and checkpoints the server forced so far: a run that
    writes more WAL than max_wal_size pays for checkpoints (and full-page
    images) halfway, which is the server's tuning, not the purge's."""
    with server.connect() as conn:
        wal = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()[0]
        forced = conn.execute("SELECT checkpoints_req FROM pg_stat_bgwriter").fetchone()[0]
    return int(wal), int(forced)


def _delta(before, after):
    return {"wal_mb": (after[0] - before[0]) / 2**20, "checkpoints_forced": after[1] - before[1]}


def _after(server, suffix, tables):
    from django.db import connection

    _use_database(server.name(suffix))
    with connection.cursor() as cursor:
        counts = _counts(cursor, tables)
    connection.close()
    return counts


def _sql_purge(server, suffix, as_of):
    with server.connect(server.name(suffix), autocommit=False) as conn:
        cursor = conn.cursor()
        started = time.perf_counter()
        run_hand_sql(cursor, as_of)
        conn.commit()
        return time.perf_counter() - started


def _wal_text(run):
    return f"WAL {run['wal_mb']:,.0f} MB, {run['checkpoints_forced']} forced checkpoints"


def measure(server, pupils, as_of, args, out):
    """Build `pupils`, then per round purge one fresh copy with the engine
    and one with SQL; the best round of each counts (the machine is shared)."""
    from django.db import connection

    out.write(f"\n== {pupils:,} pupils, as of {as_of.isoformat()} ==\n")
    server.create("build", template="schema")
    _use_database(server.name("build"))
    started = time.perf_counter()
    build(pupils, as_of, seed=args.seed, stdout=out)
    connection.close()
    with server.connect(server.name("build")) as conn:
        conn.execute("VACUUM ANALYZE")
    build_seconds = time.perf_counter() - started
    out.write(f"  built in {build_seconds:.0f} s; database {server.size('build') / 2**30:.2f} GiB\n")
    _use_database(server.name("build"))
    tables = pupil_tables()
    with connection.cursor() as cursor:
        before = _counts(cursor, tables)
    connection.close()

    engine_runs, sql_runs = [], []
    after_engine = after_sql = None
    for round_ in range(1, args.repeat + 1):
        server.create("engine", template="build")
        _settle(server, "engine")
        out.write(f"  round {round_}: (a) engine.purge ... ")
        out.flush()
        stats = _server_stats(server)
        engine_runs.append(_purge_in_child(server, "engine", as_of, args.batch_size, "rss"))
        engine_runs[-1].update(_delta(stats, _server_stats(server)))
        out.write(f"{engine_runs[-1]['seconds']:.1f} s ({_wal_text(engine_runs[-1])}); ")
        if after_engine is None:
            after_engine = _after(server, "engine", tables)
        if not args.keep:
            server.drop("engine")
        server.create("sql", template="build")
        _settle(server, "sql")
        out.write("(b) hand-written SQL ... ")
        out.flush()
        stats = _server_stats(server)
        sql_runs.append(_sql_purge(server, "sql", as_of))
        sql_wal = _delta(stats, _server_stats(server))
        out.write(f"{sql_runs[-1]:.1f} s ({_wal_text(sql_wal)})\n")
        if after_sql is None:
            after_sql = _after(server, "sql", tables)
        if not args.keep:
            server.drop("sql")

    tracemalloc_peak = None
    if args.tracemalloc:
        out.write("  (a') engine.purge under tracemalloc (not timed) ...\n")
        out.flush()
        server.create("memory", template="build")
        _settle(server, "memory")
        tracemalloc_peak = _purge_in_child(server, "memory", as_of, args.batch_size, "tracemalloc")["tracemalloc_peak"]
        if not args.keep:
            server.drop("memory")
    if not args.keep:
        server.drop("build")

    best = min(engine_runs, key=lambda run: run["seconds"])
    return {
        "pupils": pupils,
        "build_seconds": build_seconds,
        "rows_before": before,
        "deleted_engine": {t: before[t] - after_engine[t] for t in tables},
        "deleted_sql": {t: before[t] - after_sql[t] for t in tables},
        "engine_seconds": best["seconds"],
        "sql_seconds": min(sql_runs),
        "engine_rounds": [run["seconds"] for run in engine_runs],
        "engine_wal": [{k: run[k] for k in ("wal_mb", "checkpoints_forced")} for run in engine_runs],
        "sql_rounds": sql_runs,
        "rss_delta_mb": max(run["rss_peak_kb"] - run["rss_before_kb"] for run in engine_runs) / 1024,
        "rss_peak_mb": max(run["rss_peak_kb"] for run in engine_runs) / 1024,
        "tracemalloc_peak_mb": tracemalloc_peak / 2**20 if tracemalloc_peak is not None else None,
        "due": best["due"],
        "purged": best["purged"],
        "held": best["held"],
    }


def _verdict(ok):
    return "PASS" if ok else "FAIL"


def report(results, out):
    """Print the figures beside the targets; True when rows agree."""
    agree = True
    for r in results:
        out.write(f"\n-- {r['pupils']:,} pupils (built in {r['build_seconds']:.0f} s) --\n")
        out.write(f"  {'table':<30} {'rows':>12} {'(a) engine':>12} {'(b) SQL':>12}\n")
        for table in sorted(r["rows_before"]):
            a, b = r["deleted_engine"][table], r["deleted_sql"][table]
            if not (a or b or r["rows_before"][table]):
                continue
            mark = "" if a == b else "   <-- differs"
            agree = agree and a == b
            out.write(f"  {table:<30} {r['rows_before'][table]:>12,} {a:>12,} {b:>12,}{mark}\n")
        total_a, total_b = sum(r["deleted_engine"].values()), sum(r["deleted_sql"].values())
        out.write(f"  {'rows deleted':<30} {'':>12} {total_a:>12,} {total_b:>12,}\n")
        out.write(f"  pupils due per category: {r['due']}; held: {r['held']}\n")
        ratio = r["engine_seconds"] / r["sql_seconds"] if r["sql_seconds"] else float("inf")
        rounds = ""
        if len(r["engine_rounds"]) > 1:
            a = ", ".join(f"{x:.1f}" for x in r["engine_rounds"])
            b = ", ".join(f"{x:.1f}" for x in r["sql_rounds"])
            rounds = f" (best of rounds: engine {a}; SQL {b})"
        out.write(f"  seconds: (a) engine {r['engine_seconds']:.1f}, (b) SQL {r['sql_seconds']:.1f}{rounds}\n")
        out.write(f"  ratio a/b: {ratio:.2f}  target <= {TARGET_RATIO}  {_verdict(ratio <= TARGET_RATIO)}\n")
        memory = (
            f"  peak memory of the purge: {r['rss_delta_mb']:.0f} MB "
            f"(getrusage ru_maxrss of the purging process, growth during the purge; "
            f"process peak {r['rss_peak_mb']:.0f} MB)"
        )
        if r["tracemalloc_peak_mb"] is not None:
            memory += f"; tracemalloc peak {r['tracemalloc_peak_mb']:.0f} MB"
        out.write(memory + "\n")
        if r["pupils"] >= TARGET_MEMORY_AT:
            out.write(
                f"  memory target < {TARGET_MEMORY_MB} MB at {TARGET_MEMORY_AT:,} pupils: "
                f"{_verdict(r['rss_peak_mb'] < TARGET_MEMORY_MB)} (process peak)\n"
            )
        else:
            out.write(
                f"  memory target < {TARGET_MEMORY_MB} MB applies at {TARGET_MEMORY_AT:,} pupils "
                "(run --pupils 1000000)\n"
            )
        same = all(r["deleted_engine"][t] == r["deleted_sql"][t] for t in r["rows_before"])
        out.write(f"  rows agree: {_verdict(same)}\n")
    if len(results) == 2:
        n, double = results
        scaling = double["engine_seconds"] / n["engine_seconds"] if n["engine_seconds"] else float("inf")
        out.write(
            f"\nengine time at N={n['pupils']:,}: {n['engine_seconds']:.1f} s, at 2N={double['pupils']:,}: "
            f"{double['engine_seconds']:.1f} s; ratio {scaling:.2f}  target <= {TARGET_SCALING}  "
            f"{_verdict(scaling <= TARGET_SCALING)}\n"
        )
    return agree


def _parse(argv):
    parser = argparse.ArgumentParser(
        prog="bench/retention.py",
        description=(
            "Benchmark the retention purge on PostgreSQL: build N pupils with realistic records in a "
            "scratch database, then time (a) retention.engine.purge and (b) hand-written bulk SQL DELETEs of "
            "the same rows on an identical copy; again at 2N. Prints rows deleted per table (checked equal), "
            "seconds, the ratio a/b, the purge's peak memory and the scaling N -> 2N, each against its target "
            f"(a/b <= {TARGET_RATIO}; < {TARGET_MEMORY_MB} MB at {TARGET_MEMORY_AT:,} pupils; "
            f"time(2N) <= {TARGET_SCALING} x time(N)). DATABASE_URL must point to PostgreSQL; only its server "
            "is used, with a superuser (CREATE DATABASE, session_replication_role). Exit status 1 when the "
            "rows deleted differ. Not part of the test suite."
        ),
    )
    parser.add_argument("--pupils", type=int, default=100_000, help="N, the number of pupils to build (default 100000)")
    parser.add_argument(
        "--as-of",
        type=datetime.date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="the purge date; leavers are spread over the 8 years before it (default: today)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="the engine's pupils per transaction (default: the engine's own)"
    )
    parser.add_argument("--no-double", action="store_true", help="measure at N only, not also at 2N")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of (a) and (b) per size, each on fresh copies; the fastest of each counts "
        "(default 1; use 2-3 on a shared machine)",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also purge a third copy under tracemalloc and print its Python-heap peak (slower; not timed)",
    )
    parser.add_argument(
        "--seed", type=float, default=0.42, help="seed of PostgreSQL's random() for the build (default 0.42)"
    )
    parser.add_argument(
        "--prefix", default=DEFAULT_PREFIX, help=f"name prefix of the scratch databases (default {DEFAULT_PREFIX})"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the scratch databases (the last build and its purged copies) for a closer look",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    parser.add_argument(
        "--max-wal-size",
        metavar="SIZE",
        help="set the server's max_wal_size (e.g. 16GB) for the run and put it back after; both (a) and (b) "
        "run with it (default: leave the server as it is)",
    )
    parser.add_argument("--child", metavar="AS_OF", help=argparse.SUPPRESS)
    parser.add_argument("--memory", default="rss", choices=["rss", "tracemalloc"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pupils < 1 or (args.batch_size is not None and args.batch_size < 1) or args.repeat < 1:
        parser.error("--pupils, --batch-size and --repeat must be at least 1")
    if args.max_wal_size is not None and not re.fullmatch(r"[1-9][0-9]*(MB|GB|TB)", args.max_wal_size):
        parser.error("--max-wal-size takes a size such as 4GB or 16384MB")
    return args


def _setup_django():
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacy_admin.settings")
    django.setup()


def main(argv=None):
    args = _parse(argv)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.stderr.write(
            "bench/retention.py measures PostgreSQL only: set DATABASE_URL=postgres://user@host:5432/dbname "
            "(only the server is used; the bench creates and drops its own databases "
            f"{DEFAULT_PREFIX}_*). DATABASE_URL is {'unset' if not url else 'not PostgreSQL'}.\n"
        )
        return 2
    if args.child:
        _setup_django()
        child(datetime.date.fromisoformat(args.child), args.batch_size, args.memory)
        return 0
    server = Server(url, args.prefix)
    # Django starts on the schema database, migrated once; every build is a copy of it.
    server.create("schema")
    os.environ["DATABASE_URL"] = server.url_for(server.name("schema"))
    _setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    as_of = args.as_of or timezone.localdate()
    out = sys.stdout
    out.write(f"migrating {server.name('schema')} ...\n")
    call_command("migrate", verbosity=0)
    connection.close()
    results = []
    started = time.perf_counter()
    restore = server.max_wal_size(args.max_wal_size) if args.max_wal_size else None
    out.write(
        f"server: max_wal_size {server.setting('max_wal_size')}"
        f"{' (set for this run)' if restore else ''}, shared_buffers {server.setting('shared_buffers')}\n"
    )
    try:
        sizes = [args.pupils] if args.no_double else [args.pupils, 2 * args.pupils]
        for pupils in sizes:
            results.append(measure(server, pupils, as_of, args, out))
    finally:
        connection.close()
        if restore:
            restore()
        if not args.keep:
            server.drop("build", "engine", "sql", "memory", "schema")
    agree = report(results, out)
    out.write(f"\nbench finished in {time.perf_counter() - started:.0f} s\n")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"as_of": as_of.isoformat(), "results": results}, indent=2))
    return 0 if agree else 1


if __name__ == "__main__":
    # Run as a script, Python puts bench/ first on the path, where this file
    # would shadow the `retention` app: use the project root instead.
    if sys.path and pathlib.Path(sys.path[0]).resolve() == ROOT / "bench":
        sys.path[0] = str(ROOT)
    else:
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
