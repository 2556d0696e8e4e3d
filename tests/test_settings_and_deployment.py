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
    "PRIVATE_STORAGE_DIR",
    "GUNICORN_CMD_ARGS",
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


def test_make_stack_runs_the_procfile_through_the_stack_script():
    # The smoke test (tests/integration/test_stack.py) runs this same script, so they cannot drift apart.
    assert makefile_recipe("stack") == ["$(BIN)/python scripts/stack.py"]
    script = (ROOT / "scripts" / "stack.py").read_text()
    assert 'default=ROOT / "Procfile"' in script


def stack_script(**variables):
    """scripts/stack.py as a new user's shell runs it: PATH without the project's environment."""
    project_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != project_bin)
    return subprocess.run(
        [sys.executable, "scripts/stack.py"],
        cwd=ROOT,
        env=clean_env(PATH=path, **variables),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_stack_needs_database_url_and_redis_url():
    result = stack_script()
    assert result.returncode == 1
    assert "DATABASE_URL and REDIS_URL must be set (see .env.example)" in result.stdout


def test_make_stack_refuses_when_postgresql_and_redis_do_not_answer():
    result = stack_script(
        DATABASE_URL="postgres://postgres@127.0.0.1:1/transfer_portal", REDIS_URL="redis://127.0.0.1:1/0"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "database: FAILED (PostgreSQL at 127.0.0.1:1/transfer_portal does not answer" in result.stdout
    assert "broker: FAILED (Redis at 127.0.0.1:1/0 does not answer" in result.stdout
    assert "start it or correct the variable, then run make stack again" in result.stdout
    assert "manage.py migrate" not in result.stdout  # it stopped before touching anything


def dockerfile_instructions():
    """(instruction, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [tuple(line.split(None, 1)) for line in lines]


def test_the_image_puts_its_virtualenv_first_on_path():
    instructions = dockerfile_instructions()
    env_path = next(args for op, args in instructions if op == "ENV" and "PATH=" in args)
    venv_bin = re.search(r"PATH=([^:\s]+):\$PATH", env_path).group(1)
    venv = venv_bin.removesuffix("/bin")
    runs = [args for op, args in instructions if op == "RUN"]
    created = next(i for i, args in enumerate(runs) if f"-m venv {venv}" in args)
    installed = next(i for i, args in enumerate(runs) if "pip install" in args)
    assert created < installed, "dependencies must go into the virtualenv"
    # The image's default command is the Procfile's web process.
    cmd = next(args for op, args in instructions if op == "CMD")
    assert " ".join(json.loads(cmd)) == procfile()["web"]


def test_the_image_leaves_out_the_local_environment():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".env", "var", ".git"} <= set(ignored)


def test_compose_healthchecks_use_readiness():
    services = compose_services()
    assert "http://127.0.0.1:8000/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("worker", "beat"):
        assert "manage.py readiness" in " ".join(services[name]["healthcheck"]["test"]), name


def seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smh])", duration))


def test_compose_lets_work_in_flight_finish_on_stop():
    from django.conf import settings

    services = compose_services()
    # Docker's default is 10 s before SIGKILL: a rendering would be cut off and only come back after the
    # broker's visibility timeout.
    assert seconds(services["worker"]["stop_grace_period"]) > settings.CELERY_TASK_TIME_LIMIT
    assert seconds(services["web"]["stop_grace_period"]) > 30  # gunicorn's graceful timeout


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
