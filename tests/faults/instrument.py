"""Test instrumentation for the processes the fault tests start (Celery
workers and beats through run_celery.py, gunicorn through wsgi.py). Each
knob is an environment variable, so a fault is placed at a known moment;
without them the processes run the application unchanged.

FAULT_BATCH_DELAY       seconds a purge batch waits after its deletes, inside
                        its transaction (a kill lands mid-batch)
FAULT_BATCH_SIZE        pupils per batch of a confirmed purge
FAULT_STALE_SECONDS     the retention lock and a run go stale after this long
                        (production: 15 minutes) instead of waiting that out
FAULT_CLAIM_SECONDS     a claimed yearly reminder is abandoned after this long
                        (production: 30 minutes)
FAULT_MAIL_LOG          e-mail goes to this file, one line per message
FAULT_MAIL_DELAY        seconds each message takes to send
FAULT_MAIL_BLOCK_AT     the n-th message of the log blocks for good (once):
                        the worker is killed while it sends
FAULT_PAUSE_MODEL       app_label.Model: after the first row of it is saved in
                        a request, write FAULT_PAUSE_MARKER with the
                        database backend's pid and wait FAULT_PAUSE_SECONDS
                        (once), inside the request's transaction
FAULT_APPLICATION_NAME  PostgreSQL application_name of this process's
                        connections, so a test kills exactly those
"""

import datetime
import fcntl
import os
import time
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


def _env_float(name):
    value = os.environ.get(name)
    return float(value) if value else None


def install():
    from django.conf import settings

    if os.environ.get("FAULT_APPLICATION_NAME"):
        options = settings.DATABASES["default"].setdefault("OPTIONS", {})
        options["application_name"] = os.environ["FAULT_APPLICATION_NAME"]
    if os.environ.get("FAULT_MAIL_LOG"):
        settings.EMAIL_BACKEND = "tests.faults.instrument.MailLog"
    _retention()
    _reminders()
    _pause()


def _retention():
    from retention import engine, tasks
    from retention.models import PurgeRun

    delay = _env_float("FAULT_BATCH_DELAY")
    if delay:
        original = engine.purge_batch

        def slow_batch(category, pupil_ids):
            rows = original(category, pupil_ids)
            time.sleep(delay)
            return rows

        engine.purge_batch = slow_batch
    if os.environ.get("FAULT_BATCH_SIZE"):
        tasks.CONFIRMED_BATCH_SIZE = int(os.environ["FAULT_BATCH_SIZE"])
    stale = _env_float("FAULT_STALE_SECONDS")
    if stale:
        engine.LOCK_STALE_AFTER = datetime.timedelta(seconds=stale)
        PurgeRun.STALLED_AFTER = datetime.timedelta(seconds=stale)


def _reminders():
    from consent import tasks

    claim = _env_float("FAULT_CLAIM_SECONDS")
    if claim:
        tasks.CLAIM_TIMEOUT = datetime.timedelta(seconds=claim)


class MailLog(BaseEmailBackend):
    """One line per message ("<to>\\t<subject>") appended to FAULT_MAIL_LOG
    under a file lock, so several worker processes can share it."""

    def send_messages(self, email_messages):
        path = Path(os.environ["FAULT_MAIL_LOG"])
        delay = _env_float("FAULT_MAIL_DELAY")
        block_at = int(os.environ.get("FAULT_MAIL_BLOCK_AT") or 0)
        for message in email_messages:
            if delay:
                time.sleep(delay)
            if block_at:
                self._maybe_block(path, block_at)
            with open(path, "a") as log:
                fcntl.flock(log, fcntl.LOCK_EX)
                for to in message.to:
                    log.write(f"{to}\t{message.subject}\n")
                log.flush()
                os.fsync(log.fileno())
        return len(email_messages)

    @staticmethod
    def _maybe_block(path, block_at):
        marker = path.with_suffix(".blocked")
        sent = len(path.read_text().splitlines()) if path.exists() else 0
        if sent == block_at - 1 and not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(3600)  # until the test kills this process


def _pause():
    label = os.environ.get("FAULT_PAUSE_MODEL")
    if not label:
        return
    from django.apps import apps
    from django.db import connection
    from django.db.models.signals import post_save

    model = apps.get_model(label)
    marker = Path(os.environ["FAULT_PAUSE_MARKER"])
    seconds = float(os.environ.get("FAULT_PAUSE_SECONDS", "5"))

    def pause(sender, **kwargs):
        if marker.exists():
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        marker.write_text(str(backend))
        time.sleep(seconds)

    post_save.connect(pause, sender=model, weak=False)
