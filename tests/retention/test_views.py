"""The retention screen (U-3), the terms with preview (R-RET-5), legal holds
(R-RET-6), purge progress, result and certificate, through HTTP."""

import datetime
import io
import re
import zlib
from base64 import a85decode
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from privacy_admin.actions import OTP_AT_KEY
from privacy_admin.models import AuditEvent, School
from privacy_admin.roles import SchoolRole
from retention import demo, engine, tasks, views
from retention.actions import legal_hold_set
from retention.models import LegalHold, PurgeRecord, PurgeRun, RetentionRule, RetentionSettings
from students.models import SupportNeed
from tests.conftest import age_session, make_staff
from tests.retention.conftest import LEFT, make_leaver
from tests.students.conftest import make_pupil

D = datetime.date
AS_OF = D(2025, 8, 1)  # R-RET-5: substantive due for a regular leaver of 2023-07-31
REASON = "Geschil over schooladvies RSN-7731"


@pytest.fixture
def leavers(school_a, school_b, staff_user, director_a):
    """At school A: two regular leavers (substantive due on AS_OF), one who
    left for special education (not yet due) and one under a legal hold;
    at school B one more regular leaver."""
    regular = [make_leaver(school_a, user=staff_user, full=False) for _ in range(2)]
    special = make_leaver(school_a, destination="special", user=staff_user, full=False)
    held = make_leaver(school_a, user=staff_user, full=False)
    legal_hold_set(pupil=held, reason=REASON, acting_user=director_a)
    other = make_leaver(school_b, user=staff_user, full=False)
    return {"regular": regular, "special": special, "held": held, "other": other}


@pytest.fixture
def admin(verified_client, app_admin_a):
    return verified_client(app_admin_a)


def _overview(client, as_of=AS_OF):
    return client.get(reverse("retention_overview"), {"as_of": as_of.isoformat()})


def _confirm_url(school, as_of=AS_OF):
    return reverse("retention_confirm", kwargs={"school_id": school.pk}) + f"?as_of={as_of.isoformat()}"


def _confirm(client, school, capture, as_of=AS_OF, **extra):
    with capture(execute=True):
        return client.post(_confirm_url(school, as_of), {"as_of": as_of.isoformat(), "confirm": "on", **extra})


# --- the overview and drill-down (U-3) ---------------------------------------------


def _queries(client, url, data):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, data).status_code == 200
    return len(ctx.captured_queries)


def test_overview_and_drill_down_queries_do_not_grow(admin, leavers, school_a, staff_user):
    """STYLE 12: the overview and the drill-down take as many queries for
    five pupils due as for two."""
    overview = reverse("retention_overview")
    drill = reverse("retention_due_pupils", kwargs={"school_id": school_a.pk, "category": "substantive"})
    data = {"as_of": AS_OF.isoformat()}
    before = (_queries(admin, overview, data), _queries(admin, drill, data))
    for _ in range(3):
        make_leaver(school_a, user=staff_user, full=False)
    assert (_queries(admin, overview, data), _queries(admin, drill, data)) == before


def test_overview_counts_match_the_engine(admin, leavers, school_a):
    """U-3, R-RET-5, R-RET-6: per category the number of pupils due is what
    engine.due() says for the school; the held pupil is counted apart; only
    the admin's own school is shown."""
    response = _overview(admin)
    assert response.status_code == 200
    [section] = response.context["sections"]
    report = engine.due(AS_OF, school=school_a)
    assert section["school"] == school_a
    assert {row["category"]: row["due"] for row in section["rows"]} == report.counts()
    substantive = next(row for row in section["rows"] if row["category"] == "substantive")
    assert (substantive["due"], substantive["held"]) == (2, 1)
    assert section["pupils"] == 2 and section["held"] == 1
    body = response.content.decode()
    assert "School B" not in body
    assert _confirm_url(school_a) in body.replace("&amp;", "&")
    # A date before anything is due.
    [section] = _overview(admin, D(2025, 7, 31)).context["sections"]
    assert sum(row["due"] for row in section["rows"]) == 0


def test_future_date_previews_but_offers_no_purge(admin, leavers, school_a):
    """U-3: a future date shows what will be due; a purge is offered only for
    today or earlier."""
    future = timezone.localdate() + datetime.timedelta(days=30)
    response = _overview(admin, future)
    assert response.context["can_purge"] is False
    assert reverse("retention_confirm", kwargs={"school_id": school_a.pk}) not in response.content.decode()
    assert _overview(admin).context["can_purge"] is True


