"""The full stack as `make stack` runs it, on a machine of its own: scripts/stack.py (what the Makefile
runs) starts the Procfile's gunicorn, Celery worker and beat against a fresh PostgreSQL database and a
redis-server of the test's own, with the caller's PATH lacking the project's environment. One case is
driven over HTTP through gunicorn, as people do it (pages, CSRF tokens, the clerk's second factor), from
filing to the contact letter, with the real worker rendering the PDFs. SIGTERM then stops the stack while
a download is in flight and the worker is rendering: both finish, and every process exits with 0.

A process that cannot start fails the test (test_a_process_that_cannot_start_fails_the_stack), and a
backup of the stack's database and private storage restores into a new database on which
verify_documents passes (scripts/backup, scripts/restore).

Needs PostgreSQL, the configured Redis (as the rule for integration tests says) and the redis-server
program: under PORTAL_REQUIRE_SERVICES these tests fail without them, otherwise they are skipped.
"""

import base64
import hashlib
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import HTTPCookieProcessor, Request, build_opener

import psycopg2
import pytest
from django.conf import settings
from pypdf import PdfReader

from tests.e2e.files import small_png
from tests.integration.conftest import RedisServer, free_port
from tests.test_settings_and_deployment import compose_services
from tests.workflow.helpers import require_services

ROOT = Path(settings.BASE_DIR)
STACK = ROOT / "scripts" / "stack.py"
DEMO_PASSWORD = "Demo-2026-portal"
APPLICANT = "360426199101010071"  # 张伟, hukou Jiujiang (seed_demo)
IN_CLERK = "clerk.hangzhou"  # transfer-in clerk of the Hangzhou pension agency
UP_SECONDS = 120  # migrations on a fresh database included
RENDER_SECONDS = 90


# --- the machine: a fresh database, a Redis of its own, private storage -------------------------------


def server_params():
    """Where the configured PostgreSQL is (the test database's server), without the database name."""
    params = settings.DATABASES["default"]
    return {
        "host": params.get("HOST") or "127.0.0.1",
        "port": int(params.get("PORT") or 5432),
        "user": params.get("USER") or "postgres",
        "password": params.get("PASSWORD") or "",
    }


def database_url(name: str) -> str:
    p = server_params()
    credentials = f"{p['user']}:{p['password']}@" if p["password"] else f"{p['user']}@"
    return f"postgres://{credentials}{p['host']}:{p['port']}/{name}"


