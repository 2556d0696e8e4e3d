"""The Celery application. Configuration lives in settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "transfer_portal.settings")

app = Celery("transfer_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The rooms of the applications app keep their own tasks modules.
app.autodiscover_tasks(["applications.cases", "applications.documents", "applications.notify"])
