"""The Celery app. Broker: REDIS_URL; without it tasks run in-process
(CELERY_TASK_ALWAYS_EAGER), so the embedded default needs no Redis."""

import os

from celery import Celery

from privacy_admin.schedule import BEAT_SCHEDULE

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacy_admin.settings")

app = Celery("privacy_admin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = BEAT_SCHEDULE
app.autodiscover_tasks()
