"""Retention: the arithmetic, the purge, legal holds, the command and the
nightly job (R-RET-1..6, S-26, S-27, S-28)."""

import datetime
import io
import json

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from privacy_admin.auditlog import audit_record
from privacy_admin.models import AuditEvent, JobRun
from privacy_admin.records import RetentionCategory, pupil_linked_models, retention_category_of
from retention import engine
from retention.actions import legal_hold_lift, legal_hold_set
from retention.models import LegalHold, PurgeRecord, PurgeRun, RetentionLock, RetentionRule, RetentionSettings
from retention.tasks import nightly_retention
from students.models import (
    Address,
    Assignment,
    AttendanceRecord,
    ConversationReport,
    Enrolment,
    FundingRecord,
    Guardian,
    Pupil,
    SupportNeed,
)
from tests.retention.conftest import LEFT, make_leaver, sentinel
from tests.students.conftest import make_pupil

D = datetime.date
PURGED_LATER = ["enrolment", "attendance", "funding", "consent"]


def rule(years=0, months=0, permanent=False, condition=""):
    return RetentionRule(category="x", years=years, months=months, permanent=permanent, condition=condition)


def counts(as_of, **kwargs):
    return engine.due(as_of, **kwargs).counts()


# --- arithmetic (R-RET-5) ----------------------------------------------------


def test_due_date_example_r_ret_5():
    """R-RET-5: left 2023-07-31 regular → substantive 2025-08-01, special →
    2026-08-01; enrolment, attendance, funding → 2028-08-01; contact never."""
    assert engine.due_date(LEFT, rule(years=2)) == D(2025, 8, 1)
    assert engine.due_date(LEFT, rule(years=3, condition="special")) == D(2026, 8, 1)
    assert engine.due_date(LEFT, rule(years=5)) == D(2028, 8, 1)
    assert engine.due_date(LEFT, rule(permanent=True)) is None
    assert engine.due_date(None, rule(years=2)) is None
    # Months, and 29 February plus a year.
    assert engine.due_date(D(2024, 1, 31), rule(months=1)) == D(2024, 3, 1)
    assert engine.due_date(D(2024, 2, 29), rule(years=1)) == D(2025, 3, 1)


@pytest.mark.parametrize("months", [0, 1, 24, 36, 60, 7])
def test_cutoff_agrees_with_due_date(months):
    """The database filter (left_on <= cutoff) and due_date() agree every day."""
    r = rule(months=months)
    start = D(2023, 1, 1)
    for offset in range(0, 800, 3):
        as_of = start + datetime.timedelta(days=offset)
        cutoff = engine._last_due_left_on(as_of, months)
        assert engine.due_date(cutoff, r) <= as_of
        assert engine.due_date(cutoff + datetime.timedelta(days=1), r) > as_of


def test_seeded_rules(db):
    """R-RET-1 contact permanent; R-RET-2 enrolment, attendance 5 years;
    R-RET-3 funding 5 years; R-RET-4 substantive 2 years, 3 after special
    education; consent 5 years (our choice)."""
    seeded = {(r.category, r.condition): (r.years, r.months, r.permanent) for r in RetentionRule.objects.all()}
    assert seeded == {
        ("contact", ""): (0, 0, True),
        ("enrolment", ""): (5, 0, False),
        ("attendance", ""): (5, 0, False),
        ("funding", ""): (5, 0, False),
        ("substantive", ""): (2, 0, False),
        ("substantive", "special"): (3, 0, False),
        ("consent", ""): (5, 0, False),
        ("disclosures", ""): (5, 0, False),
        ("requests", ""): (5, 0, False),
    }


def test_due_to_the_day(school_a, staff_user):
    """R-RET-1..5: the day before each due date nothing of that category is
    due, on the day itself it is; contact data never."""
    make_leaver(school_a, user=staff_user)
    assert counts(D(2025, 7, 31))["substantive"] == 0
    assert counts(D(2025, 8, 1))["substantive"] == 1
    before, on = counts(D(2028, 7, 31)), counts(D(2028, 8, 1))
    for category in PURGED_LATER:
        assert before[category] == 0, category
        assert on[category] == 1, category
    assert counts(D(2099, 1, 1))["contact"] == 0


