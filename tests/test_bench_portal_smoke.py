"""The portal benchmark (bench/portal.py, issue 10 item 1) at a tiny size: its
builder makes the records it promises, every page it measures answers 200,
and each page sends the same number of queries for a school of 24 pupils as
for one of 16 (no query per pupil), at most 20."""

import pytest
from django.db import connection

from bench.portal import PAGES, TARGET_MAX_QUERIES, build, measure_school

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the bench builds with PostgreSQL's generate_series and COPY; set DATABASE_URL=postgres://... (CI does)",
)


@pytest.mark.django_db
def test_bench_builder_and_pages_at_two_sizes():
    built = build([24, 16], audit_per_pupil=4, seed=0.1)
    rows = built.rows
    assert rows["students_pupil"] == 24 + 16 + 6 + 4  # current pupils and 25% leavers
    assert rows["students_enrolment"] == rows["students_pupil"]
    assert rows["students_attendancerecord"] >= 20 * rows["students_pupil"]
    assert rows["consent_consentanswer"] and rows["disclosures_disclosurepupil"] and rows["rights_parentrequest"]
    assert rows["breaches_breach"] and rows["privacy_admin_auditevent"] >= 2 * 250

    large = measure_school(built.school_of_size(24), repeat=1, warmup=1)
    small = measure_school(built.school_of_size(16), repeat=1, warmup=1)
    for label, _name, _role, _needs in PAGES:
        assert large[label]["queries"] == small[label]["queries"], label
        assert large[label]["queries"] <= TARGET_MAX_QUERIES, (label, large[label]["queries"])
