"""gunicorn's entry for the fault tests: the application's WSGI handler with
the fault instrumentation (instrument.py) installed first."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacy_admin.settings")

import django  # noqa: E402

django.setup(set_prefix=False)

from tests.faults import instrument  # noqa: E402

instrument.install()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

application = WSGIHandler()