def test_special_education_three_years(school_a, staff_user):
    """R-RET-4, R-RET-5: after special education the substantive part is due
    a year later, on 2026-08-01."""
    make_leaver(school_a, destination="special", user=staff_user)
    assert counts(D(2025, 8, 1))["substantive"] == 0
    assert counts(D(2026, 7, 31))["substantive"] == 0
    assert counts(D(2026, 8, 1))["substantive"] == 1


def test_pupil_still_enrolled_is_never_due(school_a):
    """R-RET-5: terms count from unenrolment; no unenrolment, nothing due."""
    pupil = make_pupil(school_a)
    SupportNeed.objects.create(pupil=pupil, since=D(2010, 1, 1), description="x")
    assert sum(counts(D(2099, 1, 1)).values()) == 0


def test_school_filter(school_a, school_b, staff_user):
    make_leaver(school_a, user=staff_user)
    assert counts(D(2025, 8, 1), school=school_b)["substantive"] == 0
    assert counts(D(2025, 8, 1), school=school_a)["substantive"] == 1


# --- the purge ---------------------------------------------------------------


def test_purge_substantive_keeps_the_rest(school_a, staff_user):
    """R-RET-4: on 2025-08-01 the substantive part goes; enrolment,
    attendance, funding, consent and contact data stay. An assignment naming
    the pupil loses the pupil, not itself."""
    pupil = make_leaver(school_a, user=staff_user)
    other = make_pupil(school_a, first="Stays")
    assignment = Assignment.objects.get(pupils=pupil)
    assignment.pupils.add(other)
    result = engine.purge(D(2025, 8, 1))
    assert result.purged["substantive"] == 1
    assert not SupportNeed.objects.filter(pupil=pupil).exists()
    assert not ConversationReport.objects.filter(pupil=pupil).exists()
    assert list(Assignment.objects.get(pk=assignment.pk).pupils.all()) == [other]
    assert AttendanceRecord.objects.filter(pupil=pupil).exists()
    assert FundingRecord.objects.filter(pupil=pupil).exists()
    assert pupil.consent_answers.exists()
    assert Enrolment.objects.filter(pupil=pupil, left_on=LEFT).exists()
    assert Address.objects.filter(pupil=pupil).exists()


def test_second_run_purges_nothing(school_a, staff_user):
    """S-27, S-28: idempotent; the second run finds nothing due."""
    make_leaver(school_a, user=staff_user)
    first = engine.purge(D(2028, 8, 1))
    assert first.purged == {
        "contact": 0,
        "disclosures": 0,
        "requests": 0,
        **dict.fromkeys(["substantive", *PURGED_LATER], 1),
    }
    records = PurgeRecord.objects.count()
    second = engine.purge(D(2028, 8, 1))
    assert sum(second.due.values()) == 0
    assert sum(second.purged.values()) == 0
    assert PurgeRecord.objects.count() == records


def test_legal_hold_stops_the_purge_until_lifted(school_a, staff_user, director_a):
    """R-RET-6: a held pupil is untouched and reported as held; once lifted,
    the next run purges."""
    held = make_leaver(school_a, user=staff_user)
    free = make_leaver(school_a, user=staff_user)
    hold = legal_hold_set(pupil=held, reason="geschil met ouders", acting_user=director_a)
    result = engine.purge(D(2025, 8, 1))
    assert result.held == 1
    assert result.purged["substantive"] == 1
    assert SupportNeed.objects.filter(pupil=held).exists()
    assert not SupportNeed.objects.filter(pupil=free).exists()
    assert AuditEvent.objects.filter(action="legal_hold_set", pupil_id=held.pk).exists()

    legal_hold_lift(hold=hold, acting_user=director_a)
    legal_hold_lift(hold=hold, acting_user=director_a)
    assert AuditEvent.objects.filter(action="legal_hold_lift", pupil_id=held.pk).count() == 1
    result = engine.purge(D(2025, 8, 1))
    assert result.held == 0
    assert result.purged["substantive"] == 1
    assert not SupportNeed.objects.filter(pupil=held).exists()


