"""Session hygiene: a session ends after its idle time (30 minutes for agency staff, 2 hours for others
by default), the page warns 2 minutes before with "stay signed in" (htmx, no script of ours), and "keep me
signed in" is never applied to agency staff."""

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from applications.people.sessions import LAST_SEEN_KEY, REMEMBER_KEY
from tests.factories import UserFactory
from tests.people.conftest import english_client, log_in

pytestmark = pytest.mark.django_db
STATUS = "/accounts/session/"


def idle_for(client, seconds):
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - seconds
    session.save()


def test_the_defaults(settings):
    assert settings.SESSION_IDLE_SECONDS_AGENCY_STAFF == 30 * 60
    assert settings.SESSION_IDLE_SECONDS == 2 * 60 * 60
    assert settings.SESSION_WARNING_SECONDS == 120


def test_an_insured_person_is_signed_out_after_two_idle_hours_not_before():
    user = UserFactory()
    client = english_client()
    log_in(client, user.username)
    idle_for(client, 2 * 60 * 60 - 60)
    assert client.get("/accounts/profile/").status_code == 200
    idle_for(client, 2 * 60 * 60 + 1)
    response = client.get("/accounts/profile/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert client.session.get(SESSION_KEY) is None
    login_page = client.get(response.url).content.decode()
    assert "You were signed out after 120 minutes without activity." in login_page


def test_agency_staff_are_signed_out_after_thirty_idle_minutes(clerk):
    client = english_client()
    client.force_login(clerk)
    queue = reverse("agency_queue", args=[clerk.agency_roles.get().agency_id])
    idle_for(client, 29 * 60)
    assert client.get(queue).status_code == 200
    idle_for(client, 30 * 60 + 1)
    assert client.get(queue).url.startswith("/accounts/login/")


def test_the_warning_comes_two_minutes_before_and_stay_signed_in_keeps_the_session(clerk):
    client = english_client()
    client.force_login(clerk)
    page = client.get("/accounts/profile/").content.decode()
    assert 'id="session-timer"' in page and 'hx-get="/accounts/session/"' in page
    assert "load delay:1680s" in page or "load delay:1679s" in page  # 30 min less the 2 minutes' warning

    idle_for(client, 30 * 60 - 100)
    poll = client.get(STATUS, HTTP_HX_REQUEST="true")
    html = poll.content.decode()
    assert "Without activity you will be signed out in 2 minutes." in html
    assert "Stay signed in" in html and 'hx-post="/accounts/session/"' in html
    # The poll itself is no activity.
    assert client.session[LAST_SEEN_KEY] <= int(time.time()) - 99
    kept = client.post(STATUS, HTTP_HX_REQUEST="true")
    assert "Stay signed in" not in kept.content.decode()
    assert client.session[LAST_SEEN_KEY] >= int(time.time()) - 2
    idle_for(client, 30 * 60 + 5)
    ended = client.get(STATUS, HTTP_HX_REQUEST="true")
    assert "You have been signed out" in ended.content.decode()


def test_keep_me_signed_in_is_for_insured_persons_and_hr_only(clerk, settings):
    user = UserFactory()
    client = english_client()
    log_in(client, user.username, remember="on")
    assert client.session[REMEMBER_KEY] is True
    assert client.session.get_expire_at_browser_close() is False
    idle_for(client, 3 * 60 * 60)
    assert client.get("/accounts/profile/").status_code == 200

    staff = english_client()
    log_in(staff, clerk.username, remember="on")
    assert REMEMBER_KEY not in staff.session
    assert staff.session.get_expire_at_browser_close() is True


def test_without_keep_me_signed_in_the_cookie_ends_with_the_browser():
    user = UserFactory()
    client = english_client()
    log_in(client, user.username)
    client.get("/accounts/profile/")
    assert client.session.get_expire_at_browser_close() is True
