"""A real Celery worker process on Redis and PostgreSQL.

The worker runs `celery -A transfer_portal worker` as a subprocess against the *test* database, on a
Redis database and queue of its own (a fresh queue name per test, purged at the end, so messages of
other runs can never reach it), and writes PDFs to the same temporary private storage as the test.
In the test process a Celery app with the same settings but that broker and queue is made current, so
the `render_document.delay()` the services call after commit goes to that worker.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from celery import Celery
from celery import current_app as current_celery_app
from django.conf import settings
from django.db import connection

from tests.workflow.helpers import require_services
from tests.world import build_small_world

BASE_DIR = Path(settings.BASE_DIR)
REDIS_DB = 13  # a Redis database of its own, away from the development/production database 0


@dataclass
class Broker:
    app: Celery
    url: str
    queue: str


def dedicated_redis_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", "", ""))


def worker_database_url() -> str:
    params = connection.settings_dict
    user = quote(params.get("USER") or "", safe="")
    password = quote(params.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{params['NAME']}"


def forget_queue(url: str, queue: str):
    """Remove the queue and every message of it Redis still holds as delivered but unacknowledged (a
    killed worker's message comes back only after the visibility timeout)."""
    client = redis.Redis.from_url(url)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    for tag, payload in client.hgetall("unacked").items():
        try:
            routing_key = json.loads(payload)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    client.close()


@pytest.fixture
def broker():
    require_services(redis=True)
    url = dedicated_redis_url(settings.REDIS_URL)
    queue = f"itest-{uuid.uuid4().hex[:12]}"
    previous = current_celery_app._get_current_object()
    app = Celery("transfer_portal", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=url, task_always_eager=False, task_default_queue=queue)
    # Current for this thread only: on_commit callbacks run here; the default app (other threads) stays.
    app.set_current()
    try:
        yield Broker(app, url, queue)
    finally:
        previous.set_current()
        app.close()
        forget_queue(url, queue)


class Worker:
    """One `celery worker` process group (the main process and its single pool child)."""

    def __init__(self, broker: Broker, storage: Path, log_path: Path, *, env=None, concurrency=1):
        self.broker, self.storage, self.log_path = broker, storage, log_path
        self.extra_env, self.concurrency = env or {}, concurrency
        self.process = None

    def environment(self):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "transfer_portal.settings",
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": self.broker.url,
            "PRIVATE_STORAGE_DIR": str(self.storage),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        env.pop("PORTAL_REQUIRE_SERVICES", None)
        return env

    def command(self):
        return [
            sys.executable, "-m", "celery", "-A", "transfer_portal", "worker",
            "--queues", self.broker.queue, "--concurrency", str(self.concurrency), "--loglevel", "INFO",
            "--hostname", f"{self.broker.queue}-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip

    def start(self):
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.offset = self.log_path.stat().st_size
        self.process = subprocess.Popen(
            self.command(),
            cwd=BASE_DIR,
            env=self.environment(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def output(self) -> str:
        return self.log_path.read_bytes()[self.offset :].decode(errors="replace")

    def wait_until_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.output():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"the worker did not start:\n{self.tail()}", pytrace=False)

    def pool_children(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]

    def kill(self):
        """SIGKILL the whole worker (main process and pool child): no warm shutdown, no acknowledgement."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # warm shutdown
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()

    def tail(self, lines=60) -> str:
        return "\n".join(self.output().splitlines()[-lines:])


class Beat(Worker):
    """`celery beat` with the project's schedule (the sweeps), sending to the broker's default queue."""

    def __init__(self, broker: Broker, storage: Path, log_path: Path, schedule: Path, *, env=None):
        super().__init__(broker, storage, log_path, env=env)
        self.schedule = schedule

    def command(self):
        return [
            sys.executable, "-m", "celery", "-A", "transfer_portal", "beat", "--loglevel", "INFO",
            "--schedule", str(self.schedule),
        ]  # fmt: skip

    def wait_until_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "beat: Starting..." in self.output():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"beat did not start:\n{self.tail()}", pytrace=False)


@pytest.fixture
def storage(settings, tmp_path):
    """The private storage both the worker and the test process use."""
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"
    settings.PRIVATE_STORAGE_DIR.mkdir()
    return settings.PRIVATE_STORAGE_DIR


@pytest.fixture
def workers(transactional_db, broker, storage, tmp_path):
    """Start workers with `workers()`; all are stopped (terminate, then kill) before the database is
    flushed."""
    started = []

    def start(**options):
        worker = Worker(broker, storage, tmp_path / "worker.log", **options).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def world(transactional_db):
    require_services(redis=True)
    return build_small_world()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own on a free port, keeping nothing on disk: restarting or stopping it
    disturbs no other user of the machine's Redis."""

    def __init__(self, directory):
        self.port, self.directory, self.process = free_port(), directory, None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=1).ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.1)
        pytest.fail("the test's own redis-server did not start", pytrace=False)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
