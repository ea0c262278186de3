"""The benchmark (bench/retention.py, issue 7 item 9) at a tiny size: its
builder makes the records it promises, and its hand-written SQL deletes
exactly the rows the engine deletes (R-RET-5, R-RET-6), so the bench compares
like with like."""

import datetime

import pytest
from django.db import connection, transaction

from bench.retention import _counts, build, pupil_tables, run_hand_sql
from retention import engine

pytestmark = pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="the bench builds with PostgreSQL's generate_series; run with DATABASE_URL=postgres://... (CI does)",
)

AS_OF = datetime.date(2026, 9, 1)


@pytest.mark.django_db
def test_bench_builder_and_hand_sql_agree_with_the_engine():
    """R-RET-5, R-RET-6: 200 pupils with realistic records; the SQL baseline
    and engine.purge remove the same rows from every table."""
    added = build(200, AS_OF, seed=0.1)
    assert added["students_pupil"] == added["students_enrolment"] == added["students_paperdossier"] == 200
    assert 20 * 200 <= added["students_attendancerecord"] <= 60 * 200
    assert added["consent_consentanswer"] >= 4 * 200 and added["students_progressresult"] >= 4 * 200
    assert added["students_conversationreport"] and added["students_document"]

    tables = pupil_tables()
    with connection.cursor() as cursor:
        before = _counts(cursor, tables)
        with transaction.atomic():
            run_hand_sql(cursor, AS_OF)
            by_sql = {t: before[t] - n for t, n in _counts(cursor, tables).items()}
            transaction.set_rollback(True)
        assert _counts(cursor, tables) == before
        result = engine.purge(AS_OF)
        by_engine = {t: before[t] - n for t, n in _counts(cursor, tables).items()}
    assert by_engine == by_sql
    for table in ("students_attendancerecord", "students_supportneed", "students_enrolment", "consent_consentanswer"):
        assert by_engine[table] > 0, table
    assert by_engine["students_pupil"] == by_engine["students_address"] == by_engine["students_guardian"] == 0
    assert result.purged["substantive"] > result.purged["enrolment"] > 0