def test_legal_holds_are_never_purged(school_a, staff_user, director_a):
    """S-26: LegalHold links to a pupil, so it declares a category; the engine
    still never deletes it."""
    pupil = make_leaver(school_a, user=staff_user)
    hold = legal_hold_set(pupil=pupil, reason="x", acting_user=director_a)
    legal_hold_lift(hold=hold, acting_user=director_a)
    engine.purge(D(2040, 1, 1))
    assert LegalHold.objects.filter(pk=hold.pk).exists()
    assert Pupil.objects.filter(pk=pupil.pk).exists()
    assert retention_category_of(LegalHold) in RetentionCategory.values
    assert LegalHold in pupil_linked_models()


def test_failed_run_resumes_and_leaves_nothing_half_deleted(school_a, staff_user, monkeypatch):
    """S-27: the third batch fails after deleting some rows; its transaction
    rolls back whole, the first two stay done, the next run finishes."""
    pupils = [make_leaver(school_a, user=staff_user) for _ in range(4)]
    real = engine.purge_batch
    calls = {"n": 0}

    def failing(category, ids):
        calls["n"] += 1
        rows = real(category, ids)
        if calls["n"] == 3:
            raise RuntimeError("worker died")
        return rows

    monkeypatch.setattr(engine, "purge_batch", failing)
    with pytest.raises(RuntimeError):
        engine.purge(D(2025, 8, 1), batch_size=1)
    run = PurgeRun.objects.get()
    assert run.status == PurgeRun.Status.FAILED
    assert run.error == "RuntimeError"
    assert PurgeRecord.objects.filter(run=run).count() == 2
    left = [p for p in pupils if SupportNeed.objects.filter(pupil=p).exists()]
    assert len(left) == 2
    for pupil in left:  # all of its substantive rows, not some
        assert ConversationReport.objects.filter(pupil=pupil).count() == 1
        assert pupil.documents.count() == 1
        assert pupil.involvements.count() == 1
    assert RetentionLock.objects.get(pk=1).holder == ""

    monkeypatch.setattr(engine, "purge_batch", real)
    result = engine.purge(D(2025, 8, 1), batch_size=1)
    assert result.due["substantive"] == 2
    assert result.purged["substantive"] == 2
    assert not SupportNeed.objects.exists()


def test_deletion_record_holds_no_content(school_a, staff_user, director_a):
    """R-RET-6: the record says category, rule, how many, when and by whom;
    never the removed content (nor does the audit log or job record)."""
    pupil = make_leaver(school_a, user=staff_user)
    text = sentinel("substantive", pupil)
    engine.purge(D(2025, 8, 1), acting_user=director_a)
    nightly_retention.delay()
    record = PurgeRecord.objects.get()
    assert (record.category, record.pupils, record.by) == ("substantive", 1, director_a)
    assert record.rule == (
        "substantive: 2 years after unenrolment; substantive: 3 years after unenrolment (left for special education)"
    )
    assert record.rows > 5
    dumped = str(
        [
            list(PurgeRecord.objects.values()),
            list(PurgeRun.objects.values()),
            list(AuditEvent.objects.values()),
            list(JobRun.objects.values()),
        ]
    )
    assert "retention_purge" in dumped
    assert text not in dumped
    assert "SENTINEL" not in dumped


def _text_values():
    """Every text-like column of every model, read through the ORM (so
    encrypted fields are decrypted)."""
    for model in apps.get_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        if not fields:
            continue
        for row in model._base_manager.values_list(*fields):
            for value in row:
                yield model, str(value)


def test_no_sentinel_of_a_purged_category_remains(school_a, staff_user):
    """S-26, R-RET-1: after the full purge no planted sentinel of a purged
    category remains in any table; the contact data (pupil, address,
    guardian) stays."""
    pupils = [make_leaver(school_a, user=staff_user), make_leaver(school_a, destination="special", user=staff_user)]
    before = list(_text_values())
    for pupil in pupils:
        assert any(sentinel("substantive", pupil) in v for _m, v in before)
        assert any(sentinel("enrolment", pupil) in v for _m, v in before)
    engine.purge(D(2028, 8, 1))
    after = list(_text_values())
    for pupil in pupils:
        for category in ["substantive", *PURGED_LATER]:
            found = [m._meta.label for m, v in after if sentinel(category, pupil) in v]
            assert found == [], (category, found)
        assert Pupil.objects.filter(pk=pupil.pk).exists()
        assert Address.objects.get(pupil=pupil).street == sentinel("contact", pupil)
        assert Guardian.objects.filter(pupil_links__pupil=pupil).exists()


