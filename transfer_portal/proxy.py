"""The client's address behind reverse proxies, for login throttling (django-axes).

Behind a proxy, REMOTE_ADDR is the proxy's own address: five failed logins by anyone would lock the login
page for everyone. Each proxy appends the address it received the request from to X-Forwarded-For, so with
TRUSTED_PROXY_COUNT proxies in front of gunicorn the client's address is the TRUSTED_PROXY_COUNT-th from
the right. Entries further left were sent by the client and are ignored (they can be forged).
"""

from django.conf import settings


def client_ip(request) -> str | None:
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [
            address.strip()
            for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if address.strip()
        ]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")
