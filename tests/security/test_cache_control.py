"""No page or download with personal data may be kept by the browser (a shared computer: the back button
after logging out) or by a proxy: every dynamic response says `Cache-Control: no-store, private`, from
one middleware (transfer_portal/cache_control.py), unless the view decided its own caching."""

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.cache import patch_cache_control

from tests.factories import PASSWORD
from tests.security import filed_world as filed
from tests.security.conftest import tally
from tests.world import login
from transfer_portal.cache_control import NoStoreMiddleware

pytestmark = pytest.mark.django_db
filed_world_module, filed_world = filed.filed_world_module, filed.filed_world


def directives(response):
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def client_as(user):
    client = Client()
    if user is not None:
        login(client, user)
    return client


def representative_requests(filed_world):
    world, pension = filed_world.world, filed_world.pension
    superuser = filed.User.objects.get(username="admin")
    employer, agency = world.employer.pk, world.yl_in.pk
    material = pension.materials.get()
    return [
        (None, "get", reverse("home"), {}),
        (None, "get", reverse("login"), {}),
        (None, "get", reverse("signup"), {}),
        (None, "get", "/no-such-page/", {}),
        (None, "post", reverse("login"), {"username": world.applicant.username, "password": PASSWORD}),
        (world.applicant, "get", reverse("my_applications"), {}),
        (world.applicant, "get", reverse("case_detail", args=[pension.reference]), {}),
        (world.applicant, "get", reverse("case_documents", args=[pension.reference]), {}),
        (world.applicant, "get", reverse("download_document", args=[filed_world.document.pk]), {}),
        (world.applicant, "get", reverse("view_material", args=[material.pk]), {}),
        (world.applicant, "get", reverse("notifications"), {}),
        (world.applicant, "get", reverse("file_application"), {}),
        (world.hr, "get", reverse("employer_employees", args=[employer]), {}),
        (world.hr, "get", reverse("employer_cases", args=[employer]), {}),
        (world.hr, "get", reverse("employer_import_report", args=[employer]), {}),
        (world.hr, "get", reverse("employer_bulk_template", args=[employer]), {}),
        (world.in_clerk, "get", reverse("agency_queue", args=[agency]), {}),
        (world.in_clerk, "get", reverse("agency_queue_csv", args=[agency]), {}),
        (world.in_clerk, "get", reverse("agency_statistics", args=[agency]), {}),
        (world.in_clerk, "get", reverse("contribution_table", args=[pension.reference]), {}),
        (world.out_clerk, "get", reverse("contribution_table", args=[pension.reference]), {}),
        (superuser, "get", "/admin/", {}),
        (
            superuser,
            "get",
            reverse("admin:applications_insuredperson_change", args=[world.person.pk]),
            {},
        ),
    ]


def test_pages_and_downloads_are_not_stored(filed_world):
    checked = []
    for user, method, url, data in representative_requests(filed_world):
        response = getattr(client_as(user), method)(url, data)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        assert {"no-store", "private"} <= directives(response), (
            url,
            response.status_code,
            response.get("Cache-Control"),
        )
        checked.append(response.status_code)
    assert {200, 302, 404} <= set(checked)  # pages, a redirect and an error page among them
    tally("responses checked for Cache-Control: no-store, private", len(checked))


def test_the_lockout_page_is_not_stored(filed_world):
    client = Client(REMOTE_ADDR="198.51.100.99")
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            reverse("login"), {"username": filed_world.world.applicant.username, "password": f"x{n}"}
        )
    assert response.status_code == 429
    assert {"no-store", "private"} <= directives(response)


def test_a_view_that_decides_its_own_caching_keeps_it():
    def view(request):
        response = HttpResponse("public list of regions")
        patch_cache_control(response, public=True, max_age=3600)
        return response

    response = NoStoreMiddleware(view)(RequestFactory().get("/"))
    assert directives(response) == {"public", "max-age=3600"}
    plain = NoStoreMiddleware(lambda request: HttpResponse("x"))(RequestFactory().get("/"))
    assert directives(plain) == {"no-store", "private"}


def test_static_files_are_left_to_whitenoise():
    """Static files (no personal data, served with long-lived caching) never reach the middleware."""
    middleware = list(settings.MIDDLEWARE)
    assert middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") < middleware.index(
        "transfer_portal.cache_control.NoStoreMiddleware"
    )