def test_bad_date_falls_back_to_today_with_an_error(admin, leavers):
    """A date that is not one is reported on the field; the screen shows today."""
    response = admin.get(reverse("retention_overview"), {"as_of": "31-02-2025"})
    assert response.status_code == 200
    assert response.context["form"].errors["as_of"]
    assert response.context["as_of"] == timezone.localdate()


def test_drill_down_lists_pupils_with_dates_and_holds(admin, leavers, school_a, monkeypatch):
    """U-3, R-RET-5, R-RET-6: name, group, unenrolment date and due date of
    each pupil behind the count; the held pupil is shown as held, without the
    reason; the pupil not yet due (special education) is not listed."""
    url = reverse("retention_due_pupils", kwargs={"school_id": school_a.pk, "category": "substantive"})
    response = admin.get(url, {"as_of": AS_OF.isoformat()})
    assert response.status_code == 200
    rows = {row["pupil"].pk: row for row in response.context["rows"]}
    expected = {p.pk for p in leavers["regular"]} | {leavers["held"].pk}
    assert set(rows) == expected
    for pupil in leavers["regular"]:
        assert (rows[pupil.pk]["left_on"], rows[pupil.pk]["due_on"], rows[pupil.pk]["held"]) == (LEFT, AS_OF, False)
    assert rows[leavers["held"].pk]["held"] is True
    body = response.content.decode()
    assert leavers["regular"][0].full_name in body and "01-08-2025" in body and "31-07-2023" in body
    assert "held: not purged" in body
    assert REASON not in body
    assert leavers["special"].full_name not in body

    # Long lists come in pages that keep the date.
    monkeypatch.setattr(views, "DRILL_DOWN_PAGE", 2)
    first = admin.get(url, {"as_of": AS_OF.isoformat()})
    assert len(first.context["rows"]) == 2 and "?as_of=2025-08-01&amp;page=2" in first.content.decode()
    assert len(admin.get(url, {"as_of": AS_OF.isoformat(), "page": "2"}).context["rows"]) == 1

    # The enrolment row goes last: its due date is that of the longest term.
    enrolment = reverse("retention_due_pupils", kwargs={"school_id": school_a.pk, "category": "enrolment"})
    rows = admin.get(enrolment, {"as_of": "2028-08-01"}).context["rows"]
    assert {row["due_on"] for row in rows if not row["held"]} == {D(2028, 8, 1)}


def test_drill_down_other_school_or_unknown_category_is_404(admin, leavers, school_b, school_a):
    """S-11: another school's list is the same 404 as a category that does not exist."""
    other = reverse("retention_due_pupils", kwargs={"school_id": school_b.pk, "category": "substantive"})
    assert admin.get(other).status_code == 404
    unknown = reverse("retention_due_pupils", kwargs={"school_id": school_a.pk, "category": "nonsense"})
    assert admin.get(unknown).status_code == 404
    assert admin.get(_confirm_url(school_b)).status_code == 404


# --- confirming, progress and result (U-3, S-8, S-27) ------------------------------


def test_purge_asks_for_a_fresh_second_factor(admin, leavers, school_a, settings, django_capture_on_commit_callbacks):
    """S-8: with the last code older than STEP_UP_MINUTES, the confirmation
    page and its post send the admin to the code step; nothing is purged."""
    age_session(admin, **{OTP_AT_KEY: (settings.STEP_UP_MINUTES + 1) * 60})
    response = admin.get(_confirm_url(school_a))
    assert response.status_code == 302 and response["Location"].startswith(reverse("step_up"))
    response = _confirm(admin, school_a, django_capture_on_commit_callbacks)
    assert response["Location"].startswith(reverse("step_up"))
    assert not PurgeRun.objects.exists()
    assert SupportNeed.objects.count() == 5


