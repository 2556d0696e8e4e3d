"""No copy of a page with personal data is kept by a browser or a proxy.

The portal's pages and downloads carry names, ID numbers, wages and balances, and people use it on shared
computers (a library, an internet café, the agency's counter). `Cache-Control: no-store, private` tells
the browser not to keep the page (the back button after logging out shows nothing) and a shared proxy not
to keep it for the next user (RFC 9111 sections 5.2.2.3 and 5.2.2.7).

Every dynamic response gets it here, in one place, so that a new view cannot forget it. A view that
decided its own caching (it set Cache-Control) keeps its decision. Static files never reach this
middleware: WhiteNoise, before it in MIDDLEWARE, answers them with their own long-lived caching.
"""

from django.utils.cache import patch_cache_control


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response
