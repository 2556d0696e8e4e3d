"""Liveness for the container healthcheck: the database answers, and Redis when it is configured."""

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    if settings.REDIS_URL:
        cache.set("healthz", "ok", 5)
    return HttpResponse("ok", content_type="text/plain")
