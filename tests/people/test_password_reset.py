"""Forgot password: Django's reset views, by the confirmed e-mail of the account, the same answer whether
or not an account has the address, a link that works once and for a short time, limits per client
address, typed address and account, and the other sessions ended."""

import datetime

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import caches

from applications.models import AccountEvent, UserProfile
from tests.factories import PASSWORD, UserFactory
from tests.people.conftest import english_client, links_in, log_in, path_of, unique_address
from tests.workflow.helpers import require_services

pytestmark = pytest.mark.django_db
User = get_user_model()
RESET = "/accounts/password/reset/"
NEW = "Quiet-harbour-2026-lamp"


def ask(client, address, **extra):
    return client.post(RESET, {"email": address}, **extra)


def reset_link(outbox):
    (message,) = outbox
    (link,) = links_in(message)
    return path_of(link)


def choose(client, link, password=NEW):
    """Open the mailed link and post the new password, as a browser does (Django moves the token into the
    session and redirects to a set-password address)."""
    page = client.get(link, follow=True)
    if not page.context.get("validlink"):
        return page
    return client.post(page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})


def test_forgot_password_mail_new_password_log_in_and_the_link_works_once(outbox):
    address = unique_address("wang")
    user = UserFactory(email=address)
    elsewhere = english_client()
    log_in(elsewhere, user.username)
    assert elsewhere.session.get(SESSION_KEY)

    client = english_client()
    assert "/accounts/password/reset/" in client.get("/accounts/login/").content.decode()
    response = ask(client, address.upper())  # typed in capitals: the same account
    assert response.status_code == 302 and response.url == "/accounts/password/reset/sent/"
    link = reset_link(outbox)
    assert outbox[0].to == [address]
    assert user.username in outbox[0].body
    done = choose(client, link)
    assert done.status_code == 302 and done.url == "/accounts/reset/done/"
    user.refresh_from_db()
    assert user.check_password(NEW)

    # The other session has ended, and the event is recorded.
    assert elsewhere.get("/accounts/profile/").url.startswith("/accounts/login/")
    event = AccountEvent.objects.get(user=user, action=AccountEvent.Action.PASSWORD_RESET)
    assert event.actor is None and event.data["sessions_ended"] == 1
    assert (
        AccountEvent.objects.filter(user=user, action=AccountEvent.Action.PASSWORD_RESET_REQUESTED).count()
        == 1
    )

    # Log in with the new password; the old one no longer works.
    assert log_in(english_client(), user.username, NEW).status_code == 302
    assert log_in(english_client(), user.username, PASSWORD).status_code == 200

    # The same link again: refused with a message, nothing changes.
    again = english_client()
    page = choose(again, link, password="Another-river-2026-x")
    assert page.status_code == 200 and page.context["validlink"] is False
    assert "has been used already" in page.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW)


def test_the_answer_is_the_same_whether_or_not_an_account_has_the_address(outbox):
    known = unique_address("known")
    UserFactory(email=known)
    answers = []
    for address in (known, unique_address("nobody")):
        response = ask(english_client(), address)
        answers.append((response.status_code, response.url))
    assert answers[0] == answers[1] == (302, "/accounts/password/reset/sent/")
    assert len(outbox) == 1 and outbox[0].to == [known]
    page = english_client().get("/accounts/password/reset/sent/").content.decode()
    assert "If an account has this e-mail address" in page


def test_an_unconfirmed_address_gets_no_reset_mail(outbox):
    """A mistyped address at sign-up must not let its owner take the account over."""
    address = unique_address("typo")
    user = UserFactory(email="")
    UserProfile.objects.create(user=user, pending_email=address)
    assert ask(english_client(), address).status_code == 302
    assert outbox == []


def test_a_wrong_link_is_refused_and_changes_nothing(outbox):
    user = UserFactory(email=unique_address())
    ask(english_client(), user.email)
    link = reset_link(outbox)
    tampered = link.rstrip("/")[:-3] + "abc/"
    page = choose(english_client(), tampered)
    assert page.context["validlink"] is False
    assert "The password reset link is wrong, has expired or has been used already." in page.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_an_expired_link_is_refused(outbox, settings, monkeypatch):
    assert settings.PASSWORD_RESET_TIMEOUT == 30 * 60  # the configured default: short
    user = UserFactory(email=unique_address())
    ask(english_client(), user.email)
    link = reset_link(outbox)
    later = datetime.datetime.now() + datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 5)
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)
    page = choose(english_client(), link)
    assert page.context["validlink"] is False
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_mail_is_in_the_accounts_language(outbox):
    user = UserFactory(email=unique_address())
    UserProfile.objects.create(user=user, language="zh-hans")
    ask(english_client(), user.email)  # asked from an English page
    assert "密码" in outbox[0].subject


def test_an_account_gets_a_few_mails_an_hour_then_the_same_answer_and_no_mail(outbox, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT = 3
    user = UserFactory(email=unique_address())
    for attempt in range(6):
        # From different client addresses, so that only the account's own limit is reached.
        response = ask(english_client(), user.email, REMOTE_ADDR=f"198.51.100.{attempt + 1}")
        assert response.status_code == 302 and response.url == "/accounts/password/reset/sent/"
    assert len(outbox) == 3
    mailed = AccountEvent.objects.filter(user=user, action=AccountEvent.Action.PASSWORD_RESET_REQUESTED)
    assert [event.data["mailed"] for event in mailed.order_by("pk")] == [True, True, True]


def test_one_client_address_is_slowed_down_with_a_message(outbox, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 4
    address = "203.0.113.77"
    for _attempt in range(4):
        assert ask(english_client(), unique_address(), REMOTE_ADDR=address).status_code == 302
    refused = ask(english_client(), unique_address(), REMOTE_ADDR=address)
    assert refused.status_code == 429
    assert "Too many reset requests came from your network" in refused.content.decode()
    # Another address is not affected.
    assert ask(english_client(), unique_address(), REMOTE_ADDR="203.0.113.78").status_code == 302


def test_the_limits_are_counted_in_redis_across_processes(outbox, settings):
    """Production counts in Redis, shared by every web process: a counter kept in one process's memory
    would let each process send its own three mails."""
    require_services(redis=True)
    assert "Redis" in type(caches["default"]).__name__
    settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT = 2
    user = UserFactory(email=unique_address())
    for attempt in range(4):
        ask(english_client(), user.email, REMOTE_ADDR=f"192.0.2.{attempt + 1}")
    assert len(outbox) == 2
