"""Accounts and the browser's defences: login throttling (django-axes), strong passwords, cookies in
production, CSRF on every form, the Content-Security-Policy and the other security headers, no inline
script or style in the templates, and the second factor of agency staff (TOTP, django-otp)."""

import base64
import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications.models import InsuredPerson, State
from tests.security.conftest import (
    ANON,
    IN_CLERK,
    KINDS,
    OUT_CLERK,
    PASSWORD,
    User,
    tally,
)
from tests.security.test_authorization_matrix import (
    CONFLICT,
    LOGIN,
    NOT_FOUND,
    OK,
    ROWS,
    SECOND_FACTOR,
    consume,
)
from tests.world import login

ROOT = Path(__file__).resolve().parents[2]
LOGIN_URL = "/accounts/login/"
OTP_URL = "/accounts/otp/"
APPLICANT_LOGIN = "360426199101010071"  # seed_demo's insured person


def english_client(**kwargs):
    client = Client(**kwargs)
    client.cookies["django_language"] = "en"
    return client


def log_in(client, username, password=PASSWORD):
    return client.post(LOGIN_URL, {"username": username, "password": password})


def logged_in_user_id(client):
    return client.session.get(SESSION_KEY)


# --- login throttling ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_five_failed_logins_lock_the_account_until_the_cool_off(world):
    client = english_client()
    for attempt in range(1, 5):
        response = log_in(client, APPLICANT_LOGIN, f"wrong-password-{attempt}")
        assert response.status_code == 200, attempt
        assert "correct" in response.content.decode()  # "Please enter a correct username and password"
    fifth = log_in(client, APPLICANT_LOGIN, "wrong-password-5")
    assert fifth.status_code == 429
    assert "Too many failed logins" in fifth.content.decode()

    # Locked from this address: even the right password does not log in. (From every address only after
    # LOGIN_FAILURES_PER_USER_NAME failures: tests/security/test_login_throttling.py.)
    locked = english_client()
    response = log_in(locked, APPLICANT_LOGIN)
    assert response.status_code == 429
    assert logged_in_user_id(locked) is None

    # After the cool-off (15 minutes by default) the right password works again.
    cool_off = settings.AXES_COOLOFF_TIME + datetime.timedelta(minutes=1)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time - cool_off)
    released = english_client()
    response = log_in(released, APPLICANT_LOGIN)
    assert response.status_code == 302
    assert logged_in_user_id(released) == str(User.objects.get(username=APPLICANT_LOGIN).pk)
    tally("login throttling attempts", 4 + 1 + 1 + 1)


@pytest.mark.django_db
def test_failures_from_one_address_lock_that_address_for_every_user_name(world):
    client = english_client(REMOTE_ADDR="198.51.100.7")
    for attempt in range(settings.LOGIN_FAILURES_PER_ADDRESS):
        log_in(client, f"nobody-{attempt}", "wrong")
    response = log_in(client, "clerk.hangzhou")  # a real user with the right password
    assert response.status_code == 429
    assert logged_in_user_id(client) is None
    # Another address is not affected.
    elsewhere = english_client(REMOTE_ADDR="198.51.100.8")
    assert log_in(elsewhere, "clerk.hangzhou").status_code == 302
    tally("login throttling attempts", settings.LOGIN_FAILURES_PER_ADDRESS + 2)


