"""People and accounts: a small world of its own (factories, no seed), real login pages, and the mails
the portal sends (Django's locmem backend; account mails go out when the transaction commits)."""

import re
import time
import uuid

import pyotp
import pytest
from django.core import mail
from django.test import Client

from agencies.models import AgencyStaff
from tests.factories import PASSWORD, AgencyFactory, AgencyStaffFactory, InsuredPersonFactory, UserFactory

LOGIN = "/accounts/login/"
OTP = "/accounts/otp/"


def english_client(**kwargs):
    client = Client(**kwargs)
    client.cookies["django_language"] = "en"
    return client


def log_in(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def unique_address(name="someone"):
    return f"{name}.{uuid.uuid4().hex[:10]}@example.cn"


def links_in(message):
    return re.findall(r"https?://\S+", message.body)


def path_of(url):
    return re.sub(r"^https?://[^/]+", "", url)


def base32_key(html):
    """The key as the set-up page prints it (groups of four), without the spaces."""
    match = re.search(r'id="otp-key">([A-Z2-7 ]+)<', html)
    assert match, "no key on the page"
    return match.group(1).replace(" ", "")


def totp_now(key, ahead=0):
    """The code an authenticator app computes from the typed key (pyotp, RFC 6238)."""
    return pyotp.TOTP(key).at(time.time() + 30 * ahead)


@pytest.fixture(autouse=True)
def own_cache_keys(settings):
    """The rate limits count in the real cache (Redis under PORTAL_REQUIRE_SERVICES), which outlives a
    test and a run: each test counts under a key prefix of its own instead of flushing anything."""
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"} for name, config in settings.CACHES.items()
    }


@pytest.fixture
def no_otp_throttle(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def agency(db):
    return AgencyFactory()


@pytest.fixture
def other_agency(db):
    return AgencyFactory()


@pytest.fixture
def agency_admin(agency):
    return AgencyStaffFactory(
        agency=agency, role=AgencyStaff.Role.ADMINISTRATOR, user__username="admin.test"
    ).user


@pytest.fixture
def clerk(agency):
    return AgencyStaffFactory(agency=agency, role=AgencyStaff.Role.CLERK, user__username="clerk.test").user


@pytest.fixture
def insured(db):
    user = UserFactory(username="insured.test", email="insured@example.cn")
    InsuredPersonFactory(user=user)
    return user


@pytest.fixture
def outbox():
    mail.outbox = []
    return mail.outbox
