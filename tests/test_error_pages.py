"""Error pages and probes when something is wrong.

- /healthz answers 200 whatever is down (liveness); /readyz answers 503 with JSON naming the dependency
  that failed (a Redis that does not answer, a database that does not answer), or plain text on request.
- 400, 403 (and a refused CSRF token), 404 and 500 are the portal's own pages in the user's language
  (Chinese unless they chose English), with a way home and no stack trace, setting or URL list: in
  production, and in development mode too for everyone but staff (Django's technical pages otherwise
  show the traceback with the settings, or every URL pattern).
- A database that does not answer gives a 503 page with Retry-After, not a bare 500."""

import json
import socket

import pytest
from django.db import connection
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# What a leaking error page would show: Django's technical page and the test view's planted secret.
LEAKS = ("Traceback", "URLconf", "DEBUG = True", "SECRET-DETAIL", "Django", "urlpatterns", "SECRET_KEY")
CHINESE = {
    400: "请求有误",
    403: "无权访问",
    404: "页面不存在",
    500: "系统出错",
    503: "暂时无法使用",
}
ENGLISH = {
    400: "Bad request",
    403: "Not allowed",
    404: "Page not found",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


# The views that fail on purpose live in tests/error_urls.py; tests set ROOT_URLCONF through pytest-django's
# `settings` fixture (an override_settings decorator beside it would be undone in the wrong order and leak).


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_our_page(response, status, *, english=False):
    assert response.status_code == status
    page = response.content.decode()
    assert (ENGLISH if english else CHINESE)[status] in page, page[:2000]
    assert f'<html lang="{"en" if english else "zh-hans"}">' in page
    assert 'href="/"' in page  # a way back home
    for leak in LEAKS:
        assert leak not in page, leak
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def client_for(user=None, *, english=False):
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    if english:
        client.cookies["django_language"] = "en"
    return client


# --- probes -------------------------------------------------------------------------------------------


@pytest.fixture
def storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"


def test_a_redis_that_does_not_answer_leaves_liveness_up_and_readiness_names_it(client, settings, storage):
    port = free_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    assert (client.get("/healthz").status_code, client.get("/healthz").content) == (200, b"ok")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    report = json.loads(response.content)
    assert report["ready"] is False
    assert report["failed"] == ["broker"]
    assert report["checks"]["broker"]["ok"] is False
    assert f"Redis at 127.0.0.1:{port}/0 does not answer" in report["checks"]["broker"]["detail"]
    assert report["checks"]["database"]["ok"] is True
    assert response["Cache-Control"] == "no-store"


def test_readiness_is_json_when_ready_and_plain_text_on_request(client, storage):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    report = json.loads(ready.content)
    assert (report["ready"], report["failed"]) == (True, [])
    assert set(report["checks"]) == {"database", "broker", "storage", "documents"}
    for kwargs in ({"HTTP_ACCEPT": "text/plain"}, {"data": {"format": "text"}}):
        text = client.get("/readyz", **kwargs)
        assert text["Content-Type"].startswith("text/plain")
        assert text.content.decode().startswith("ready\n")


# --- 404, 403, 400, 500 -------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
@pytest.mark.parametrize("who", ["anonymous", "insured person"])
def test_an_unknown_address_is_our_404_in_the_users_language(settings, debug, who):
    settings.DEBUG = debug
    user = None if who == "anonymous" else UserFactory()
    assert_our_page(client_for(user).get("/no/such/page/"), 404)
    assert_our_page(client_for(user, english=True).get("/no/such/page/"), 404, english=True)


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
def test_a_case_that_is_not_yours_is_our_404(settings, debug):
    settings.DEBUG = debug
    response = client_for(UserFactory()).get("/cases/YL202601010000000000/")
    assert_our_page(response, 404)


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
@pytest.mark.parametrize("status", [400, 403, 500])
def test_each_error_is_our_page_without_a_trace(settings, debug, status, caplog):
    settings.ROOT_URLCONF = "tests.error_urls"
    settings.DEBUG = debug
    user = UserFactory()
    assert_our_page(client_for(user).get(f"/test-errors/{status}/"), status)
    assert_our_page(client_for(user, english=True).get(f"/test-errors/{status}/"), status, english=True)
    if status == 500:
        # The trace is for the administrators: in the log, not on the page.
        assert "SECRET-DETAIL-IN-THE-TRACEBACK" in caplog.text


def test_a_refused_csrf_token_is_our_403_saying_what_to_do():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert_our_page(response, 403)
    assert "表单未被接受" in response.content.decode()


def test_too_many_fields_is_our_400():
    response = client_for().post("/accounts/login/", {f"f{i}": "x" for i in range(1_300)})
    assert_our_page(response, 400)


def test_staff_still_get_the_technical_page_in_development(settings):
    settings.ROOT_URLCONF = "tests.error_urls"
    # Development mode on purpose (pytest-django's settings fixture restores it): staff keep the technical page.
    settings.DEBUG = True
    admin = UserFactory(is_staff=True, is_superuser=True)
    response = client_for(admin).get("/no/such/page/")
    assert response.status_code == 404
    assert "URLconf" in response.content.decode()


# --- the database does not answer ----------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
def test_a_database_error_in_a_view_is_a_503_with_retry_after(settings, debug):
    settings.ROOT_URLCONF = "tests.error_urls"
    settings.DEBUG = debug
    response = client_for(UserFactory()).get("/test-errors/503/")
    assert_our_page(response, 503)
    assert response["Retry-After"] == "60"


@pytest.fixture
def database_down():
    """The default connection pointed at a port where nothing listens, for the duration of the test."""
    original = dict(connection.settings_dict)

    def go_down():
        connection.close()
        connection.settings_dict["HOST"] = "127.0.0.1"
        connection.settings_dict["PORT"] = str(free_port())

    yield go_down
    connection.close()
    connection.settings_dict.update(original)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
def test_a_database_that_does_not_answer_gives_the_503_page_and_readiness_says_so(
    settings, database_down, storage, debug
):
    from tests.workflow.helpers import require_services

    require_services()  # a real PostgreSQL to take away
    settings.DEBUG = debug
    user = UserFactory()
    client = client_for(user)  # logged in while the database answers
    english = client_for(user, english=True)
    database_down()
    response = client.get("/my/applications/")
    assert_our_page(response, 503)
    assert response["Retry-After"] == "60"
    assert_our_page(english.get("/my/applications/"), 503, english=True)
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "database" in json.loads(ready.content)["failed"]