@pytest.mark.django_db
def test_login_renews_the_session_and_does_not_redirect_off_site(world):
    client = english_client()
    client.get(LOGIN_URL)
    client.session.save()
    before = client.session.session_key
    response = client.post(
        f"{LOGIN_URL}?next=https://evil.example/", {"username": APPLICANT_LOGIN, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == "/"
    assert client.session.session_key != before  # no session fixation
    # Logging out takes a POST (with its CSRF token): a link or an image cannot log anyone out.
    assert client.get(reverse("logout")).status_code == 405
    assert logged_in_user_id(client) is not None


# --- passwords ----------------------------------------------------------------------------------------

WEAK_PASSWORDS = {
    "short": "Ab1!x",  # shorter than 10
    "common": "password123",
    "numeric": "20260101123456",
    "like the user name": "{number}",  # the document number is the user name
    "like the name": "zhangsan2026",
}
STRONG_PASSWORD = "Kite-river-2026-blue"


def signup_data(number, password, name="张三"):
    return {
        "name": name,
        "document_type": "resident_id",
        "document_number": number,
        "hukou_region": "330100",
        "phone": "13800138000",
        "address": "",
        "password1": password,
        "password2": password,
        "email": "zhang.san@example.cn",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(WEAK_PASSWORDS))
def test_sign_up_refuses_a_weak_password(world, kind):
    from applications.management.commands.seed_demo import demo_resident_id

    number = demo_resident_id("330106", datetime.date(1992, 6, 1), 201)
    password = WEAK_PASSWORDS[kind].format(number=number)
    users, persons = User.objects.count(), InsuredPerson.objects.count()
    response = english_client().post(
        reverse("signup"),
        signup_data(number, password, name="zhangsan" if kind == "like the name" else "张三"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "password1" in errors, (kind, errors)
    assert (User.objects.count(), InsuredPerson.objects.count()) == (users, persons)
    tally("weak passwords refused", 1)


@pytest.mark.django_db
def test_sign_up_accepts_a_strong_password(world):
    from applications.management.commands.seed_demo import demo_resident_id

    number = demo_resident_id("330106", datetime.date(1992, 6, 1), 201)
    client = english_client()
    response = client.post(reverse("signup"), signup_data(number, STRONG_PASSWORD))
    assert response.status_code == 302
    assert User.objects.get(username=number).check_password(STRONG_PASSWORD)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(WEAK_PASSWORDS))
def test_password_change_refuses_a_weak_password(world, kind):
    user = User.objects.get(username=APPLICANT_LOGIN)
    client = login(Client(), user, language="en")
    password = WEAK_PASSWORDS[kind].format(number=APPLICANT_LOGIN)
    if kind == "like the name":
        user.first_name = "zhangsan"
        user.save(update_fields=["first_name"])
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors, kind
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    tally("weak passwords refused", 1)


@pytest.mark.django_db
def test_password_change_accepts_a_strong_password(world):
    user = User.objects.get(username=APPLICANT_LOGIN)
    response = login(Client(), user, language="en").post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


# --- production settings ------------------------------------------------------------------------------

PRODUCTION_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
names = ["DEBUG", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE",
         "CSRF_COOKIE_HTTPONLY", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_CONTENT_TYPE_NOSNIFF",
         "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY", "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE"]
out = {name: getattr(settings, name) for name in names}
from django.test.utils import override_settings
# The manifest of hashed static files exists only after collectstatic (the image build); the cookies
# do not depend on it, so the probe serves static names unhashed.
override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
client = Client(HTTP_HOST="portal.example.cn")
plain = client.get("/accounts/login/")
out["plain_http_status"] = plain.status_code
out["plain_http_location"] = plain.get("Location", "")
page = client.get("/accounts/login/", secure=True)
cookie = page.cookies["csrftoken"]
out["csrf_cookie"] = {"secure": bool(cookie["secure"]), "httponly": bool(cookie["httponly"])}
out["hsts"] = page.get("Strict-Transport-Security", "")
print(json.dumps(out))
"""


def test_production_cookies_are_secure_and_http_only():
    """PORTAL_ENV=production in a fresh process: the settings, and the cookie the login page sets."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PORTAL_ENV", "DEBUG", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS")
    }
    env.update(
        PORTAL_ENV="production",
        SECRET_KEY="probe-" + "k" * 60,
        ALLOWED_HOSTS="portal.example.cn",
        DJANGO_SETTINGS_MODULE="transfer_portal.settings",
    )
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["DEBUG"] is False
    assert probe["SESSION_COOKIE_SECURE"] is True
    assert probe["SESSION_COOKIE_HTTPONLY"] is True
    assert probe["CSRF_COOKIE_SECURE"] is True
    assert probe["CSRF_COOKIE_HTTPONLY"] is True
    assert probe["SECURE_SSL_REDIRECT"] is True
    assert probe["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert probe["csrf_cookie"] == {"secure": True, "httponly": True}
    assert probe["plain_http_status"] == 301 and probe["plain_http_location"].startswith("https://")
    assert "max-age=31536000" in probe["hsts"]
    assert probe["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")


# --- CSRF ---------------------------------------------------------------------------------------------


def allowed_kind(row):
    """A kind of user for whom the row is allowed (so that only CSRF can refuse), with a case state;
    None for the rows that check that nobody may use a URL (another agency's member by address)."""
    for state in (
        (State.DRAFT, State.SUBMITTED, State.CONTACT_LETTER_SENT) if row.scope == "case" else (None,)
    ):
        for kind in KINDS:
            if row.expect(kind, state) not in (LOGIN, NOT_FOUND, SECOND_FACTOR, CONFLICT):
                return kind, state
    return None


def csrf_token_of(client):
    """Visit a page, as a browser would before posting, and read the CSRF token from the cookie."""
    client.get(reverse("login"))
    return client.cookies["csrftoken"].value


@pytest.mark.django_db
def test_every_post_without_the_csrf_token_is_refused(world):
    """Every URL of the matrix (GET ones too: a view must not be csrf_exempt) refuses a POST without the
    token with 403, for anonymous users and for users allowed to use it; with the token, the POST routes
    get past the check."""
    cells = 0
    for row in ROWS:
        if allowed_kind(row) is None:
            continue
        kind, state = allowed_kind(row)
        case = world.cases[state or State.DRAFT]
        url = row.url(world, case)
        for who in {ANON, kind}:
            client = login(Client(enforce_csrf_checks=True), world.user(who, case), language="en")
            data = row.data(world, case) if row.data else {}
            response = client.post(url, data)
            consume(response)
            cells += 1
            assert response.status_code == 403, (row.id, who, response.status_code)
        if row.method == "POST":
            client = login(Client(enforce_csrf_checks=True), world.user(kind, case), language="en")
            data = dict(row.data(world, case) if row.data else {})
            data["csrfmiddlewaretoken"] = csrf_token_of(client)
            response = client.post(url, data)
            consume(response)
            cells += 1
            assert response.status_code != 403, (row.id, kind)
    # The login, sign-up, second-factor and admin login forms, anonymous.
    for url in (reverse("login"), reverse("signup"), "/admin/login/"):
        response = Client(enforce_csrf_checks=True).post(url, {"username": "x", "password": "y"})
        cells += 1
        assert response.status_code == 403, url
    tally("POSTs checked for CSRF", cells)


TEMPLATES = ROOT / "templates"
# The official forms are rendered to PDF by WeasyPrint in the worker, never served to a browser (so the
# CSP does not apply to them); their column widths are inline styles.
PDF_ONLY = TEMPLATES / "documents"


def web_templates():
    return sorted(p for p in TEMPLATES.rglob("*.html") if PDF_ONLY not in p.parents)


def test_every_post_form_in_the_templates_carries_the_csrf_token():
    forms = 0
    for path in web_templates():
        text = path.read_text()
        for match in re.finditer(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", text, re.S | re.I):
            forms += 1
            assert "{% csrf_token %}" in match.group(1), f"{path}: a POST form without the CSRF token"
    assert forms >= 10
    tally("POST forms in templates checked for the CSRF token", forms)


# --- CSP, headers, inline script and style -------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=|javascript:", re.I)


def test_templates_have_no_inline_script_or_style():
    checked = 0
    for path in web_templates():
        text = path.read_text()
        checked += 1
        assert not INLINE_SCRIPT.search(text), f"{path}: inline <script>"
        assert not INLINE_STYLE.search(text), f"{path}: inline style"
        assert not INLINE_HANDLER.search(text), f"{path}: inline event handler or javascript: URL"
    # The PDF-only templates are rendered by the worker and never by a view.
    views = [*(ROOT / "applications" / "views").glob("*.py"), *(ROOT / "desk").glob("*.py")]
    for path in views:
        assert '"documents/' not in path.read_text(), f"{path} renders a PDF template as a page"
    tally("templates scanned for inline script/style", checked)


def assert_security_headers(response, where):
    assert response["X-Frame-Options"] == "DENY", where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] == "same-origin", where


def assert_strict_csp(response, where):
    policy = response.get("Content-Security-Policy", "")
    assert policy, f"{where}: no Content-Security-Policy"
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, f"{where}: {policy}"
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if " " in part.strip())
    assert directives["script-src"] == "'self'", policy
    assert directives["style-src"] == "'self'", policy
    assert directives["frame-ancestors"] == "'none'", policy
    assert directives["object-src"] == "'none'", policy


@pytest.mark.django_db
def test_every_page_has_a_strict_csp_and_the_security_headers(world):
    """Every GET route of the matrix, as a user allowed to see it: HTML pages carry the strict CSP and no
    inline script or style; every answer carries X-Frame-Options, nosniff and Referrer-Policy. An uploaded
    material is served under a sandbox policy of its own (no script can run in it)."""
    pages = 0
    for row in ROWS:
        if row.method != "GET" or allowed_kind(row) is None:
            continue
        kind, state = allowed_kind(row)
        case = world.cases[state or State.DRAFT]
        response = login(Client(), world.user(kind, case), language="en").get(
            row.url(world, case), row.data(world, case) if row.data else {}
        )
        body = consume(response)
        assert row.expect(kind, state) == OK and response.status_code < 400, row.id
        where = f"{row.id} as {kind}"
        assert_security_headers(response, where)
        pages += 1
        if row.name == "view_material":
            policy = response["Content-Security-Policy"]
            assert (
                policy.startswith("sandbox;")
                and "script-src" not in policy
                and "default-src 'none'" in policy
            )
            continue
        assert_strict_csp(response, where)
        if response["Content-Type"].startswith("text/html"):
            html = body.decode()
            assert not INLINE_SCRIPT.search(html), f"{where}: inline script"
            assert not INLINE_STYLE.search(html), f"{where}: inline style"
    # The case page with every action form a clerk sees, and the anonymous landing and login pages.
    for client, url in (
        (
            login(Client(), world.users[IN_CLERK], language="en"),
            reverse("case_detail", args=[world.cases[State.SUBMITTED].reference]),
        ),
        (
            login(Client(), world.users[OUT_CLERK], language="en"),
            reverse("case_detail", args=[world.cases[State.CONTACT_LETTER_SENT].reference]),
        ),
        (login(Client(), None, language="en"), reverse("home")),
        (login(Client(), None, language="en"), reverse("login")),
    ):
        response = client.get(url)
        assert_security_headers(response, url)
        assert_strict_csp(response, url)
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html) and not INLINE_STYLE.search(html), url
        pages += 1
    tally("responses checked for CSP and security headers", pages)


# --- the second factor of agency staff -----------------------------------------------------------------


def current_code(device, ahead=0):
    """The code the authenticator app shows (ahead=1: the next one, for a second login in the same 30 s)."""
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + ahead):06d}"