def maintenance(statement: str):
    p = server_params()
    connection = psycopg2.connect(dbname="postgres", connect_timeout=5, **{k: v for k, v in p.items() if v})
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@dataclass
class Machine:
    directory: Path
    redis: RedisServer
    database: str
    databases: list[str] = field(default_factory=list)  # every database made here, dropped at the end
    journey: "Journey | None" = None

    @property
    def database_url(self) -> str:
        return database_url(self.database)

    @property
    def storage(self) -> Path:
        return self.directory / "private"

    def new_database(self, prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        maintenance(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return name

    def sql(self, query: str, params=(), database=None):
        p = server_params()
        connection = psycopg2.connect(dbname=database or self.database, **{k: v for k, v in p.items() if v})
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else None
        finally:
            connection.close()


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    require_services(redis=True)
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed", pytrace=False)
    directory = tmp_path_factory.mktemp("stack")
    redis = RedisServer(directory).start()
    machine = Machine(directory=directory, redis=redis, database="")
    try:
        machine.database = machine.new_database("stack_smoke")
        yield machine
    finally:
        redis.stop()
        for name in machine.databases:
            maintenance(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the stack: scripts/stack.py, as `make stack` runs it --------------------------------------------


def user_path() -> str:
    """The caller's PATH without the project's environment: what a new user's shell has."""
    project_bin = Path(sys.executable).parent.resolve()
    kept = [entry for entry in os.environ.get("PATH", os.defpath).split(os.pathsep) if entry]
    kept = [entry for entry in kept if Path(entry).resolve() != project_bin]
    return os.pathsep.join(kept or ["/usr/local/bin", "/usr/bin", "/bin"])


class StackRun:
    """One `scripts/stack.py` run; its output (every process's, prefixed) goes to a file."""

    def __init__(self, machine: Machine, name: str, procfile: Path | None = None):
        self.machine, self.procfile = machine, procfile
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = machine.directory / f"{name}.log"
        self.process = None

    def environment(self) -> dict[str, str]:
        # Only what a new user would have and set: no DJANGO_SETTINGS_MODULE, no test settings.
        home = self.machine.directory / "home"  # gunicorn keeps a control socket under $HOME
        home.mkdir(exist_ok=True)
        env = {
            "PATH": user_path(),
            "HOME": str(home),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "DATABASE_URL": self.machine.database_url,
            "REDIS_URL": self.machine.redis.url,
            "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{self.port}",
            # Kept away from the checkout's var/, which a developer's own `make stack` may be using.
            "PRIVATE_STORAGE_DIR": str(self.machine.storage),
            "CELERY_BEAT_SCHEDULE_FILENAME": str(self.machine.directory / "celerybeat-schedule"),
            # Beat sends the sweeper every 2 s instead of every minute: the test sees it at work.
            "DOCUMENT_SWEEP_INTERVAL_SECONDS": "2",
        }
        return env

    def start(self):
        command = [sys.executable, str(STACK)]
        if self.procfile:
            command += ["--procfile", str(self.procfile)]
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.environment(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self

    def output(self) -> str:
        return self.log_path.read_bytes().decode(errors="replace")

    def lines(self, name: str) -> list[str]:
        prefix = re.compile(rf"^{re.escape(name)}\s+\| ")
        return [prefix.sub("", line) for line in self.output().splitlines() if prefix.match(line)]

    def tail(self, count=80) -> str:
        return "\n".join(self.output().splitlines()[-count:])

    def pids(self) -> dict[str, int]:
        return {
            name: int(pid)
            for name, pid in re.findall(r"^stack\s+\| (\w+) started \(pid (\d+)\)", self.output(), re.M)
        }

    def get(self, path: str, timeout=5):
        try:
            with build_opener().open(self.base_url + path, timeout=timeout) as response:
                return response.status, response.read()
        except HTTPError as error:
            return error.code, error.read()
        except (URLError, OSError):
            return None, b""

    def wait_until_up(self, timeout=UP_SECONDS):
        """Every process of the Procfile is up: gunicorn answers /healthz and /readyz, the worker is ready,
        beat has sent its first periodic task, and nothing has exited two seconds later. Fails (never skips) otherwise."""
        deadline = time.monotonic() + timeout
        up_since = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"the stack stopped before it was up (exit status {self.process.returncode}):\n{self.tail()}",
                    pytrace=False,
                )
            missing = self.not_up()
            if missing:
                up_since = None
            elif up_since is None:
                up_since = time.monotonic()
            elif time.monotonic() - up_since >= 2:
                return self
            time.sleep(0.3)
        pytest.fail(
            f"the stack is not up after {timeout} s ({', '.join(self.not_up())}):\n{self.tail()}",
            pytrace=False,
        )

    def not_up(self) -> list[str]:
        missing = []
        if self.get("/healthz")[0] != 200:
            missing.append("web does not answer /healthz")
        else:
            status, body = self.get("/readyz")
            if status != 200:
                missing.append(f"web answers /readyz with {status}: {body.decode(errors='replace')!r}")
        if not any(re.search(r"celery@\S+ ready\.", line) for line in self.lines("worker")):
            missing.append("the worker is not ready")
        if not any("Sending due task sweep-stuck-documents" in line for line in self.lines("beat")):
            missing.append("beat has sent no periodic task")
        return missing

    def stop(self, timeout=150) -> int:
        """SIGTERM to scripts/stack.py, as Ctrl-C or a service manager does; its exit status."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.log.close()

    def clean_up(self):
        """After a failed test: nothing of this run may keep running."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # The Procfile's processes run in sessions of their own; only those this run started.
        for pid in self.pids().values():
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not self.log.closed:
            self.log.close()


@pytest.fixture
def stack_runs(machine):
    runs = []

    def start(name, procfile=None):
        run = StackRun(machine, name, procfile).start()
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.clean_up()


# --- a person's browser: cookies, CSRF tokens from the pages, redirects followed -----------------------


@dataclass
class Page:
    status: int
    url: str
    body: bytes
    content_type: str

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def csrf_token(self) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.text)
        assert match, f"no CSRF token on {self.url}"
        return match.group(1)


class Browser:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()))

    def request(self, path: str, data: bytes | None = None) -> Request:
        assert self.base_url.startswith("http://127.0.0.1:")
        return Request(self.base_url + path, data=data, method="POST" if data is not None else "GET")  # noqa: S310 - our own http URL

    def open(self, request: Request, timeout=60) -> Page:
        request.add_header("Accept-Language", "zh-CN")
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return Page(
                    response.status, response.url, response.read(), response.headers.get("Content-Type", "")
                )
        except HTTPError as error:
            return Page(error.code, error.url, error.read(), error.headers.get("Content-Type", ""))

    def get(self, path: str) -> Page:
        page = self.open(self.request(path))
        assert page.status == 200, f"GET {path}: HTTP {page.status}\n{page.text[:2000]}"
        return page

    def post(self, path: str, token: str, fields: list[tuple[str, str]], files=()) -> Page:
        """A form post with the page's CSRF token; files are (field, filename, content type, bytes)."""
        fields = [("csrfmiddlewaretoken", token), *fields]
        if files:
            boundary = uuid.uuid4().hex
            parts = []
            for name, value in fields:
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                )
            for name, filename, content_type, content in files:
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    f"Content-Type: {content_type}\r\n\r\n".encode()
                    + content
                    + b"\r\n"
                )
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            request = self.request(path, body)
            request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        else:
            request = self.request(path, urlencode(fields).encode())
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        page = self.open(request)
        assert page.status == 200, f"POST {path}: HTTP {page.status}\n{page.text[:2000]}"
        return page

    def log_in(self, username: str) -> Page:
        login = self.get("/accounts/login/")
        page = self.post(
            "/accounts/login/", login.csrf_token(), [("username", username), ("password", DEMO_PASSWORD)]
        )
        if page.path == "/accounts/otp/":
            # First login of agency staff: the page shows the key to add to an authenticator app; we
            # compute the code the app would show.
            key = re.search(r'id="otp-key">([0-9A-Za-z= ]+)<', page.text)
            assert key, "the second factor page shows no key"
            page = self.post(
                page.path + "?" + urlsplit(page.url).query,
                page.csrf_token(),
                [("token", totp_now(key.group(1).replace(" ", "")))],
            )
            if page.path.startswith("/accounts/otp/backup-codes/"):
                # Enrolment ends with the backup codes shown once; the user goes on to their home.
                page = self.get("/")
        assert not page.path.startswith("/accounts/"), f"{username} is not logged in: {page.url}"
        return page


