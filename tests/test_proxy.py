"""The client's address behind reverse proxies, which login throttling counts failures against: one
mechanism, django-ipware as django-axes calls it, set from TRUSTED_PROXY_COUNT (transfer_portal/proxy.py).
Without a proxy a client cannot choose its address by sending X-Forwarded-For; behind one, the proxy's own
address is never the one counted, so one person's failures cannot lock everyone out."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client, RequestFactory

from tests.factories import PASSWORD, UserFactory
from transfer_portal.proxy import client_address_settings

ROOT = Path(__file__).resolve().parent.parent
PROXY = "10.0.0.2"  # the proxy's own address: REMOTE_ADDR of every request behind it


@pytest.fixture
def proxies(settings):
    def configure(count):
        for name, value in client_address_settings(count).items():
            setattr(settings, name, value)

    return configure


def address(remote=PROXY, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return get_client_ip_address(RequestFactory().post("/accounts/login/", **extra))


def test_without_a_proxy_a_forged_header_is_ignored(proxies):
    proxies(0)
    assert address("198.51.100.7", forwarded="203.0.113.1") == "198.51.100.7"
    assert address("198.51.100.7", forwarded="8.8.8.8, 203.0.113.1") == "198.51.100.7"
    assert address("198.51.100.7") == "198.51.100.7"


def test_behind_one_proxy_the_address_it_appended_counts(proxies):
    proxies(1)
    assert address(forwarded="203.0.113.5") == "203.0.113.5"
    # The client sent a forged header (a public address, garbage); the proxy appended the real address.
    assert address(forwarded="8.8.8.8, 203.0.113.5") == "203.0.113.5"
    assert address(forwarded="not-an-address, 192.0.2.66, 203.0.113.5") == "203.0.113.5"
    # A request that did not come through the proxy (a probe on the loopback) has its peer's address.
    assert address("127.0.0.1") == "127.0.0.1"


def test_behind_two_proxies_the_outer_ones_entry_counts(proxies):
    proxies(2)
    assert address(forwarded="8.8.8.8, 203.0.113.5, 10.0.0.1") == "203.0.113.5"
    assert address(forwarded="203.0.113.5, 10.0.0.1") == "203.0.113.5"


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError, match="TRUSTED_PROXY_COUNT"):
        client_address_settings(-1)


def login(client, username, password):
    client.post("/accounts/login/", {"username": username, "password": password})
    return client.session.get(SESSION_KEY)


@pytest.mark.django_db
def test_failed_logins_behind_a_proxy_count_against_the_client_not_the_proxy(proxies, settings):
    proxies(1)
    guesser = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="8.8.8.8, 203.0.113.5")
    for n in range(settings.LOGIN_FAILURES_PER_ADDRESS + 5):
        login(guesser, f"nobody-{n}", "wrong-password")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}
    # Everyone else comes through the same proxy and still gets in.
    user = UserFactory()
    other = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert login(other, user.username, PASSWORD) == str(user.pk)


@pytest.mark.django_db
def test_without_a_proxy_a_forged_header_does_not_give_a_fresh_address(proxies, settings):
    proxies(0)
    for n in range(settings.LOGIN_FAILURES_PER_ADDRESS + 1):
        login(Client(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"), f"nobody-{n}", "x")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    user = UserFactory()
    assert (
        login(Client(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="192.0.2.1"), user.username, PASSWORD)
        is None
    )


SHOW = """
import json
from django.conf import settings
import django
django.setup()
from axes.helpers import get_client_ip_address
from django.test import RequestFactory
request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="8.8.8.8, 203.0.113.5")
print(json.dumps({
    "callable": settings.AXES_CLIENT_IP_CALLABLE,
    "proxy_count": settings.AXES_IPWARE_PROXY_COUNT,
    "headers": list(settings.AXES_IPWARE_META_PRECEDENCE_ORDER),
    "address": get_client_ip_address(request),
}))
"""


@pytest.mark.parametrize(("count", "expected"), [("0", "10.0.0.2"), ("1", "203.0.113.5"), ("", "10.0.0.2")])
def test_the_environment_sets_the_one_mechanism(count, expected):
    """A fresh process, as gunicorn starts: TRUSTED_PROXY_COUNT alone decides, through django-ipware's
    settings (no second, home-made address function beside them)."""
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "transfer_portal.settings"}
    if count:
        env["TRUSTED_PROXY_COUNT"] = count
    result = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["callable"] is None
    assert seen["address"] == expected
    if count == "1":
        assert (seen["proxy_count"], seen["headers"]) == (0, ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"])
    else:
        assert (seen["proxy_count"], seen["headers"]) == (None, ["REMOTE_ADDR"])