STAFF_PAGES = ("/", "/notifications/", "/accounts/password/", "/my/applications/")


@pytest.fixture
def no_otp_throttle(settings):
    """django-otp slows down guessing (1 s, 2 s, 4 s ... after each wrong code); the happy paths below
    enter a right code straight after a wrong one, so they turn that off (it has its own test)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.mark.django_db
def test_agency_staff_must_pass_the_second_factor(world, no_otp_throttle):
    clerk = User.objects.get(username="clerk.hangzhou")
    TOTPDevice.objects.filter(user=clerk).delete()
    queue = reverse("agency_queue", args=[world.in_agency.pk])
    case_page = reverse("case_detail", args=[world.cases[State.SUBMITTED].reference])
    client = english_client()
    response = log_in(client, "clerk.hangzhou")
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(clerk.pk)
    checked = 0
    for url in (*STAFF_PAGES, queue, case_page):
        response = client.get(url)
        checked += 1
        assert response.status_code == 302, url
        assert response.url == f"{OTP_URL}?next={url}", url
    # A POST is sent there too, and does nothing.
    response = client.post(
        reverse("case_action", args=[world.cases[State.SUBMITTED].reference, "send_contact_letter"])
    )
    assert response.url.startswith(OTP_URL)
    assert (
        world.cases[State.SUBMITTED].__class__.objects.get(pk=world.cases[State.SUBMITTED].pk).state
        == State.SUBMITTED
    )

    # First time: the set-up page shows the key (and its QR code) of a device not yet confirmed.
    setup = client.get(OTP_URL)
    assert setup.status_code == 200
    device = TOTPDevice.objects.get(user=clerk)
    assert not device.confirmed
    # The key as authenticator apps take it: Base32, in groups of four (not django-otp's hex key).
    shown = base64.b32encode(device.bin_key).decode()
    assert " ".join(shown[i : i + 4] for i in range(0, len(shown), 4)) in setup.content.decode()

    wrong = "000000" if current_code(device) != "000000" else "111111"
    for token in (wrong, "12345", "abcdef", "9999999"):
        refused = client.post(f"{OTP_URL}?next={queue}", {"token": token})
        checked += 1
        assert refused.status_code == 200, token
        assert refused.context["form"].errors, token
        assert client.get(queue).url.startswith(OTP_URL)
    device.refresh_from_db()
    assert not device.confirmed

    accepted = client.post(f"{OTP_URL}?next={queue}", {"token": current_code(device)})
    # Enrolled: the ten backup codes are shown once, then the page asked for.
    assert accepted.status_code == 302 and accepted.url == f"/accounts/otp/backup-codes/?next={queue}"
    device.refresh_from_db()
    assert device.confirmed
    for url in (queue, case_page, "/notifications/"):
        assert client.get(url).status_code == 200, url
        checked += 1

    # The next login asks again, and the code just used cannot be replayed.
    used = current_code(device)
    client.post(reverse("logout"))
    again = english_client()
    log_in(again, "clerk.hangzhou")
    assert again.get(queue).url.startswith(OTP_URL)
    assert again.get(OTP_URL).context["setting_up"] is False
    replay = again.post(OTP_URL, {"token": used})
    assert replay.status_code == 200 and replay.context["form"].errors
    assert again.post(OTP_URL, {"token": current_code(device, ahead=1)}).status_code == 302
    assert again.get(queue).status_code == 200
    tally("second-factor checks", checked + 4)


@pytest.mark.django_db
def test_wrong_codes_slow_down_guessing(world, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a minute after the first wrong code: no timing luck needed
    clerk = User.objects.get(username="clerk.jiujiang")
    device = TOTPDevice.objects.create(user=clerk, name="app", confirmed=True)
    client = english_client()
    log_in(client, "clerk.jiujiang")
    wrong = "000000" if current_code(device) != "000000" else "111111"
    assert client.post(OTP_URL, {"token": wrong}).status_code == 200
    # Even the right code is refused while the device is throttled.
    response = client.post(OTP_URL, {"token": current_code(device)})
    assert response.status_code == 200 and response.context["form"].errors
    assert client.get("/").url.startswith(OTP_URL)


@pytest.mark.django_db
def test_the_second_factor_does_not_redirect_off_site(world, no_otp_throttle):
    clerk = User.objects.get(username="reviewer.hangzhou")
    device = TOTPDevice.objects.create(user=clerk, name="app", confirmed=True)
    client = english_client()
    log_in(client, "reviewer.hangzhou")
    response = client.post(f"{OTP_URL}?next=https://evil.example/phish", {"token": current_code(device)})
    assert response.status_code == 302
    assert response.url == "/"


@pytest.mark.django_db
@pytest.mark.parametrize("username", [APPLICANT_LOGIN, "hr.hangzhou"])
def test_insured_persons_and_hr_are_not_asked_for_a_second_factor(world, username):
    client = english_client()
    assert log_in(client, username).status_code == 302
    home = client.get("/")
    assert home.status_code == 302 and not home.url.startswith(OTP_URL)
    assert client.get(home.url).status_code == 200
    assert client.get("/notifications/").status_code == 200
    assert not TOTPDevice.objects.filter(user__username=username).exists()


def test_an_administrator_also_passes_the_second_factor(db):
    """The admin site shows every case: a password alone does not open it."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    admin_user = get_user_model().objects.create_superuser(
        "root-admin", "root@example.invalid", "Strong-pass-2026!"
    )
    client = Client()
    response = client.post("/accounts/login/", {"username": "root-admin", "password": "Strong-pass-2026!"})
    assert response.status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/otp/")
    assert admin_user.is_staff