def totp_now(key: str) -> str:
    from django_otp.oath import totp

    secret = bytes.fromhex(key) if re.fullmatch(r"[0-9a-fA-F]{40}", key) else base64.b32decode(key.upper())
    return f"{totp(secret, step=30, t0=0, digits=6):06d}"


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-"), content[:20]
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- the journey ----------------------------------------------------------------------------------------


@dataclass
class Journey:
    reference: str
    documents: dict[str, int]  # kind -> id
    seconds: float


def documents_of(machine: Machine, reference: str) -> dict[str, tuple[int, str, int]]:
    rows = machine.sql(
        "SELECT d.kind, d.id, d.status, d.attempts FROM applications_officialdocument d "
        "JOIN applications_transferapplication a ON a.id = d.application_id WHERE a.reference = %s",
        [reference],
    )
    return {kind: (pk, status, attempts) for kind, pk, status, attempts in rows}


def wait_for_download_links(browser: Browser, reference: str, count: int, run: StackRun) -> list[int]:
    """Poll the case's documents panel, as the page itself does, until `count` documents are ready."""
    deadline = time.monotonic() + RENDER_SECONDS
    while time.monotonic() < deadline:
        panel = browser.get(f"/cases/{reference}/documents/").text
        ready = [int(pk) for pk in re.findall(r'href="/documents/(\d+)/download/"', panel)]
        if len(ready) >= count:
            return ready
        time.sleep(0.5)
    pytest.fail(f"{count} documents were not ready after {RENDER_SECONDS} s:\n{run.tail()}", pytrace=False)