def test_confirmed_purge_runs_and_reports(admin, leavers, school_a, app_admin_a, django_capture_on_commit_callbacks):
    """U-3, R-RET-6, S-27: the confirmation queues the purge as a task on
    commit (run in-process here, so it has finished before the redirect);
    the progress page and its JSON show it done, the result page shows the
    counts, the held pupil and who confirmed it."""
    response = admin.get(_confirm_url(school_a))
    assert response.status_code == 200
    assert {row["category"]: row["due"] for row in response.context["rows"]}["substantive"] == 2
    response = _confirm(admin, school_a, django_capture_on_commit_callbacks)
    run = PurgeRun.objects.get()
    assert response["Location"] == reverse("retention_progress", kwargs={"run_id": run.pk})
    assert (run.status, run.school, run.by, run.as_of) == (PurgeRun.Status.DONE, school_a, app_admin_a, AS_OF)
    assert (run.done, run.total, run.percent) == (2, 2, 100)
    assert AuditEvent.objects.filter(action="retention_purge_confirm", object_id=str(run.pk)).exists()
    assert not SupportNeed.objects.filter(pupil__in=leavers["regular"]).exists()
    assert SupportNeed.objects.filter(pupil=leavers["held"]).exists()  # R-RET-6
    assert SupportNeed.objects.filter(pupil=leavers["other"]).exists()  # another school

    page = admin.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert 'value="2"' in body and 'max="2"' in body and "js/retention-progress.js" in body
    status = admin.get(reverse("retention_progress_status", kwargs={"run_id": run.pk})).json()
    assert status["finished"] is True and status["done"] == status["total"] == 2 and status["percent"] == 100
    assert status["result_url"] == reverse("retention_result", kwargs={"run_id": run.pk})

    result = admin.get(status["result_url"])
    assert result.status_code == 200
    assert [(r["due"], r["purged"]) for r in result.context["rows"]] == [(2, 2)]
    assert result.context["held"] == 1
    body = result.content.decode()
    assert "App_Admin_A" in body and "Substantive part: 2 years after unenrolment" in body
    assert leavers["regular"][0].full_name not in body


def test_progress_counts_up_per_batch(admin, leavers, school_a, monkeypatch, django_capture_on_commit_callbacks):
    """U-3: `done` rises batch by batch, committed with each batch, and the
    JSON status reports it while the purge runs."""
    monkeypatch.setattr(tasks, "CONFIRMED_BATCH_SIZE", 1)
    real = engine.purge_batch
    seen = []

    def spy(category, ids):
        run = PurgeRun.objects.get()
        url = reverse("retention_progress_status", kwargs={"run_id": run.pk})
        seen.append((admin.get(url).json()["done"], run.total, run.status))
        return real(category, ids)

    monkeypatch.setattr(engine, "purge_batch", spy)
    _confirm(admin, school_a, django_capture_on_commit_callbacks)
    assert seen == [(1, 2, PurgeRun.Status.RUNNING), (2, 2, PurgeRun.Status.RUNNING)]


def test_failed_batch_is_reported(admin, leavers, school_a, monkeypatch, django_capture_on_commit_callbacks):
    """S-27, U-3: a batch that fails rolls back whole; the run says so (error
    class, category, how far it got) and the page does not break; confirming
    again finishes the job."""
    monkeypatch.setattr(tasks, "CONFIRMED_BATCH_SIZE", 1)
    real = engine.purge_batch
    calls = {"n": 0}

    def failing(category, ids):
        calls["n"] += 1
        rows = real(category, ids)
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return rows

    monkeypatch.setattr(engine, "purge_batch", failing)
    response = _confirm(admin, school_a, django_capture_on_commit_callbacks)
    run = PurgeRun.objects.get()
    assert (run.status, run.error, run.failed_category) == (PurgeRun.Status.FAILED, "RuntimeError", "substantive")
    assert PurgeRecord.objects.filter(run=run).count() == 1
    assert admin.get(response["Location"]).status_code == 200
    body = admin.get(reverse("retention_result", kwargs={"run_id": run.pk})).content.decode()
    assert "A batch failed (RuntimeError)" in body and "Substantive part" in body
    assert "disk full" not in body

    monkeypatch.setattr(engine, "purge_batch", real)
    _confirm(admin, school_a, django_capture_on_commit_callbacks)
    assert PurgeRun.objects.filter(status=PurgeRun.Status.DONE).get().counts["purged"]["substantive"] == 1
    assert not SupportNeed.objects.filter(pupil__in=leavers["regular"]).exists()


