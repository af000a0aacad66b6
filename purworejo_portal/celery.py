"""Celery app; configured from settings (CELERY_*): late acks, JSON only, eager without Redis."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "purworejo_portal.settings.local")

app = Celery("purworejo_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
