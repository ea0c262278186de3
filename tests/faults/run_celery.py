"""Start a Celery worker or beat of the application with the fault
instrumentation (instrument.py) installed first:

    python tests/faults/run_celery.py worker -c 1 -n faults1@%h
    python tests/faults/run_celery.py beat -s FILE

FAULT_VISIBILITY_TIMEOUT shortens how long Redis waits before it redelivers a
task nobody acknowledged (production: 1 hour) and makes the worker look for
such tasks every second. FAULT_BEAT_TASKS (comma-separated task names) with
FAULT_BEAT_INTERVAL replaces the schedule: each of those jobs fires every that
many seconds, so two beats fire them many times within a short test."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacy_admin.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from privacy_admin.celery import app  # noqa: E402
from tests.faults import instrument  # noqa: E402

instrument.install()

if os.environ.get("FAULT_VISIBILITY_TIMEOUT"):
    app.conf.broker_transport_options = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "visibility_timeout": float(os.environ["FAULT_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
if os.environ.get("FAULT_BEAT_TASKS"):
    interval = float(os.environ.get("FAULT_BEAT_INTERVAL", "1"))
    app.conf.beat_schedule = {
        name: {"task": name, "schedule": interval} for name in os.environ["FAULT_BEAT_TASKS"].split(",")
    }

if __name__ == "__main__":
    app.start(argv=sys.argv[1:])