@pytest.mark.parametrize("day", ["0001-01-01", "1850-06-30", "3000-01-01"])
def test_dates_out_of_range_are_refused_on_every_retention_page(admin, leavers, school_a, day):
    """U-3, S-16: a date a term cannot be counted from (the year 1 gave a
    500) is refused on its field; the overview, the drill-down and the
    confirmation page show today instead, and a posted confirmation queues
    nothing."""
    response = admin.get(reverse("retention_overview"), {"as_of": day})
    assert response.status_code == 200
    assert "Choose a date between 01-01-2000 and 31-12-2999" in str(response.context["form"].errors["as_of"])
    assert response.context["as_of"] == timezone.localdate()
    drill = reverse("retention_due_pupils", kwargs={"school_id": school_a.pk, "category": "substantive"})
    assert admin.get(drill, {"as_of": day}).context["as_of"] == timezone.localdate()
    page = admin.get(reverse("retention_confirm", kwargs={"school_id": school_a.pk}), {"as_of": day})
    assert page.status_code == 200 and page.context["as_of"] == timezone.localdate()
    response = admin.post(
        reverse("retention_confirm", kwargs={"school_id": school_a.pk}) + f"?as_of={day}",
        {"as_of": day, "confirm": "on"},
    )
    assert response.status_code == 200 and "Open the preview again" in response.content.decode()
    assert not PurgeRun.objects.exists()


def test_confirmation_page_offers_no_purge_when_nothing_is_due(admin, leavers, school_a):
    """U-3: on a date before anything is due the confirmation page says so
    and shows no purge button."""
    page = admin.get(_confirm_url(school_a, D(2025, 7, 31))).content.decode()
    assert 'id="nothing-due"' in page and "Purge now" not in page
    assert "Purge now" in admin.get(_confirm_url(school_a)).content.decode()


def test_confirmation_refuses_bad_input(admin, leavers, school_a, django_capture_on_commit_callbacks):
    """U-3: no tick, a date ahead of today or a mangled date re-render the
    page with a message; nothing is queued."""
    response = _confirm(admin, school_a, django_capture_on_commit_callbacks, confirm="")
    assert response.status_code == 200 and response.context["form"].errors["confirm"]
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = _confirm(admin, school_a, django_capture_on_commit_callbacks, as_of=tomorrow)
    assert "never ahead of its term" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(_confirm_url(school_a), {"as_of": "2025-13-01", "confirm": "on"})
    assert "Open the preview again" in response.content.decode()
    assert not PurgeRun.objects.exists()


def test_second_confirmation_while_one_is_queued_is_refused(admin, leavers, school_a, monkeypatch):
    """S-27: while a confirmed purge waits for its worker, another is refused
    with a message instead of failing on the lock."""
    PurgeRun.objects.create(
        status=PurgeRun.Status.QUEUED, requested_at=timezone.now(), started_at=timezone.now(), as_of=AS_OF
    )
    response = admin.post(_confirm_url(school_a), {"as_of": AS_OF.isoformat(), "confirm": "on"})
    assert response.status_code == 200
    assert "Another purge is running" in response.content.decode()


def test_queued_run_survives_a_broker_outage(admin, leavers, school_a, monkeypatch, django_capture_on_commit_callbacks):
    """S-29, S-28: with the broker down the confirmed run waits in the
    database; the progress page says so; the nightly job carries it out, and
    a task delivered twice purges once."""

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.confirmed_purge, "delay", down)
    response = _confirm(admin, school_a, django_capture_on_commit_callbacks)
    run = PurgeRun.objects.get()
    assert run.status == PurgeRun.Status.QUEUED
    assert "Waiting for the background worker" in admin.get(response["Location"]).content.decode()
    assert SupportNeed.objects.filter(pupil__in=leavers["regular"]).count() == 2

    PurgeRun.objects.filter(pk=run.pk).update(requested_at=timezone.now() - datetime.timedelta(minutes=20))
    assert admin.get(response["Location"]).context["progress"]["stalled"] is True
    tasks.nightly_retention.delay()
    run.refresh_from_db()
    assert run.status == PurgeRun.Status.DONE and run.counts["purged"]["substantive"] == 2
    assert tasks.confirmed_purge(run.pk) is None
    assert PurgeRecord.objects.filter(run=run).count() == 1


