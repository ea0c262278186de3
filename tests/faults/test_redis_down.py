"""Redis stopped or frozen: the portal keeps serving pages, a request that
queues work answers within seconds, and the work queued while Redis was
away is done once it is back, exactly once (S-29, S-28).

Redis is only Celery's broker (sessions live in the database, the cache is
per process: privacy_admin/settings.py). The one task the web app sends is
the confirmed purge; its PurgeRun row is the outbox: when the send fails the
run waits as "queued" and the sweep job (retention.tasks.resume_stalled_purges,
every 10 minutes) carries it out once it has waited 15 minutes.
"""

import datetime
import time

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from privacy_admin.models import JobRun
from retention import engine
from retention.models import PurgeRecord, PurgeRun
from retention.tasks import RESUME_JOB_NAME, resume_stalled_purges
from tests.conftest import PASSWORD, totp_code
from tests.faults.data import leavers
from tests.faults.procs import wait_until
from tests.students.conftest import make_pupil


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _confirm(client, school, today):
    url = reverse("retention_confirm", kwargs={"school_id": school.pk}) + f"?as_of={today.isoformat()}"
    return client.post(url, {"as_of": today.isoformat(), "confirm": "on"})


def test_redis_stopped_pages_served_and_queued_purge_done_after(
    broker, procs, report, client, verified_client, school_a, group5_a, app_admin_a, director_a
):
    """S-29: with Redis stopped, a fresh login (password and code), the
    dashboard, a dossier, the consent matrix, the retention screens and the
    parents' portal all answer 200; confirming a purge answers at once and
    the run waits in the database. Redis back, the sweep beat fires and the
    worker carries the run out, once (S-28)."""
    today = timezone.localdate()
    pupils = leavers(school_a, 6)
    due = engine.due(today, school=school_a).counts()
    pupil = make_pupil(school_a, group5_a, first="Sem", last="Redisloos")
    procs.worker()
    broker.stop()

    client.get(reverse("login"))
    login, login_time = _timed(lambda: client.post(reverse("login"), {"username": "director_a", "password": PASSWORD}))
    verify, verify_time = _timed(lambda: client.post(reverse("otp_verify"), {"code": totp_code(director_a)}))
    assert login.status_code == 302 and verify.status_code == 302 and verify["Location"] == "/"
    timings = {"login": login_time + verify_time}
    pages = {
        "dashboard": reverse("home"),
        "dossier": reverse("dossier", kwargs={"pupil_id": pupil.pk}),
        "consent matrix": reverse("consent_matrix", kwargs={"group_id": group5_a.pk}),
    }
    for name, url in pages.items():
        response, timings[name] = _timed(lambda url=url: client.get(url))
        assert response.status_code == 200, (name, response.status_code)
    admin = verified_client(app_admin_a)
    response, timings["retention overview"] = _timed(lambda: admin.get(reverse("retention_overview")))
    assert response.status_code == 200
    response, timings["parents' login"] = _timed(lambda: Client().get(reverse("parent_login")))
    assert response.status_code == 200

    response, timings["confirm purge"] = _timed(lambda: _confirm(admin, school_a, today))
    assert response.status_code == 302, response.status_code
    run = PurgeRun.objects.get()
    assert run.status == PurgeRun.Status.QUEUED
    progress = admin.get(response["Location"])
    assert progress.status_code == 200 and "Waiting for the background worker" in progress.content.decode()
    assert max(timings.values()) < 5, timings
    report("Redis stopped; answers in s: " + ", ".join(f"{name} {seconds:.2f}" for name, seconds in timings.items()))
    report(f"the confirmed purge waits as {run.status!r} in the database, {len(pupils)} pupils untouched")

    down_for = datetime.timedelta(minutes=16)  # the run has waited past PurgeRun.STALLED_AFTER
    broker.start()
    PurgeRun.objects.filter(pk=run.pk).update(requested_at=timezone.now() - down_for)
    back = time.monotonic()
    resume_stalled_purges.delay()  # what beat sends every 10 minutes
    resume_stalled_purges.delay()  # and, fired twice, still once

    def finished():
        run.refresh_from_db()
        return run.finished

    wait_until(finished, 60, "the queued purge to be carried out")
    wait_until(lambda: broker.queued() == 0 and broker.unacked() == 0, 30, "the queue to drain")
    done_after = time.monotonic() - back
    run.refresh_from_db()
    records = PurgeRecord.objects.filter(run=run)
    purged = {category: 0 for category in engine.CATEGORIES}
    for category, count in records.values_list("category", "pupils"):
        purged[category] += count
    assert run.status == PurgeRun.Status.DONE and purged == due
    assert engine.due(today, school=school_a).counts() == dict.fromkeys(engine.CATEGORIES, 0)
    assert JobRun.objects.filter(name=RESUME_JOB_NAME, outcome="ok").count() == 1
    report(
        f"Redis back: the sweep carried the run out {done_after:.1f} s after it was sent; "
        f"{records.count()} batch records, pupils per category as due; the second sweep found nothing"
    )


def test_redis_frozen_request_answers_within_seconds(broker, report, verified_client, school_a, app_admin_a):
    """S-29: a Redis that accepts connections but never answers (SIGSTOP: a
    hung server, a network dropping packets) made `.delay()` wait for good
    and the request with it. With the socket timeouts and the single retry of
    settings.CELERY_BROKER_TRANSPORT_OPTIONS and
    CELERY_TASK_PUBLISH_RETRY_POLICY, the confirmation answers within seconds
    and the run waits in the database."""
    today = timezone.localdate()
    leavers(school_a, 2)
    admin = verified_client(app_admin_a)
    # A pooled connection to Redis exists, as in a web process that has sent before.
    resume_stalled_purges.delay()
    broker.freeze()
    try:
        response, seconds = _timed(lambda: _confirm(admin, school_a, today))
        page, page_seconds = _timed(lambda: admin.get(reverse("retention_overview")))
    finally:
        broker.thaw()
    assert response.status_code == 302 and page.status_code == 200
    assert PurgeRun.objects.get().status == PurgeRun.Status.QUEUED
    assert seconds < 10, seconds
    report(f"Redis frozen: the confirmation answered in {seconds:.1f} s (run queued), a page in {page_seconds:.2f} s")
