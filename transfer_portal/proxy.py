"""The client's address behind reverse proxies, for login throttling: django-axes reads it through
django-ipware, configured here from one number, TRUSTED_PROXY_COUNT (the environment).

Each proxy appends the address it received the request from to X-Forwarded-For, and the last proxy's own
address is REMOTE_ADDR. So behind N proxies the client's address is the N-th entry from the right of the
header; entries further left were sent by the client and can be forged.

django-ipware counts differently: its proxy_count is the number of proxy addresses the header holds
after the client's, which is N - 1, and it picks the entry that many places from the right. Its strict
mode would also throw away a whole header that a client padded with its own entries (then the proxy's
address counts again), so IPWARE_STRICT is off: the entries on the right, written by our proxies, decide.

With no proxy (N = 0) the header is not read at all: REMOTE_ADDR is the only source, as anyone can send
X-Forwarded-For to a server that is reached directly.
"""


def client_address_settings(trusted_proxy_count: int) -> dict:
    """The django-axes / django-ipware settings for `trusted_proxy_count` proxies in front of gunicorn."""
    if trusted_proxy_count < 0:
        raise ValueError("TRUSTED_PROXY_COUNT cannot be negative")
    if trusted_proxy_count == 0:
        return {
            "AXES_IPWARE_META_PRECEDENCE_ORDER": ("REMOTE_ADDR",),
            "AXES_IPWARE_PROXY_COUNT": None,
            "AXES_IPWARE_PROXY_ORDER": "left-most",
            "IPWARE_STRICT": False,
        }
    return {
        # REMOTE_ADDR stays as the fallback for a request without the header (it did not come through the
        # proxies, e.g. a probe on the loopback); with more than one proxy such a request has no address.
        "AXES_IPWARE_META_PRECEDENCE_ORDER": ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"),
        "AXES_IPWARE_PROXY_COUNT": trusted_proxy_count - 1,
        "AXES_IPWARE_PROXY_ORDER": "left-most",
        "IPWARE_STRICT": False,
    }