def test_query_count_per_batch_does_not_grow(school_a, staff_user):
    """S-27, STYLE 7: one batch of 5 pupils and one of 50 take as many queries."""
    engine.purge(D(2028, 8, 1))  # creates the lock row
    audit_record("warm_up")  # and the audit chain head

    def measure(n):
        for _ in range(n):
            make_leaver(school_a, user=staff_user)
        with CaptureQueriesContext(connection) as ctx:
            result = engine.purge(D(2028, 8, 1), batch_size=500)
        assert result.purged["substantive"] == n
        return len(ctx.captured_queries)

    assert measure(5) == measure(50)


# --- the lock (S-27) -------------------------------------------------------------


def test_two_purges_never_run_at_once(school_a, staff_user):
    """S-27: while one purge holds the lock a second refuses and changes
    nothing; a lock left by a killed worker goes stale and is taken over."""
    make_leaver(school_a, user=staff_user)
    token = engine.take_lock()
    with pytest.raises(engine.PurgeLocked):
        engine.purge(D(2025, 8, 1))
    with pytest.raises(CommandError, match="another purge is running"):
        call_command("retention_run", "--as-of", "2025-08-01", stdout=io.StringIO())
    assert SupportNeed.objects.count() == 1
    assert not PurgeRun.objects.exists()
    engine.release_lock(token)

    engine.take_lock()  # a worker that died holding it
    RetentionLock.objects.filter(pk=1).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
    assert engine.purge(D(2025, 8, 1)).purged["substantive"] == 1
    assert RetentionLock.objects.get(pk=1).holder == ""


# --- command line -------------------------------------------------------------


