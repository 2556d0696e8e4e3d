"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's live server.

- Chromium is /usr/bin/chromium (apt package `chromium`); `playwright install` is never needed. Headless;
  Playwright adds --no-sandbox when running as root. Outside hosts do not resolve, so nothing leaves
  the machine.
- Each actor (applicant, clerk, reviewer, HR) has their own browser context, so their sessions and
  cookies are separate, as on separate computers; agency staff pass the TOTP second factor with a code
  computed from a device created beforehand.
- `Actor.check(step)` is run on every page a journey visits: axe-core finds no serious or critical
  violation, the browser console shows no error (a Content-Security-Policy violation, a failed script or
  asset), and screenshots at 375 and 1280 px are written to var/screenshots/<journey>-<step>-<width>.png.
- axe-core comes from axe-playwright-python's bundled axe.min.js, read from disk. The portal's CSP
  (script-src 'self') refuses the inline <script> that `add_script_tag(path=...)` would write, so the
  file is served at a same-origin address by a Playwright route and injected with
  `add_script_tag(url=...)`: the page's CSP stays in force while axe runs.
- Celery: documents are rendered in-process (task_always_eager) even when REDIS_URL is set, since no
  worker runs here. The live server's thread runs the render after the request's transaction commits.
"""

import io
import os
import re
from pathlib import Path

import axe_playwright_python
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

# Playwright's sync API runs an event loop in this thread; Django refuses database access from a thread
# with a running loop unless told it is safe (it is: the loop only drives the browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import expect, sync_playwright  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
AXE_JS = Path(axe_playwright_python.__file__).resolve().parent / "axe.min.js"
AXE_URL_PATH = "/__e2e__/axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
WIDTHS = (375, 1280)
HEIGHT = 900
DEMO_PASSWORD = "Demo-2026-portal"
BLOCKING_IMPACTS = ("serious", "critical")
# Give a slow machine (PDF rendering inside a request) time, but fail well before pytest would hang.
TIMEOUT_MS = 30_000

User = get_user_model()
# expect() waits up to 5 s by default; the batch page polls every 2 s and renders a PDF per poll.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make test-packages)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def eager_celery(settings):
    """Render documents and send e-mails in-process: with REDIS_URL set (CI) the tasks would otherwise
    wait in Redis for a worker that does not run in this test."""
    from transfer_portal.celery import app

    previous = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def private_dir(settings, tmp_path):
    """Uploaded materials and rendered documents go to a fresh directory, not var/private."""
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"
    return settings.PRIVATE_STORAGE_DIR


@pytest.fixture
def portal(live_server, transactional_db, eager_celery, private_dir, browser):
    """The demo world (seed_demo, committed: the live server runs in another thread) and a factory of
    logged-in actors."""
    call_command("seed_demo", stdout=io.StringIO())
    portal = Portal(live_server.url, browser)
    yield portal
    portal.close()


class Portal:
    def __init__(self, base_url, browser):
        self.base_url = base_url
        self.browser = browser
        self.actors = {}
        self.journeys = set()

    def actor(self, username, journey):
        """The logged-in browser of `username` (one per user and test; a second TOTP login within the same
        30 s step would be refused as a replay)."""
        if journey not in self.journeys:
            # A journey's screenshots are replaced as a whole, so that none is left from an older run.
            self.journeys.add(journey)
            for old in SCREENSHOTS.glob(f"{journey}-*.png"):
                old.unlink()
        if username not in self.actors:
            actor = self.actors[username] = Actor(self, username, journey)
            actor.log_in()
        return self.actors[username]

    def close(self):
        """Close every browser; an error logged after an actor's last check still fails the test."""
        leftover = []
        for actor in self.actors.values():
            actor.context.close()
            leftover += actor.console_errors
        assert not leftover, "console errors after the last check:\n" + "\n".join(leftover)


class Actor:
    def __init__(self, portal, username, journey):
        self.portal = portal
        self.username = username
        self.journey = journey
        self.user = User.objects.get(username=username)
        self.context = portal.browser.new_context(
            base_url=portal.base_url,
            viewport={"width": WIDTHS[-1], "height": HEIGHT},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            accept_downloads=True,
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.route(
            f"{portal.base_url}{AXE_URL_PATH}",
            lambda route: route.fulfill(path=AXE_JS, content_type="text/javascript; charset=utf-8"),
        )
        self.page = self.context.new_page()
        self.console_errors = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(f"{self.page.url}: {error}"))

    def _on_console(self, message):
        if message.type == "error":
            self.console_errors.append(f"{self.page.url}: {message.text}")

    # Navigation

    def goto(self, path):
        response = self.page.goto(path)
        assert response is not None and response.ok, f"{path}: HTTP {response and response.status}"
        return response

    def submit(self, form_selector, button=None):
        """Click the submit button of the form and wait for the page the server answers with."""
        form = self.page.locator(form_selector)
        expect(form).to_have_count(1)
        target = form.locator(button or "button[type=submit]")
        with self.page.expect_navigation():
            target.click()
        self.assert_no_server_error()

    def assert_no_server_error(self):
        assert "Server Error" not in self.page.title(), self.page.url

    def log_in(self):
        from agencies.models import AgencyStaff

        is_staff = AgencyStaff.objects.filter(user=self.user).exists()
        device = None
        if is_staff:
            from django_otp.plugins.otp_totp.models import TOTPDevice

            device, _created = TOTPDevice.objects.get_or_create(
                user=self.user, confirmed=True, defaults={"name": "e2e authenticator"}
            )
        page = self.page
        self.goto("/accounts/login/")
        self.check(f"00-login-{self.username}")
        page.locator("input[name=username]").fill(self.username)
        page.locator("input[name=password]").fill(DEMO_PASSWORD)
        self.submit("main form[method=post]")
        if is_staff:
            assert page.url.startswith(f"{self.portal.base_url}/accounts/otp/"), page.url
            self.check(f"00-second-factor-{self.username}")
            page.locator("input[name=token]").fill(current_totp(device))
            self.submit("main form[method=post]")
        assert "/accounts/" not in page.url, f"{self.username} is not logged in: {page.url}"

    # Checks run on every page

    def check(self, step):
        """axe-core and screenshots at each width; no console error on the page so far."""
        page = self.page
        name = f"{self.journey}-{step}"
        page.wait_for_load_state("load")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            violations = self.axe_violations()
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
            assert not violations, f"{name} at {width} px ({page.url}): axe-core reports\n" + "\n".join(
                violations
            )
        page.set_viewport_size({"width": WIDTHS[-1], "height": HEIGHT})
        errors, self.console_errors[:] = list(self.console_errors), []
        assert not errors, f"{name}: console errors\n" + "\n".join(errors)

    def axe_violations(self):
        page = self.page
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(url=AXE_URL_PATH)
        results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        return [
            f"- {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] if node["target"] else "?" for node in v["nodes"][:5])
            for v in results["violations"]
            if v["impact"] in BLOCKING_IMPACTS
        ]


def current_totp(device):
    """The code an authenticator app shows now for this device."""
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def squash(text):
    return re.sub(r"\s+", "", text)