def test_locked_purge_fails_the_run_cleanly(leavers, school_a, app_admin_a):
    """S-27: when another purge holds the lock, the confirmed run is marked
    failed with that reason; nothing is deleted."""
    run = PurgeRun.objects.create(
        status=PurgeRun.Status.QUEUED,
        requested_at=timezone.now(),
        started_at=timezone.now(),
        as_of=AS_OF,
        school=school_a,
        by=app_admin_a,
    )
    token = engine.take_lock()
    assert tasks.confirmed_purge(run.pk) == run.pk
    engine.release_lock(token)
    run.refresh_from_db()
    assert (run.status, run.error) == (PurgeRun.Status.FAILED, "PurgeLocked")
    assert SupportNeed.objects.count() == 5


# --- runs and the certificate (R-RET-6) ----------------------------------------------


def _pdf_text(content):
    """The text of a reportlab PDF: its streams, ASCII85 and Flate decoded."""
    text = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", content, re.S):
        data = stream.strip()
        try:
            if data.endswith(b"~>"):
                data = a85decode(data, adobe=True)
            text.append(zlib.decompress(data).decode("latin-1"))
        except (ValueError, zlib.error):
            text.append(data.decode("latin-1"))
    return "\n".join(text)


@pytest.fixture
def done_run(leavers, school_a, app_admin_a):
    result = engine.purge(AS_OF, school=school_a, acting_user=app_admin_a)
    return PurgeRun.objects.get(pk=result.run_id)


def test_certificate_is_a_pdf_without_pupil_names(admin, done_run, leavers, verified_client, fg):
    """R-RET-6, U-3: the deletion certificate is a PDF with category, count
    and rule, and names no pupil; the FG opens it too; downloading is audited."""
    url = reverse("retention_certificate", kwargs={"run_id": done_run.pk})
    for client in (admin, verified_client(fg)):
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
    text = _pdf_text(response.content)
    assert "Deletion certificate" in text and "Substantive part" in text
    for pupil in [*leavers["regular"], leavers["held"]]:
        assert pupil.last_name not in text
    assert REASON not in text
    assert AuditEvent.objects.filter(action="retention_certificate", object_id=str(done_run.pk)).count() == 2


def test_runs_and_certificates_by_school(done_run, school_b, verified_client, director_a, teacher_a, fg, app_admin_b):
    """S-11: the admin of another school gets a 404 for this run; roles
    without retention or foundation rights a 403; an unfinished run has no
    certificate yet."""
    result = reverse("retention_result", kwargs={"run_id": done_run.pk})
    certificate = reverse("retention_certificate", kwargs={"run_id": done_run.pk})
    assert verified_client(app_admin_b).get(result).status_code == 404
    assert verified_client(app_admin_b).get(certificate).status_code == 404
    assert verified_client(director_a).get(result).status_code == 403
    assert verified_client(teacher_a).get(certificate).status_code == 403
    assert verified_client(fg).get(result).status_code == 200
    PurgeRun.objects.filter(pk=done_run.pk).update(status=PurgeRun.Status.RUNNING, finished_at=None)
    assert verified_client(fg).get(certificate).status_code == 404


def test_runs_list_shows_deletion_records_not_content(admin, done_run, leavers, django_assert_max_num_queries):
    """R-RET-6: category, count, rule, date and who per record; no names."""
    engine.purge(D(2028, 8, 1), school=done_run.school)
    with django_assert_max_num_queries(20):
        response = admin.get(reverse("retention_runs"))
    body = response.content.decode()
    assert response.status_code == 200 and len(response.context["page"]) == 2
    assert "Substantive part: 2 years after unenrolment" in body
    assert "nightly job or command line" in body and "App_Admin_A" in body
    assert leavers["regular"][0].last_name not in body


