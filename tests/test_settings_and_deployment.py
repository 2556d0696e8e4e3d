"""Settings from the environment, the production check, and the full stack's wiring (compose, Procfile,
Makefile, CI)."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import missing_services

ROOT = Path(__file__).resolve().parent.parent
# Variables the tests' own environment may carry that would change what a fresh process sees.
PORTAL_VARIABLES = (
    "PORTAL_ENV",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "PORTAL_REQUIRE_SERVICES",
    "DJANGO_SETTINGS_MODULE",
)


def clean_env(**variables):
    # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' (tests/e2e) and no deployment has it.
    env = {
        k: v for k, v in os.environ.items() if k not in PORTAL_VARIABLES and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(variables)
    return env


def run(args, **variables):
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=clean_env(**variables),
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "PORTAL_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "portal.example.cn",
}


# --- manage.py check --deploy -------------------------------------------------------------------------


def test_production_mode_passes_the_deployment_check():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_development_mode_fails_the_deployment_check():
    # The same key and hosts: only the mode differs, so this proves the check bites.
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **{**PRODUCTION, "PORTAL_ENV": "development"},
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on


def test_production_refuses_to_start_without_a_secret_key():
    result = run(["-c", "import transfer_portal.settings"], PORTAL_ENV="production", ALLOWED_HOSTS="x.cn")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


# --- what the environment switches ----------------------------------------------------------------------

SHOW_SETTINGS = """
import json
from transfer_portal import settings as s
print(json.dumps({
    "debug": s.DEBUG,
    "engine": s.DATABASES["default"]["ENGINE"],
    "name": str(s.DATABASES["default"]["NAME"]),
    "eager": s.CELERY_TASK_ALWAYS_EAGER,
    "broker": s.CELERY_BROKER_URL,
    "cache": s.CACHES["default"]["BACKEND"],
    "email": s.EMAIL_BACKEND,
    "language": s.LANGUAGE_CODE,
}))
"""


def settings_with(**variables):
    result = run(["-c", SHOW_SETTINGS], **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_with_nothing_set_the_portal_runs_embedded():
    seen = settings_with()
    assert seen["debug"] is True
    assert seen["engine"] == "django.db.backends.sqlite3"
    assert seen["name"] == str(ROOT / "var" / "portal.sqlite3")
    assert seen["eager"] is True  # Celery tasks run in-process
    assert seen["broker"] == "memory://"
    assert seen["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert seen["email"] == "django.core.mail.backends.console.EmailBackend"
    assert seen["language"] == "zh-hans"


def test_database_url_and_redis_url_switch_to_the_real_stack():
    seen = settings_with(
        DATABASE_URL="postgres://postgres@db.example:5432/transfer_portal",
        REDIS_URL="redis://cache.example:6379/0",
    )
    assert seen["engine"] == "django.db.backends.postgresql"
    assert seen["name"] == "transfer_portal"
    assert seen["eager"] is False
    assert seen["broker"] == "redis://cache.example:6379/0"
    assert seen["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_production_never_debugs():
    assert settings_with(DEBUG="true", **PRODUCTION)["debug"] is False


def test_every_variable_the_settings_read_is_in_env_example():
    read = set(
        re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', (ROOT / "transfer_portal" / "settings.py").read_text())
    )
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE))
    assert read  # the pattern still matches how settings.py reads the environment
    assert read - listed == set()


# --- docker-compose, Procfile, Makefile -------------------------------------------------------------


def procfile():
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def compose_services():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def makefile_recipe(target):
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_procfile_runs_web_worker_and_beat():
    processes = procfile()
    assert set(processes) == {"web", "worker", "beat"}
    assert processes["web"].startswith("gunicorn transfer_portal.wsgi")
    assert processes["worker"].startswith("celery -A transfer_portal worker")
    assert processes["beat"].startswith("celery -A transfer_portal beat")


def test_compose_has_every_service_with_a_healthcheck():
    services = compose_services()
    for name in ("db", "redis", "web", "worker", "beat"):
        assert name in services, name
        healthcheck = services[name].get("healthcheck", {})
        assert healthcheck.get("test"), f"{name} has no healthcheck"
        assert not healthcheck.get("disable"), f"{name} has its healthcheck disabled"


@pytest.mark.parametrize("process", ["web", "worker", "beat"])
def test_compose_runs_the_procfile_commands(process):
    assert compose_services()[process]["command"] == procfile()[process]


def test_compose_app_services_use_postgresql_and_redis():
    for name in ("web", "worker", "beat"):
        environment = compose_services()[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://redis:")
        assert environment["PORTAL_ENV"] == "production"


def test_make_stack_runs_the_procfile():
    recipe = makefile_recipe("stack")
    assert any(re.search(r"honcho start -f Procfile$", line) for line in recipe), recipe


def test_make_test_runs_lint_migration_check_and_pytest():
    prerequisites = next(
        line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("test:")
    )
    assert {"lint", "migrate-check"} <= set(prerequisites.split())
    assert any("pytest" in line for line in makefile_recipe("test"))


def test_ci_requires_the_services_and_runs_make_test():
    script = (ROOT / ".ci" / "run").read_text()
    assert "export PORTAL_REQUIRE_SERVICES=1" in script
    assert "export DATABASE_URL=" in script
    assert "export REDIS_URL=" in script
    assert script.rstrip().endswith("make test")


# --- the CI guard in conftest.py ---------------------------------------------------------------------


def test_the_guard_names_sqlite_and_a_silent_redis():
    problems = missing_services({"ENGINE": "django.db.backends.sqlite3"}, "redis://127.0.0.1:1/0")
    assert len(problems) == 2
    assert "not PostgreSQL" in problems[0]
    assert "Redis does not answer" in problems[1]


def test_the_guard_names_a_silent_postgresql_and_a_missing_redis_url():
    database = {"ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1", "PORT": 1, "USER": "postgres"}
    problems = missing_services(database, "")
    assert len(problems) == 2
    assert "PostgreSQL does not answer" in problems[0]
    assert "REDIS_URL is not set" in problems[1]


def test_the_guard_fails_the_run_when_services_are_required():
    result = run(
        ["-m", "pytest", "--collect-only", "-q", "tests/test_settings_and_deployment.py"],
        PORTAL_REQUIRE_SERVICES="1",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "PORTAL_REQUIRE_SERVICES is set" in result.stderr
    assert "not PostgreSQL" in result.stderr


# --- /healthz ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
