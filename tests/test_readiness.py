"""/healthz (liveness) and /readyz (readiness), and `manage.py readiness`, which the worker's and beat's
healthchecks and `make stack` use: ready, and each way of not being ready."""

import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from applications.cases import services
from applications.models import OfficialDocument
from tests.test_settings_and_deployment import ROOT, clean_env
from tests.world import build_small_world, new_case

pytestmark = pytest.mark.django_db


def free_port() -> int:
    """A port nothing listens on (a service that does not answer)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"
    return settings.PRIVATE_STORAGE_DIR


def readiness(client):
    """The plain-text report (the JSON one is in tests/test_error_pages.py)."""
    response = client.get("/readyz", HTTP_ACCEPT="text/plain")
    return response.status_code, response.content.decode()


def test_ready_reports_every_check(client, storage):
    status, body = readiness(client)
    assert status == 200, body
    lines = body.splitlines()
    assert lines[0] == "ready"
    assert [line.split(":")[0] for line in lines[1:5]] == ["database", "broker", "storage", "documents"]
    assert all(": ok (" in line for line in lines[1:5]), body
    assert list(storage.iterdir()) == []  # the probe file is gone again


def test_healthz_is_liveness_only(client, django_assert_num_queries, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # not even a dead broker matters
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")


def test_a_broker_that_does_not_answer_is_not_ready(client, storage, settings):
    port = free_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    status, body = readiness(client)
    assert status == 503
    assert body.startswith("not ready\n")
    assert f"broker: FAILED (Redis at 127.0.0.1:{port}/0 does not answer" in body
    assert "database: ok" in body  # the other checks still report


def test_private_storage_that_cannot_be_written_is_not_ready(client, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings.PRIVATE_STORAGE_DIR = blocker / "private"
    status, body = readiness(client)
    assert status == 503
    assert "storage: FAILED (private storage is not writable" in body


@pytest.fixture
def pending_document():
    world = build_small_world()
    case = new_case(world)
    services.advance(case, "submit", world.applicant)  # no worker: the document stays pending
    return OfficialDocument.objects.get(application=case)


def age(document, *, created=0, queued=0, attempts=0):
    now = timezone.now()
    OfficialDocument.objects.filter(pk=document.pk).update(
        created_at=now - timedelta(seconds=created),
        queued_at=now - timedelta(seconds=queued),
        attempts=attempts,
    )


def test_a_document_pending_longer_than_the_stuck_threshold_is_not_ready(
    client, storage, settings, pending_document
):
    settings.DOCUMENT_STUCK_AFTER_SECONDS = 180
    assert readiness(client)[0] == 200  # just queued

    age(pending_document, created=200, queued=200)
    status, body = readiness(client)
    assert status == 503
    assert "documents: FAILED (1 pending longer than 180 s, the oldest created 200 s ago" in body

    # The sweeper queued it again a moment ago, but no worker has ever tried it: still stuck.
    age(pending_document, created=200, queued=10)
    assert readiness(client)[0] == 503

    # A document a clerk retried a moment ago (it failed once, long ago) is waiting, not stuck.
    age(pending_document, created=86_400, queued=10, attempts=1)
    assert readiness(client)[0] == 200

    OfficialDocument.objects.filter(pk=pending_document.pk).update(status=OfficialDocument.Status.READY)
    age(pending_document, created=86_400, queued=86_400, attempts=1)
    assert readiness(client)[0] == 200  # rendered: nothing waits


def test_probes_answer_on_the_loopback_in_production(client, storage):
    """A container healthcheck calls http://127.0.0.1:8000/readyz: neither the host check nor the HTTPS
    redirect of production may refuse it, while every page still gets both."""
    with override_settings(ALLOWED_HOSTS=["portal.example.cn"], SECURE_SSL_REDIRECT=True):
        for path in ("/healthz", "/readyz"):
            assert client.get(path, HTTP_HOST="127.0.0.1:8000").status_code == 200, path
        assert client.get("/accounts/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400
        assert client.get("/accounts/login/", HTTP_HOST="portal.example.cn").status_code == 301


def manage_readiness(*args, **variables):
    return subprocess.run(
        [sys.executable, "manage.py", "readiness", *args],
        cwd=ROOT,
        env=clean_env(**variables),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_reports_a_database_that_does_not_answer(tmp_path):
    port = free_port()
    for args in ((), ("--services",)):
        result = manage_readiness(
            *args,
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/portal",
            PRIVATE_STORAGE_DIR=str(tmp_path / "private"),
        )
        assert result.returncode == 1, result.stdout + result.stderr
        assert "not ready\n" in result.stderr
        assert f"database: FAILED (PostgreSQL at 127.0.0.1:{port}/portal does not answer" in result.stderr


def test_the_command_checks_only_the_services_before_migrations(tmp_path):
    # An empty SQLite file: no tables yet, which is what `make stack` meets on a fresh database.
    database = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    services_only = manage_readiness("--services", DATABASE_URL=database)
    assert services_only.returncode == 0, services_only.stderr
    assert [line.split(":")[0] for line in services_only.stdout.splitlines()[1:]] == ["database", "broker"]
    everything = manage_readiness(DATABASE_URL=database, PRIVATE_STORAGE_DIR=str(tmp_path / "private"))
    assert everything.returncode == 1
    assert "documents: FAILED (cannot count pending documents" in everything.stderr