def test_result_runs_and_certificate_show_the_rule_in_dutch(admin, done_run):
    """R-RET-6, U-3: the stored rule text stays English (evidence), but the
    admin's screen shows it in the reader's language: the result page, the
    list of runs and the deletion certificate in Dutch name the category and
    term in Dutch, not the stored English."""
    record = done_run.records.get(category="substantive")
    assert record.rule == (
        "substantive: 2 years after unenrolment; substantive: 3 years after unenrolment (left for special education)"
    )
    admin.defaults["HTTP_ACCEPT_LANGUAGE"] = "nl"
    dutch = (
        "Inhoudelijk gedeelte: 2 jaar na uitschrijving; "
        "Inhoudelijk gedeelte: 3 jaar na uitschrijving (uitgestroomd naar speciaal onderwijs)"
    )
    for name in ("retention_result", "retention_runs"):
        url = reverse(name, kwargs={"run_id": done_run.pk}) if name == "retention_result" else reverse(name)
        body = admin.get(url).content.decode()
        assert dutch in body, name
        assert "after unenrolment" not in body and record.rule not in body, name
    text = _pdf_text(admin.get(reverse("retention_certificate", kwargs={"run_id": done_run.pk})).content)
    # The PDF wraps the narrow column, so the words come line by line.
    assert "(gedeelte: 2) Tj T* (jaar na) Tj T* (uitschrijving;)" in text
    assert "unenrolment" not in text and "years" not in text


# --- the nightly mode per school ---------------------------------------------------


def test_nightly_mode_is_saved_and_audited(admin, school_a, school_b):
    """R-RET-6 (issue 7 item 3): the admin sets "automatic" for their school,
    audited with old and new; a bad value re-renders; another school is 404."""
    url = reverse("retention_mode", kwargs={"school_id": school_a.pk})
    assert admin.get(url).status_code == 200
    response = admin.post(url, {"mode": "sometimes"})
    assert response.status_code == 200 and response.context["form"].errors["mode"]
    assert admin.post(url, {"mode": "automatic"})["Location"] == reverse("retention_overview")
    assert RetentionSettings.objects.get(school=school_a).mode == RetentionSettings.Mode.AUTOMATIC
    event = AuditEvent.objects.get(action="retention_mode_set")
    assert event.details == {"old": "propose", "new": "automatic"} and event.school_id == school_a.pk
    other = reverse("retention_mode", kwargs={"school_id": school_b.pk})
    assert admin.post(other, {"mode": "automatic"}).status_code == 404
    assert not RetentionSettings.objects.filter(school=school_b).exists()


# --- terms with preview (R-RET-5) ----------------------------------------------------


def _rule_url(category, condition=""):
    rule = RetentionRule.objects.get(category=category, condition=condition)
    return rule, reverse("retention_rule_edit", kwargs={"rule_id": rule.pk})


def test_term_change_previews_then_saves_audited(admin, school_a, staff_user):
    """R-RET-5: the preview shows what the new term would make due today
    beside the current rule, and saves nothing; the confirmation saves it,
    audited with the old and the new term."""
    today = timezone.localdate()
    make_leaver(school_a, left_on=today - datetime.timedelta(days=400), user=staff_user, full=False)
    rule, url = _rule_url("substantive")
    page = admin.get(url)
    assert "applies to every school" in page.content.decode()
    response = admin.post(url, {"years": "1", "months": "0", "step": "preview"})
    assert response.status_code == 200
    preview = response.context["preview"]
    rows = {row["label"]: (row["before"], row["after"]) for row in preview["rows"]}
    assert rows["Substantive part"] == (0, 1)
    assert preview["rule"].description == "substantive: 1 year after unenrolment"
    assert '<strong id="new-term">1 year after unenrolment</strong>' in response.content.decode()
    rule.refresh_from_db()
    assert (rule.years, rule.months) == (2, 0)
    assert not AuditEvent.objects.filter(action="retention_rule_change").exists()
    assert 'name="step" value="save"' in response.content.decode()

    response = admin.post(url, {"years": "1", "months": "0", "permanent": "False", "step": "save"})
    assert response["Location"] == reverse("retention_overview")
    rule.refresh_from_db()
    assert (rule.years, rule.months, rule.permanent) == (1, 0, False)
    event = AuditEvent.objects.get(action="retention_rule_change")
    assert event.details["old"]["years"] == 2 and event.details["new"]["years"] == 1
    assert event.details["category"] == "substantive"
    assert engine.due(today, school=school_a).counts()["substantive"] == 1


