"""Liveness and readiness, for container healthchecks, load balancers and monitoring.

- /healthz (liveness): the process answers. It touches nothing else, so an outage of the database does
  not make every web process look dead and get restarted.
- /readyz (readiness): the database answers, the broker answers, private storage is writable, and no
  official document has waited longer than DOCUMENT_STUCK_AFTER_SECONDS to be rendered. 200 when all
  hold, 503 otherwise. The body is JSON naming the dependencies that failed and each check's detail;
  with Accept: text/plain (or ?format=text) the same as a plain report, one line per check.
  `manage.py readiness` prints the plain report (exit status 1 when not ready) for the worker's and
  beat's healthchecks.

ProbeMiddleware answers both before any other middleware: a healthcheck calls the process by its address
over plain HTTP (http://127.0.0.1:8000/readyz), which the host check (ALLOWED_HOSTS) and the HTTPS
redirect of production would otherwise refuse, and a probe needs no session, language or CSRF cookie.
"""

import os
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from transfer_portal.errors import add_security_headers

# A probe must answer well inside a healthcheck's timeout even when a service hangs.
PROBE_TIMEOUT_SECONDS = 3


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.name}: {'ok' if self.ok else 'FAILED'} ({self.detail})"


def where(url: str) -> str:
    """host:port/path of a service URL, without credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{host}:{parts.port}{parts.path}" if parts.port else f"{host}{parts.path}"


def check_database() -> Check:
    params = connection.settings_dict
    if connection.vendor == "postgresql":
        label = (
            f"PostgreSQL at {params.get('HOST') or 'localhost'}:{params.get('PORT') or 5432}/{params['NAME']}"
        )
    else:
        label = f"{connection.vendor} {params['NAME']}"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any driver error means "does not answer"
        # A broken connection must not stay in this thread for the next request.
        connection.close_if_unusable_or_obsolete()
        return Check("database", False, f"{label} does not answer: {one_line(error)}")
    return Check("database", True, label)


def check_broker() -> Check:
    if not settings.REDIS_URL:
        return Check("broker", True, "none: tasks run in-process (REDIS_URL is not set)")
    import redis

    label = f"Redis at {where(settings.REDIS_URL)}"
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        socket_timeout=PROBE_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
        # Messages waiting for a worker in the default queue (Celery's Redis transport keeps a list).
        waiting = client.llen(default_queue())
    except redis.RedisError as error:
        return Check("broker", False, f"{label} does not answer: {one_line(error)}")
    finally:
        client.close()
    return Check("broker", True, f"{label}, {waiting} tasks waiting in queue {default_queue()}")


def default_queue() -> str:
    return getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")


def check_storage() -> Check:
    directory = settings.PRIVATE_STORAGE_DIR
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".readyz-") as probe:
            probe.write(b"ok")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as error:
        return Check("storage", False, f"private storage is not writable: {one_line(error)}")
    return Check("storage", True, "private storage is writable")


def stuck_documents():
    """Documents waiting to be rendered for longer than the stuck threshold: queued (or queued again by a
    person's retry) that long ago, or never attempted since they were created that long ago. The second
    condition holds while no worker renders anything, even though the sweeper re-queues them (and resets
    `queued_at`) every minute."""
    from applications.models import OfficialDocument

    cutoff = timezone.now() - timedelta(seconds=settings.DOCUMENT_STUCK_AFTER_SECONDS)
    return OfficialDocument.objects.filter(status=OfficialDocument.Status.PENDING).filter(
        Q(queued_at__lt=cutoff) | Q(attempts=0, created_at__lt=cutoff)
    )


def check_documents() -> Check:
    threshold = settings.DOCUMENT_STUCK_AFTER_SECONDS
    try:
        stuck = stuck_documents().aggregate(count=Count("pk"), oldest=Min("created_at"))
    except Exception as error:  # no database, or not migrated yet
        connection.close_if_unusable_or_obsolete()
        return Check("documents", False, f"cannot count pending documents: {one_line(error)}")
    if stuck["count"]:
        age = int((timezone.now() - stuck["oldest"]).total_seconds())
        return Check(
            "documents",
            False,
            f"{stuck['count']} pending longer than {threshold} s, the oldest created {age} s ago: "
            "are the workers running?",
        )
    return Check("documents", True, f"none pending longer than {threshold} s")


def one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]


SERVICE_CHECKS = (check_database, check_broker)
ALL_CHECKS = (check_database, check_broker, check_storage, check_documents)


def readiness(checks=ALL_CHECKS) -> list[Check]:
    return [check() for check in checks]


def report(results: list[Check], elapsed: float | None = None) -> str:
    ready = all(result.ok for result in results)
    lines = ["ready" if ready else "not ready", *(result.line() for result in results)]
    if elapsed is not None:
        lines.append(f"checked in {elapsed * 1000:.0f} ms")
    return "\n".join(lines) + "\n"


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def as_json(results: list[Check], elapsed: float) -> dict:
    """The report for monitoring and load balancers: ready or not, which dependencies failed, and each
    check with its detail."""
    return {
        "ready": all(result.ok for result in results),
        "failed": [result.name for result in results if not result.ok],
        "checks": {result.name: {"ok": result.ok, "detail": result.detail} for result in results},
        "elapsed_ms": round(elapsed * 1000),
    }


def wants_text(request) -> bool:
    """Plain text for a person or a script that asks for it (Accept: text/plain, or ?format=text); JSON
    otherwise, which is what monitoring reads."""
    if request.GET.get("format") == "text":
        return True
    accept = request.headers.get("Accept", "")
    return "text/plain" in accept and "application/json" not in accept


def readyz(request):
    started = time.monotonic()
    results = readiness()
    elapsed = time.monotonic() - started
    status = 200 if all(result.ok for result in results) else 503
    if wants_text(request):
        response = HttpResponse(
            report(results, elapsed), status=status, content_type="text/plain; charset=utf-8"
        )
    else:
        response = JsonResponse(
            as_json(results, elapsed), status=status, json_dumps_params={"ensure_ascii": False}
        )
    response["Cache-Control"] = "no-store"
    return response


PROBES = {"/healthz": healthz, "/readyz": readyz}


class ProbeMiddleware:
    """First in MIDDLEWARE: answers /healthz and /readyz before host validation and the HTTPS redirect."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is None or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        # The headers every answer of the portal carries (the middleware that adds them is skipped here).
        return add_security_headers(probe(request))
