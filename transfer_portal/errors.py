"""The portal's own error pages: 400, 403 (and the CSRF refusal), 404, 500, and 503 when the database
does not answer. In the user's language, with a way back home, and never a stack trace, a setting or the
list of URLs.

- Production (DEBUG off): Django calls the handlers named in transfer_portal/urls.py and CSRF_FAILURE_VIEW.
- Development (DEBUG on): Django answers with its technical pages (a traceback with the settings, or every
  URL pattern), and for an unknown address it does so before any view or handler runs. ErrorPageMiddleware
  gives everyone but staff our page instead; staff still get Django's, to debug.
- A database that does not answer (OperationalError/InterfaceError, also raised by a middleware that reads
  the session or the user) becomes a 503 with Retry-After, in both modes.

The pages are rendered without a request context: no context processor runs, so nothing touches the
database (which may be the very thing that failed) and nothing of the user's session is shown.
"""

import logging
import sys

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
PAGES = {400: "400.html", 403: "403.html", 404: "404.html", 500: "500.html", 503: "503.html"}
RETRY_AFTER_SECONDS = 60
EXCEPTION_ATTRIBUTE = "_portal_uncaught_exception"


def add_security_headers(response):
    """The headers every answer of the portal carries, for answers made outside the middleware that adds
    them (the probes, and error pages made after an exception skipped it)."""
    from csp.utils import build_policy

    response["Content-Security-Policy"] = build_policy()
    response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = settings.SECURE_REFERRER_POLICY
    return response


def language_of(request) -> str:
    """The language LocaleMiddleware chose for this request; Chinese if it never ran."""
    language = getattr(request, "LANGUAGE_CODE", None)
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def error_page(request, status, *, reason=None):
    with translation.override(language_of(request)):
        content = render_to_string(PAGES[status], {"reason": reason})
    response = HttpResponse(content, status=status, content_type="text/html; charset=utf-8")
    response.portal_error_page = True
    response["Cache-Control"] = "no-store, private"
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return add_security_headers(response)


# The handlers (transfer_portal/urls.py) and the CSRF failure view (settings.CSRF_FAILURE_VIEW).


def bad_request(request, exception=None):
    return error_page(request, 400)


def permission_denied(request, exception=None):
    return error_page(request, 403)


def page_not_found(request, exception=None):
    return error_page(request, 404)


def server_error(request):
    return error_page(request, 500)


def csrf_failure(request, reason=""):
    return error_page(request, 403, reason="csrf")


@receiver(got_request_exception)
def remember_the_exception(sender, request=None, **kwargs):
    """Django sends this while handling an uncaught exception (any that becomes a 500): the middleware
    below reads it to tell a database outage (503) from other errors."""

    if request is not None:
        setattr(request, EXCEPTION_ATTRIBUTE, sys.exc_info()[1])


def _is_staff(request) -> bool:
    try:
        return bool(request.user.is_staff)
    except Exception:  # no user (the middleware did not run) or the database that would tell is down
        return False


class ErrorPageMiddleware:
    """Second in MIDDLEWARE (after the probes): replaces a 500 caused by a database that does not answer
    with the 503 page, and, in development, Django's technical error pages with ours for anyone but staff."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 500 and response.status_code not in PAGES:
            return response
        exception = getattr(request, EXCEPTION_ATTRIBUTE, None)
        if response.status_code == 500 and isinstance(exception, DATABASE_ERRORS):
            if not (settings.DEBUG and _is_staff(request)):
                logger.error("the database does not answer: %s", exception)
                return error_page(request, 503)
        if settings.DEBUG and not getattr(response, "portal_error_page", False) and not _is_staff(request):
            if response.get("Content-Type", "").startswith("text/html") and response.status_code in PAGES:
                return error_page(request, response.status_code)
        return response