class _IdsAndLabels(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hidden, self.label_for = [], set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
            if attrs.get("type") == "hidden" or "hidden" in attrs:
                self.hidden.add(attrs["id"])
        if tag == "label" and attrs.get("for"):
            self.label_for.append(attrs["for"])


def test_term_preview_page_has_unique_ids_and_labels_on_visible_inputs(admin):
    """R-RET-5, U-3: the preview page repeats the term as hidden inputs of
    the save button's form; no id occurs twice and every label points at a
    visible element, so a screen reader reads the fields that can be edited.
    Saving from the preview still saves the previewed term."""
    rule, url = _rule_url("attendance")
    response = admin.post(url, {"years": "2", "months": "6", "step": "preview"})
    assert response.status_code == 200 and response.context["preview"]
    page = _IdsAndLabels()
    page.feed(response.content.decode())
    duplicates = {i for i in page.ids if page.ids.count(i) > 1}
    assert not duplicates
    assert {"id_years", "id_months", "id_permanent"} <= set(page.label_for)
    for target in page.label_for:
        assert target in page.ids and target not in page.hidden, target
    save = re.search(r'<form method="post">(.*?)</form>', response.content.decode(), re.S).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="(years|months|permanent)" value="([^"]*)"', save))
    assert fields == {"years": "2", "months": "6", "permanent": "False"}
    assert " id=" not in save.replace('id="save-term"', "")
    assert admin.post(url, {**fields, "step": "save"})["Location"] == reverse("retention_overview")
    rule.refresh_from_db()
    assert (rule.years, rule.months, rule.permanent) == (2, 6, False)


def test_term_change_bad_input_rerenders(admin):
    """R-RET-5: months over 11, no term at all, or the same term are refused
    with a message; the rule stays."""
    rule, url = _rule_url("funding")
    for data, message in (
        ({"years": "1", "months": "12"}, "less than or equal to 11"),
        ({"years": "0", "months": "0"}, "at least one month"),
        ({"years": "5", "months": "0"}, "This is the current term"),
        ({"years": "x", "months": "0"}, "whole number"),
    ):
        response = admin.post(url, {**data, "step": "save"})
        assert response.status_code == 200, data
        assert message in response.content.decode(), data
    rule.refresh_from_db()
    assert (rule.years, rule.months, rule.permanent) == (5, 0, False)
    response = admin.post(url, {"permanent": "on", "step": "save"})
    rule.refresh_from_db()
    assert rule.permanent and response.status_code == 302


def test_term_change_needs_retention_run_and_step_up(verified_client, director_a, admin, settings):
    """S-8, R-RET-5: only retention.run changes terms, after a fresh code."""
    rule, url = _rule_url("substantive")
    assert verified_client(director_a).post(url, {"years": "1", "step": "save"}).status_code == 403
    age_session(admin, **{OTP_AT_KEY: (settings.STEP_UP_MINUTES + 1) * 60})
    assert admin.post(url, {"years": "1", "step": "save"})["Location"].startswith(reverse("step_up"))
    rule.refresh_from_db()
    assert rule.years == 2


# --- legal holds (R-RET-6) -----------------------------------------------------------


def _hold_data(pupil, **extra):
    return {
        "school": pupil.school_id,
        "first_name": pupil.first_name.upper(),
        "last_name": pupil.last_name,
        "birth_date": pupil.birth_date.isoformat(),
        "reason": REASON,
        **extra,
    }


def test_director_sets_and_lifts_a_hold(verified_client, director_a, school_a):
    """R-RET-6: the director sets a hold with a reason and lifts it, both
    audited (without the reason); the list shows it active, then lifted."""
    pupil = make_pupil(school_a, first="Hanna", last="Houvast")
    client = verified_client(director_a)
    response = client.post(reverse("legal_hold_new"), _hold_data(pupil))
    hold = LegalHold.objects.get()
    assert response["Location"] == reverse("legal_hold_detail", kwargs={"hold_id": hold.pk})
    assert (hold.pupil, hold.set_by, hold.reason, hold.active) == (pupil, director_a, REASON, True)
    assert REASON in client.get(response["Location"]).content.decode()
    listing = client.get(reverse("legal_hold_list"))
    assert listing.context["active"] == [hold] and listing.context["lifted"] == []

    lift = reverse("legal_hold_lift", kwargs={"hold_id": hold.pk})
    assert client.post(lift)["Location"] == response["Location"]
    client.post(lift)  # twice: recorded once
    hold.refresh_from_db()
    assert not hold.active and hold.lifted_by == director_a
    events = AuditEvent.objects.filter(action__startswith="legal_hold").order_by("seq")
    assert [e.action for e in events] == ["legal_hold_set", "legal_hold_lift"]
    assert all(e.pupil_id == pupil.pk and REASON not in str(e.details) for e in events)
    assert client.get(reverse("legal_hold_list")).context["lifted"] == [hold]