def lock_waiters(machine: Machine) -> int:
    return machine.sql(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
        [machine.database],
        database="postgres",
    )[0][0]


def wait_for_lock_waiters(machine: Machine, count: int, run: StackRun, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lock_waiters(machine) >= count:
            return
        time.sleep(0.1)
    pytest.fail(f"expected {count} sessions waiting on our locks:\n{run.tail()}", pytrace=False)


def drive_the_journey(machine: Machine, run: StackRun) -> Journey:
    """From filing to the contact letter over HTTP, then SIGTERM with a request and a rendering in flight."""
    started = time.monotonic()
    env = in_the_image(run)
    seeded = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr

    # 1. The insured person files a pension transfer from Jiujiang to Hangzhou, attaches the ID card and
    # submits; the worker renders the application form.
    applicant = Browser(run.base_url)
    home = applicant.log_in(APPLICANT)
    assert home.path == "/my/applications/", home.url
    form = applicant.get("/my/applications/new/")
    case_page = applicant.post(
        "/my/applications/new/",
        form.csrf_token(),
        [
            ("schemes", "pension"),
            ("transfer_out_province", "360000"),
            ("transfer_out_region", "360400"),
            ("transfer_in_province", "330000"),
            ("transfer_in_region", "330100"),
            ("old_medical_kind", "employee"),
            ("new_medical_kind", "employee"),
            ("gap_months", "0"),
            ("contributions_paused", "on"),
        ],
    )
    match = re.fullmatch(r"/cases/([^/]+)/", case_page.path)
    assert match, f"filing did not lead to the case page: {case_page.url}\n{case_page.text[:3000]}"
    reference = match.group(1)
    case_page = applicant.post(
        f"/cases/{reference}/materials/",
        case_page.csrf_token(),
        [("kind", "id_card")],
        files=[("file", "id-card.png", "image/png", small_png())],
    )
    assert re.search(r'href="/materials/\d+/"', case_page.text), "the ID card is not attached"
    case_page = applicant.post(
        f"/cases/{reference}/act/submit/", case_page.csrf_token(), [("expected_state", "draft")]
    )
    assert machine.sql(
        "SELECT state FROM applications_transferapplication WHERE reference = %s", [reference]
    ) == [("submitted",)]
    (application_form_id,) = wait_for_download_links(applicant, reference, 1, run)
    download = applicant.open(applicant.request(f"/documents/{application_form_id}/download/"))
    assert (download.status, download.content_type) == (200, "application/pdf")
    assert reference in pdf_text(download.body)

    # 2. The transfer-in clerk logs in with the second factor and sends the contact letter. The worker is
    # paused first, so that the test can hold the new document's row before the worker takes it.
    clerk = Browser(run.base_url)
    queue = clerk.log_in(IN_CLERK)
    assert "/queue/" in queue.path, queue.url
    case_page = clerk.get(f"/cases/{reference}/")
    worker = run.pids()["worker"]
    os.killpg(worker, signal.SIGSTOP)
    try:
        clerk.post(
            f"/cases/{reference}/act/send_contact_letter/",
            case_page.csrf_token(),
            [("expected_state", "submitted")],
        )
        assert machine.sql(
            "SELECT state FROM applications_transferapplication WHERE reference = %s", [reference]
        ) == [("contact_letter_sent",)]
        contact_letter_id, status, _attempts = documents_of(machine, reference)["contact_letter"]
        assert status == "pending"
        # Our own session holds the document's row (the worker's rendering waits for it) and the case's
        # row (a download records an access to the case, whose foreign key check waits for it).
        holder = psycopg2.connect(dbname=machine.database, **{k: v for k, v in server_params().items() if v})
        with holder.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM applications_officialdocument WHERE id = %s FOR UPDATE", [contact_letter_id]
            )
            cursor.execute(
                "SELECT id FROM applications_transferapplication WHERE reference = %s FOR UPDATE", [reference]
            )
    finally:
        os.killpg(worker, signal.SIGCONT)
    try:
        wait_for_lock_waiters(machine, 1, run)  # the worker is rendering the contact letter

        # 3. A download in flight, then SIGTERM to the stack.
        in_flight = {}

        def download_in_flight():
            in_flight["page"] = applicant.open(
                applicant.request(f"/documents/{application_form_id}/download/")
            )

        downloader = threading.Thread(target=download_in_flight)
        downloader.start()
        wait_for_lock_waiters(machine, 2, run)
        run.process.send_signal(signal.SIGTERM)
        time.sleep(2)
        # Both web and worker wait for their work in flight instead of dropping it.
        assert run.process.poll() is None, run.tail()
        exited = run.output()
        assert "web exited" not in exited and "worker exited" not in exited, run.tail()
    finally:
        holder.rollback()
        holder.close()
    downloader.join(timeout=60)
    returncode = run.process.wait(timeout=150)
    run.log.close()

    page = in_flight["page"]
    assert (page.status, page.content_type) == (200, "application/pdf"), page.text[:500]
    assert reference in pdf_text(page.body)
    output = run.output()
    assert returncode == 0, run.tail()
    for name in ("web", "worker", "beat"):
        assert f"{name} exited with 0" in output, run.tail()
    assert "stopped cleanly" in output
    # The worker finished the rendering it had started after it was told to stop.
    worker_lines = run.lines("worker")
    shutdown = next(i for i, line in enumerate(worker_lines) if "Warm shutdown" in line)
    assert any("render_document[" in line and "succeeded" in line for line in worker_lines[shutdown:]), (
        run.tail()
    )
    return Journey(
        reference,
        {kind: pk for kind, (pk, _s, _a) in documents_of(machine, reference).items()},
        time.monotonic() - started,
    )


