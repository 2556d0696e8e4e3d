"""Fixtures of the workflow tests.

`world` runs seed_demo once per module (with only the agencies the tests use, so that it skips the
national directory), inside a transaction that is rolled back at the module's end; each test runs in a
savepoint inside it (pytest-django's `db`), so tests cannot see each other's cases. Module scope, not
package scope: the transactional tests of test_concurrency.py run last but still inside this package,
and must not find a transaction left open.
Transactional tests (test_concurrency.py) build their own committed world with tests.world.build_small_world().
"""

from unittest import mock

import pytest
from django.db import transaction

from applications.documents import tasks as document_tasks
from applications.notify import tasks as notify_tasks
from tests.workflow.helpers import install_renderer
from tests.world import build_small_world


@pytest.fixture(scope="module")
def world_module(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        module_transaction = transaction.atomic()
        module_transaction.__enter__()
        try:
            yield build_small_world()
        finally:
            transaction.set_rollback(True)
            module_transaction.__exit__(None, None, None)


@pytest.fixture
def world(world_module, db):
    return world_module


@pytest.fixture
def private_dir(settings, tmp_path):
    """Rendered documents and materials go to a fresh directory for each test."""
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"
    return settings.PRIVATE_STORAGE_DIR


@pytest.fixture
def delay():
    """render_document.delay (and the notification e-mails' delay) replaced by mocks: what is under test
    is when the services dispatch, not the broker."""
    with (
        mock.patch.object(document_tasks.render_document, "delay") as render_delay,
        mock.patch.object(notify_tasks.send_notification_emails, "delay"),
    ):
        yield render_delay


@pytest.fixture
def renderer(monkeypatch):
    """applications.documents: the real one if it exists, else a stand-in returning a small valid PDF.
    Returns (module, is_real)."""
    return install_renderer(monkeypatch)