def test_fg_sets_a_hold_without_dossier_access(verified_client, fg, school_a):
    """R-RET-6: the FG sets a hold on a pupil of the foundation, found by
    name and birth date, and sees the hold but not the dossier."""
    pupil = make_pupil(school_a, first="Isa", last="Vries", name_prefix="de")
    client = verified_client(fg)
    response = client.post(reverse("legal_hold_new"), _hold_data(pupil, last_name="De Vries"))
    assert response.status_code == 302
    hold = LegalHold.objects.get(pupil=pupil)
    assert hold.set_by == fg
    assert REASON in client.get(response["Location"]).content.decode()
    assert client.get(reverse("dossier", kwargs={"pupil_id": pupil.pk})).status_code in (403, 404)


def test_hold_reason_is_shown_only_to_director_and_fg(verified_client, leavers, school_b, app_admin_a, teacher_a):
    """R-RET-6, S-25: the sealed reason is not shown to the application admin
    or a teacher (403), nor to the director of another school (404)."""
    hold = LegalHold.objects.get()
    url = reverse("legal_hold_detail", kwargs={"hold_id": hold.pk})
    assert verified_client(app_admin_a).get(url).status_code == 403
    assert verified_client(teacher_a).get(url).status_code == 403
    director_b = make_staff("director_b", school=school_b, role=SchoolRole.DIRECTOR)
    client_b = verified_client(director_b)
    assert client_b.get(url).status_code == 404
    assert client_b.post(reverse("legal_hold_lift", kwargs={"hold_id": hold.pk})).status_code == 404
    assert hold.pupil.full_name not in client_b.get(reverse("legal_hold_list")).content.decode()
    # Nor can director B put a pupil of school A under a hold.
    response = client_b.post(reverse("legal_hold_new"), _hold_data(leavers["regular"][0]))
    assert response.status_code == 200 and response.context["form"].errors["school"]


def test_hold_form_bad_input_keeps_what_was_typed(verified_client, director_a, school_a):
    """R-RET-6: an unknown pupil, a missing reason or two pupils with the same
    name and birth date re-render the form with a message and the input."""
    client = verified_client(director_a)
    twin = make_pupil(school_a, first="Tim", last="Tweeling")
    make_pupil(school_a, first="Tim", last="Tweeling")
    response = client.post(reverse("legal_hold_new"), _hold_data(twin, first_name="Tom"))
    assert "No pupil of this school has this name" in response.content.decode()
    assert REASON in response.content.decode()
    response = client.post(reverse("legal_hold_new"), _hold_data(twin, reason="  "))
    assert response.context["form"].errors["reason"]
    response = client.post(reverse("legal_hold_new"), _hold_data(twin))
    assert "give the pupil number" in str(response.context["form"].errors["pupil_ref"])
    assert not LegalHold.objects.exists()
    twin.pupil_ref = "A-17"
    twin.save(update_fields=["pupil_ref"])
    assert client.post(reverse("legal_hold_new"), _hold_data(twin, pupil_ref="A-17")).status_code == 302
    assert LegalHold.objects.get().pupil == twin


# --- demo data -------------------------------------------------------------------------


def test_demo_leavers_make_something_due_and_are_idempotent(foundation, director_a):
    """U-3 on the demo data: substantive and enrolment data due, one pupil
    held; a second seed adds nothing."""
    schools = {brin: School.objects.create(foundation=foundation, brin=brin, name=brin) for brin in ("99MS", "99DS")}
    staff = {"directeur.a": director_a}
    demo.seed(schools=schools, staff=staff, stdout=io.StringIO())
    report = engine.due(timezone.localdate(), school=schools["99MS"])
    counts = report.counts()
    assert counts["substantive"] == 4 and counts["enrolment"] == 2 and len(report.held) == 1
    assert engine.due(timezone.localdate(), school=schools["99DS"]).counts()["substantive"] == 2
    out = io.StringIO()
    demo.seed(schools=schools, staff=staff, stdout=out)
    assert "0 created" in out.getvalue()
    assert LegalHold.objects.count() == 1
