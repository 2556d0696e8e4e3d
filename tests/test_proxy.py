"""The client's address behind reverse proxies (TRUSTED_PROXY_COUNT), which login throttling counts
failures against: the proxy's own address must never be the one locked, and a client cannot pick its
address by sending X-Forwarded-For itself."""

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory

from transfer_portal.proxy import client_ip


def request(remote="10.0.0.2", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_proxy_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request("198.51.100.7", forwarded="203.0.113.1")) == "198.51.100.7"


def test_behind_one_proxy_the_address_it_appended_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request(forwarded="203.0.113.5")) == "203.0.113.5"
    # The client sent a forged header; the proxy appended the real address.
    assert client_ip(request(forwarded="192.0.2.66, 203.0.113.5")) == "203.0.113.5"


def test_behind_two_proxies_the_outer_ones_entry_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request(forwarded="192.0.2.66, 203.0.113.5, 10.0.0.1")) == "203.0.113.5"
    # Fewer entries than proxies: the request did not come through them all; fall back to the peer.
    assert client_ip(request("10.0.0.9", forwarded="10.0.0.1")) == "10.0.0.9"


@pytest.mark.django_db
def test_failed_logins_behind_a_proxy_count_against_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.66, 203.0.113.5")
    client.post("/accounts/login/", {"username": "nobody", "password": "wrong-password-1"})
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.5"]
