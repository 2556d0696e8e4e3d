"""Shared test set-up.

- PORTAL_REQUIRE_SERVICES (set by .ci/run): the run fails before any test when the database is not
  PostgreSQL or when PostgreSQL or Redis does not answer. CI must never pass by quietly falling back
  to SQLite and the in-process defaults.
- Every test database already holds the 6,781 GB/T 2260 regions (migration agencies.0002).
"""

import gettext
import io
import os
import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from agencies.models import Agency, Region
from agencies.reference import load_demo_agencies


def missing_services(database, redis_url):
    """What is wrong with this database (a DATABASES entry) and Redis URL; an empty list if nothing."""
    import psycopg2
    import redis

    problems = []
    if database["ENGINE"] != "django.db.backends.postgresql":
        problems.append(
            f"the database engine is {database['ENGINE']}, not PostgreSQL "
            "(set DATABASE_URL=postgres://postgres@127.0.0.1:5432/transfer_portal)"
        )
    else:
        params = {
            "host": database.get("HOST"),
            "port": database.get("PORT"),
            "user": database.get("USER"),
            "password": database.get("PASSWORD"),
        }
        try:
            psycopg2.connect(
                dbname="postgres", connect_timeout=5, **{k: v for k, v in params.items() if v}
            ).close()
        except psycopg2.Error as error:
            problems.append(f"PostgreSQL does not answer at {params['host']}:{params['port']}: {error}")
    if not redis_url:
        problems.append("REDIS_URL is not set (set REDIS_URL=redis://127.0.0.1:6379/0)")
    else:
        try:
            redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3).ping()
        except redis.RedisError as error:
            problems.append(f"Redis does not answer at {redis_url}: {error}")
    return problems


def pytest_configure(config):
    # WhiteNoise looks for STATIC_ROOT, which only collectstatic (make stack, the image) creates.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


def pytest_sessionstart(session):
    if not os.environ.get("PORTAL_REQUIRE_SERVICES"):
        return
    from django.conf import settings

    problems = missing_services(settings.DATABASES["default"], settings.REDIS_URL)
    if problems:
        raise pytest.UsageError(
            "PORTAL_REQUIRE_SERVICES is set, so the tests must run against PostgreSQL and Redis, but "
            + "; ".join(problems)
        )


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """The production hasher costs ~0.2 s per password; tests only need passwords to round-trip."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def is_chinese(text):
    return bool(re.search(r"[\u4e00-\u9fff]", text))


@pytest.fixture(scope="session")
def chinese_catalogue(tmp_path_factory):
    """locale/zh_Hans as msgfmt compiles it, read from a temporary file: tests of the catalogue do not
    depend on whether `make messages` has run, and do not write into the source tree."""
    po = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    mo = tmp_path_factory.mktemp("zh_Hans") / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)
    with open(mo, "rb") as handle:
        return gettext.GNUTranslations(handle)


@pytest.fixture
def demo_agencies(db):
    """The demo agency directory (two agencies per prefecture); returns how many were upserted."""
    return load_demo_agencies(Agency, Region)


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    """`manage.py seed_demo` once per test module.

    The data lives in a transaction that stays open for the module and is rolled back at its end;
    each test runs in a savepoint inside it (pytest-django's `db`), so tests cannot see each other's
    changes. Tests using it must also request `db` (or `client`/`admin_client` with a db mark).
    """
    with django_db_blocker.unblock():
        module_transaction = transaction.atomic()
        module_transaction.__enter__()
        try:
            call_command("seed_demo", stdout=io.StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            module_transaction.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def agency_staff_pass_second_factor(monkeypatch):
    """Agency staff and administrators must pass a TOTP second factor (applications.people.second_factor). A test
    that logs a user in with force_login means "this user is logged in", so for agency staff the session is
    also marked as verified (tests.world.pass_second_factor, as tests.world.login does). Tests of the second
    factor itself log in through the real pages."""
    from django.test import Client

    from tests.world import pass_second_factor

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        pass_second_factor(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)
