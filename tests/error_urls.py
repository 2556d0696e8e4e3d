"""The portal's URLs and handlers, plus views that fail in each way an error page answers (used by
tests/test_error_pages.py through ROOT_URLCONF)."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import OperationalError
from django.urls import path

from transfer_portal.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def refused(request):
    raise PermissionDenied("not for you")


def suspicious(request):
    raise SuspiciousOperation("a tampered request")


def broken(request):
    raise ValueError("SECRET-DETAIL-IN-THE-TRACEBACK")


def database_gone(request):
    raise OperationalError("could not connect to server: Connection refused")


urlpatterns = [
    *urlpatterns,
    path("test-errors/403/", refused),
    path("test-errors/400/", suspicious),
    path("test-errors/500/", broken),
    path("test-errors/503/", database_gone),
]