def run_json(*args):
    out = io.StringIO()
    call_command("retention_run", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_command_json_and_dry_run(school_a, school_b, staff_user):
    """--json prints one object of the agreed shape; --dry-run changes nothing."""
    make_leaver(school_a, user=staff_user)
    make_leaver(school_b, user=staff_user)
    dry = run_json("--as-of", "2025-08-01", "--dry-run")
    assert dry == {
        "as_of": "2025-08-01",
        "due": {"contact": 0, "enrolment": 0, "attendance": 0, "funding": 0, "substantive": 2, "consent": 0}
        | {"disclosures": 0, "requests": 0},
        "purged": {"contact": 0, "enrolment": 0, "attendance": 0, "funding": 0, "substantive": 0, "consent": 0}
        | {"disclosures": 0, "requests": 0},
        "held": 0,
        "audit_events": {"due": 0, "purged": 0},  # the audit log's own term, in events (retention/auditterm.py)
    }
    assert SupportNeed.objects.count() == 2
    assert not PurgeRun.objects.exists() and not PurgeRecord.objects.exists()

    only_a = run_json("--as-of", "2025-08-01", "--school", "11AA")
    assert only_a["purged"]["substantive"] == 1
    assert SupportNeed.objects.get().pupil.school == school_b

    out = io.StringIO()
    call_command("retention_run", "--as-of", "2025-08-01", stdout=out)
    assert "substantive" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("retention_run", "--as-of", "1-8-2025", stdout=io.StringIO())
    with pytest.raises(CommandError, match="choose a date between"):
        call_command("retention_run", "--as-of", "0001-01-01", "--dry-run", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("retention_run", "--as-of", "2025-08-01", "--school", "99ZZ", stdout=io.StringIO())


# --- the nightly job ------------------------------------------------------------


def test_nightly_job_proposes_by_default_and_purges_when_automatic(school_a, school_b, staff_user):
    """R-RET-6, S-28: in propose mode (the default) the job only records what
    is due; in automatic mode it purges, once however often it runs."""
    long_ago = timezone.localdate() - datetime.timedelta(days=3 * 366)  # substantive due only
    make_leaver(school_a, left_on=long_ago, user=staff_user)
    make_leaver(school_b, left_on=long_ago, user=staff_user)
    nightly_retention.delay()
    job = JobRun.objects.get(name="retention_nightly")
    assert job.outcome == JobRun.Outcome.OK
    assert job.counts["proposed"]["substantive"] == 2
    assert sum(job.counts["purged"].values()) == 0
    assert SupportNeed.objects.count() == 2

    RetentionSettings.objects.create(school=school_a, mode=RetentionSettings.Mode.AUTOMATIC)
    nightly_retention.delay()
    nightly_retention.delay()
    runs = JobRun.objects.filter(name="retention_nightly").order_by("started_at", "pk")
    assert [r.counts["purged"]["substantive"] for r in runs] == [0, 1, 0]
    assert runs.last().counts["proposed"]["substantive"] == 1
    assert SupportNeed.objects.get().pupil.school == school_b


def test_unenrolment_date_goes_last(school_a, staff_user):
    """R-RET-5: the enrolment row carries the date every term counts from, so
    a shorter enrolment term waits for the other categories: nothing is left
    behind without a date to count from."""
    RetentionRule.objects.filter(category="enrolment", condition="").update(years=1)
    pupil = make_leaver(school_a, user=staff_user)
    assert counts(D(2024, 8, 1))["enrolment"] == 0
    assert counts(D(2028, 8, 1))["enrolment"] == 1
    engine.purge(D(2028, 8, 1))
    assert not Enrolment.objects.filter(pupil=pupil).exists()
    assert not SupportNeed.objects.filter(pupil=pupil).exists()
    assert not AttendanceRecord.objects.filter(pupil=pupil).exists()


def test_due_for_many_schools_is_one_query(school_a, school_b, staff_user, director_a):
    """R-RET-5, R-RET-6, U-3: what is due at several schools comes from one
    query for all categories and schools, and equals the per-school answer
    (held pupils apart)."""
    a = [make_leaver(school_a, user=staff_user), make_leaver(school_a, destination="special", user=staff_user)]
    b = make_leaver(school_b, user=staff_user)
    held = make_leaver(school_b, user=staff_user)
    legal_hold_set(pupil=held, reason="x", acting_user=director_a)
    make_pupil(school_a, first="Still", last="Here")
    with CaptureQueriesContext(connection) as ctx:
        reports = engine.due_by_school(D(2028, 8, 1), [school_a, school_b])
    pupil_queries = [q for q in ctx.captured_queries if "students_pupil" in q["sql"]]
    assert len(pupil_queries) == 1
    assert reports[school_a.pk].pupils["substantive"] == sorted(p.pk for p in a)
    assert reports[school_a.pk].pupils["attendance"] == sorted(p.pk for p in a)
    assert reports[school_b.pk].pupils["substantive"] == [b.pk]
    assert reports[school_b.pk].held == [held.pk] and reports[school_a.pk].held == []
    assert reports[school_b.pk].held_by_category["substantive"] == [held.pk]
    for school in (school_a, school_b):
        single = engine.due(D(2028, 8, 1), school=school)
        assert (single.pupils, single.held) == (reports[school.pk].pupils, reports[school.pk].held)
    whole = engine.due(D(2028, 8, 1))
    assert whole.pupils["substantive"] == sorted([*(p.pk for p in a), b.pk])
    assert whole.held == [held.pk]
    # Before the special-education term ends only the regular leavers are due.
    early = engine.due_by_school(D(2025, 8, 1), [school_a])[school_a.pk]
    assert early.pupils["substantive"] == [a[0].pk] and early.pupils["attendance"] == []


def test_due_query_is_compiled_once_per_rule_shape(school_a, school_b, staff_user, monkeypatch):
    """R-RET-5, U-3: the due query is compiled once per shape of the rules
    (which categories have a term) and reused with each call's dates and
    schools; a changed term is read on the next call, a term made permanent
    compiles a new statement. The answers stay exact to the day, for
    regular and special education and for each school."""
    monkeypatch.setattr(engine, "_DUE_STATEMENTS", {})
    pupil = make_leaver(school_a, user=staff_user)  # left 2023-07-31
    special = make_leaver(school_a, destination="special", user=staff_user)
    other = make_leaver(school_b, user=staff_user)
    compiled = []
    real = engine._DueStatement
    monkeypatch.setattr(engine, "_DueStatement", lambda *args: compiled.append(args) or real(*args))

    def due_at(day, *schools):
        return engine.due_by_school(day, list(schools) or None)

    assert due_at(D(2025, 7, 31), school_a)[school_a.pk].pupils["substantive"] == []
    assert due_at(D(2025, 8, 1), school_a)[school_a.pk].pupils["substantive"] == [pupil.pk]
    assert due_at(D(2026, 7, 31), school_a)[school_a.pk].pupils["substantive"] == [pupil.pk]
    assert due_at(D(2026, 8, 1), school_a)[school_a.pk].pupils["substantive"] == sorted([pupil.pk, special.pk])
    assert due_at(D(2028, 7, 31), school_a)[school_a.pk].pupils["attendance"] == []
    at_term = due_at(D(2028, 8, 1), school_a)[school_a.pk]
    assert at_term.pupils["attendance"] == at_term.pupils["enrolment"] == sorted([pupil.pk, special.pk])
    assert due_at(D(2028, 8, 1), school_b)[school_b.pk].pupils["attendance"] == [other.pk]
    assert len(compiled) == 1
    everyone = due_at(D(2028, 8, 1))  # every school: its own statement
    assert everyone[school_b.pk].pupils["attendance"] == [other.pk]
    assert len(compiled) == 2
    # Bound, the compiled statement is exactly what the ORM compiles for the
    # real dates and schools.
    cutoffs = engine._cutoffs(engine._rules(), D(2028, 8, 1))
    statement = engine._due_statement(cutoffs, by_school=True)
    query, names = engine._due_query(cutoffs, engine.Ids([school_a.pk, school_b.pk]))
    sql, params = query.get_compiler(connection=connection).as_sql()
    assert statement.bind(cutoffs, [school_a.pk, school_b.pk]) == (sql, list(params), names)
    substantive = RetentionRule.objects.get(category="substantive", condition="")
    substantive.years = 6
    substantive.save()
    assert due_at(D(2028, 8, 1), school_a)[school_a.pk].pupils["substantive"] == [special.pk]
    assert due_at(D(2029, 8, 1), school_a)[school_a.pk].pupils["substantive"] == sorted([pupil.pk, special.pk])
    assert len(compiled) == 2
    RetentionRule.objects.filter(category="substantive").update(permanent=True)
    assert due_at(D(2040, 1, 1), school_a)[school_a.pk].pupils["substantive"] == []
    assert due_at(D(2040, 1, 1), school_a)[school_a.pk].pupils["attendance"] == sorted([pupil.pk, special.pk])
    assert len(compiled) == 3
    # Every term permanent: nothing can be due, and nothing is compiled.
    RetentionRule.objects.update(permanent=True)
    assert due_at(D(2040, 1, 1), school_a)[school_a.pk].counts() == dict.fromkeys(engine.CATEGORIES, 0)
    assert engine.due(D(2040, 1, 1)).counts() == dict.fromkeys(engine.CATEGORIES, 0)
    assert len(compiled) == 3
    assert engine.due_by_school(D(2040, 1, 1), []) == {}


def test_due_statement_refuses_a_placeholder_that_does_not_take(db):
    """R-RET-5: a compiled due statement whose placeholders are not found
    among its parameters would leave them in the SQL and quietly find
    nothing due; it refuses instead."""
    cutoffs = engine._cutoffs(engine._rules(), D(2028, 8, 1))
    shape = {
        category: {special: engine._slot_date(category, special) if day else None for special, day in by.items()}
        for category, by in cutoffs.items()
    }
    query, names = engine._due_query(cutoffs)  # the real dates where the placeholders belong
    with pytest.raises(RuntimeError, match="placeholders"):
        engine._DueStatement(query, names, shape, False)
    query, names = engine._due_query(shape, engine.Ids([7]))  # a real school where the placeholder belongs
    with pytest.raises(RuntimeError, match="placeholders"):
        engine._DueStatement(query, names, shape, True)
    engine._DueStatement(*engine._due_query(shape, engine.SCHOOL_SLOT), shape, True)  # the placeholders take
