"""Redis restarted while the portal runs (it keeps nothing on disk here, so every queued message is
lost): no case is stuck for good. The clerk's action still succeeds while the broker is down, the
document waits as pending, and once Redis is back the sweeper queues it and a worker renders it.

Runs a Redis server of its own on a free port, so restarting it disturbs nothing else. Needs PostgreSQL
(and the redis-server program): under PORTAL_REQUIRE_SERVICES it fails without them, otherwise skips."""

import shutil
import time
import uuid

import pytest
from celery import Celery
from celery import current_app as current_celery_app

from applications.cases import services
from applications.documents import tasks as document_tasks
from applications.models import OfficialDocument, State
from tests.integration.conftest import Broker, RedisServer, Worker, forget_queue
from tests.integration.test_worker_end_to_end import assert_stored_pdf, wait_until_rendered
from tests.workflow.helpers import require_services
from tests.world import new_case

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def own_redis(tmp_path):
    require_services(redis=True)
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed", pytrace=False)
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def own_broker(own_redis):
    queue = f"restart-{uuid.uuid4().hex[:12]}"
    previous = current_celery_app._get_current_object()
    app = Celery("transfer_portal", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=own_redis.url, task_always_eager=False, task_default_queue=queue)
    app.set_current()
    try:
        yield Broker(app, own_redis.url, queue)
    finally:
        previous.set_current()
        app.close()
        if own_redis.process.poll() is None:
            forget_queue(own_redis.url, queue)


def test_a_redis_restart_leaves_no_case_stuck(world, own_redis, own_broker, storage, settings, tmp_path):
    worker = Worker(own_broker, storage, tmp_path / "worker.log").start()
    try:
        worker.wait_until_ready()
        own_redis.stop()  # the broker goes away, and with it every message it held

        case = new_case(world)
        started = time.monotonic()
        services.advance(case, "submit", world.applicant)  # the dispatch after commit fails, quietly
        assert time.monotonic() - started < 20, "a user's action must not hang on a broker that is down"
        case.refresh_from_db()
        assert case.state == State.SUBMITTED  # the clerk's and applicant's work is kept
        document = OfficialDocument.objects.get(application=case)
        assert document.status == OfficialDocument.Status.PENDING

        own_redis.start()  # back, empty
        settings.DOCUMENT_STUCK_AFTER_SECONDS = 0
        assert document_tasks.sweep_stuck_documents() == 1
        wait_until_rendered([document], worker)
        document.refresh_from_db()
        assert (document.status, document.attempts) == (OfficialDocument.Status.READY, 1)
        assert_stored_pdf(OfficialDocument.objects.select_related("application").get(pk=document.pk), storage)
    finally:
        worker.stop()