def test_the_stack_serves_a_case_from_filing_to_the_contact_letter_and_stops_cleanly(machine, stack_runs):
    smoke(machine, stack_runs)


def compose_healthcheck(service: str, run: StackRun) -> list[str]:
    """The healthcheck docker-compose.yml gives a service, as a command to run here: the checkout is the
    image's /app, the project's environment is on PATH, and the web port is this run's."""
    kind, *test = compose_services()[service]["healthcheck"]["test"]
    test = [part.replace("$$", "$").replace("127.0.0.1:8000", f"127.0.0.1:{run.port}") for part in test]
    return test if kind == "CMD" else ["/bin/sh", "-c", test[0]]


def in_the_image(run: StackRun) -> dict[str, str]:
    # Compose sets HOSTNAME to the container's name, which is also the worker's node name (celery@%h).
    return {
        **run.environment(),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), user_path()]),
        "HOSTNAME": socket.gethostname(),
    }


def smoke(machine, stack_runs):
    run = stack_runs("smoke")
    started = time.monotonic()
    run.wait_until_up()
    up_after = time.monotonic() - started
    # The broker healthcheck of the stack's own Redis went through the readiness report.
    status, body = run.get("/readyz")
    assert status == 200 and b"Redis at 127.0.0.1:" in body, body
    # The healthchecks docker-compose.yml gives web, worker and beat pass against this stack.
    for service in ("web", "worker", "beat"):
        check = subprocess.run(
            compose_healthcheck(service, run),
            cwd=ROOT,
            env=in_the_image(run),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.returncode == 0, f"{service} healthcheck: {check.stdout}{check.stderr}"
    journey = drive_the_journey(machine, run)
    # Beat's sweeper went through the broker to the worker.
    assert any(re.search(r"sweep_stuck_documents\[\S+\] succeeded", line) for line in run.lines("worker")), (
        run.tail()
    )

    documents = documents_of(machine, journey.reference)
    assert set(documents) == {"application_form", "contact_letter"}
    for kind, (pk, status, attempts) in documents.items():
        assert (status, attempts) == ("ready", 1), kind
        ((name, sha256),) = machine.sql(
            "SELECT file, sha256 FROM applications_officialdocument WHERE id = %s", [pk]
        )
        content = (machine.storage / name).read_bytes()
        assert hashlib.sha256(content).hexdigest() == sha256
        assert journey.reference in pdf_text(content)
    machine.journey = journey
    print(f"stack up after {up_after:.1f} s; journey and stop {journey.seconds:.1f} s")


def broken_procfile(directory: Path, process: str) -> Path:
    """The Procfile with one process's command broken (an option it does not know)."""
    lines = []
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{process}:"):
            line += " --no-such-option"
        lines.append(line)
    path = directory / f"Procfile.broken-{process}"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("process", ["web", "worker", "beat"])
def test_a_process_that_cannot_start_fails_the_stack(machine, stack_runs, process):
    run = stack_runs(f"broken-{process}", broken_procfile(machine.directory, process))
    with pytest.raises(pytest.fail.Exception, match="the stack stopped before it was up"):
        run.wait_until_up()
    assert run.process.wait(timeout=150) == 1
    output = run.output()
    assert re.search(rf"^stack\s+\| {process} exited with [1-9]", output, re.M), run.tail()
    assert f"{process} stopped on its own: SIGTERM to" in output
    assert "stopped, not cleanly" in output


def test_the_stack_refuses_to_start_when_redis_or_postgresql_does_not_answer(machine, stack_runs):
    dead = free_port()
    for variable, url, message in (
        (
            "REDIS_URL",
            f"redis://127.0.0.1:{dead}/0",
            f"broker: FAILED (Redis at 127.0.0.1:{dead}/0 does not answer",
        ),
        (
            "DATABASE_URL",
            f"postgres://postgres@127.0.0.1:{dead}/portal",
            f"database: FAILED (PostgreSQL at 127.0.0.1:{dead}/portal does not answer",
        ),
    ):
        run = StackRun(machine, f"refused-{variable}")
        env = {**run.environment(), variable: url}
        result = subprocess.run(
            [sys.executable, str(STACK)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 1, result.stdout + result.stderr
        assert message in result.stdout, result.stdout
        assert "does not answer, see above: start it or correct the variable" in result.stdout
        assert "migrate" not in result.stdout  # nothing was done


# --- backup and restore ---------------------------------------------------------------------------------


def scripted(script: str, *args, env=None):
    return subprocess.run(
        [str(ROOT / "scripts" / script), *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_backup_of_the_stack_restores_into_a_new_database_and_verifies(machine, stack_runs):
    if machine.journey is None:  # run on its own: drive the stack first
        smoke(machine, stack_runs)
    base = {
        "PATH": user_path(),
        "HOME": str(machine.directory / "home"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    backup_dir = machine.directory / "backup"
    backup = scripted(
        "backup",
        backup_dir,
        env={**base, "DATABASE_URL": machine.database_url, "PRIVATE_STORAGE_DIR": str(machine.storage)},
    )
    assert backup.returncode == 0, backup.stdout + backup.stderr

    restored = machine.new_database("stack_restored")
    restored_storage = machine.directory / "restored-private"
    target = {**base, "DATABASE_URL": database_url(restored), "PRIVATE_STORAGE_DIR": str(restored_storage)}
    restore = scripted("restore", backup_dir, env=target)
    assert restore.returncode == 0, restore.stdout + restore.stderr
    # Two official documents and one material, each matching its recorded SHA-256.
    assert "3 files checked, 0 problems" in restore.stdout, restore.stdout
    assert machine.sql(
        "SELECT reference, state FROM applications_transferapplication", database=restored
    ) == [(machine.journey.reference, "contact_letter_sent")]

    # A restore never overwrites: the same database again is refused, and nothing changes.
    again = scripted("restore", backup_dir, env=target)
    assert again.returncode != 0
    assert "is not empty" in again.stderr, again.stdout + again.stderr
