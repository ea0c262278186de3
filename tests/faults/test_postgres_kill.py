"""PostgreSQL connections killed under a real server (gunicorn, one worker,
DATABASE_URL with CONN_MAX_AGE 60): in the middle of a request that writes
several rows in one transaction, and while idle between requests. Nothing
partial is written and the next request succeeds.

The request is a data-breach report: the Breach row, its first BreachEvent
and the audit event with its chain head, in one transaction
(breaches.services.breach_report). The server pauses right after the Breach
row is written (tests/faults/instrument.py, FAULT_PAUSE_MODEL) and the test
ends exactly that backend with pg_terminate_backend.
"""

import re
import threading
import time

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from breaches.models import Breach, BreachEvent
from privacy_admin.auditlog import audit_record, verify_chain
from privacy_admin.models import AuditEvent
from tests.faults.conftest import terminate_backends
from tests.faults.procs import HttpClient, wait_until

APP_NAME = "faults-web"


def _counts():
    return (Breach.objects.count(), BreachEvent.objects.count(), AuditEvent.objects.count())


def _form(browser, path):
    status, body = browser.get(path)
    assert status == 200, status
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    aware = timezone.localtime() - timezone.timedelta(hours=1)
    return {
        "csrfmiddlewaretoken": token,
        "school": "",
        "aware_at": aware.strftime("%Y-%m-%dT%H:%M"),
        "what_happened": "Een USB-stick met een groepslijst is kwijt",
        "data_concerned": "Groepslijst",
        "approx_pupils": "27",
    }


def test_connection_killed_mid_request_writes_nothing_and_next_request_works(
    procs, report, log_dir, verified_client, teacher_a
):
    """No partial write: the backend is ended between the Breach row and
    the rest; the request fails (500) and none of its rows remain; the audit
    chain is whole. The same server process then answers the next requests
    (its broken connection was dropped at the end of the failed request)."""
    marker = log_dir / "pause-marker"
    server = procs.gunicorn(
        FAULT_PAUSE_MODEL="breaches.Breach",
        FAULT_PAUSE_MARKER=marker,
        FAULT_PAUSE_SECONDS=3,
        FAULT_APPLICATION_NAME=APP_NAME,
    )
    browser = HttpClient(server.base_url, sessionid=verified_client(teacher_a).cookies["sessionid"].value)
    path = reverse("breach_report")
    data = _form(browser, path)
    for n in range(3):  # a chain to break
        with transaction.atomic():
            audit_record("faults.before", actor_label="system", details={"n": n})
    before = _counts()

    result = {}
    thread = threading.Thread(target=lambda: result.update(status=browser.post(path, data)[0]))
    started = time.monotonic()
    thread.start()
    backend = int(wait_until(lambda: marker.exists() and marker.read_text(), 30, "the request to pause"))
    assert terminate_backends(pid=backend) == 1
    thread.join(60)
    failed_after = time.monotonic() - started
    assert result["status"] == 500
    assert _counts() == before
    ok, message, _checked = verify_chain()
    assert ok, message
    report(
        f"backend {backend} ended between the Breach row and its event: answer 500 after {failed_after:.1f} s; "
        f"breaches, events, audit rows {before} before and after; audit chain: {message}"
    )

    started = time.monotonic()
    again, _body = browser.post(path, _form(browser, path))
    assert again == 302, again
    assert _counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
    report(f"next request on the same server process: {again} in {time.monotonic() - started:.2f} s")


def test_idle_connection_killed_between_requests_next_request_works(procs, report, verified_client, teacher_a):
    """CONN_MAX_AGE keeps a connection open between requests. When the
    server ends it (a restart, a failover, an administrator), the next
    request must not fail on it: CONN_HEALTH_CHECKS (settings.DATABASES)
    checks a reused connection first and opens a new one."""
    server = procs.gunicorn(FAULT_APPLICATION_NAME=APP_NAME)
    browser = HttpClient(server.base_url, sessionid=verified_client(teacher_a).cookies["sessionid"].value)
    assert browser.get(reverse("home"))[0] == 200
    ended = terminate_backends(application_name=APP_NAME)
    assert ended >= 1
    statuses = [browser.get(reverse("home"))[0] for _ in range(3)]
    assert statuses == [200, 200, 200]
    report(f"{ended} idle server connection(s) ended between requests; the next three answered {statuses}")
