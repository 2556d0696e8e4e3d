"""Password guessing as an outside attacker scripts it, through the real login page.

An insured person's user name is their ID number (guessable: a place, a birth date, a sequence) and they
have no second factor, so the login throttle (applications/people/login_throttle.py) is all that stands
between a guesser and their account. The attacker can sign up an account of their own, log in with it
whenever that helps, and send from as many addresses as they like.
"""

import datetime

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.factories import PASSWORD, InsuredPersonFactory, UserFactory, resident_id
from tests.security.conftest import tally

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
LOCKED = 429


def insured_person_with_login(number):
    user = UserFactory(username=number)
    InsuredPersonFactory(user=user, document_number=number)
    return user


@pytest.fixture
def victim():
    return insured_person_with_login(resident_id("330106", datetime.date(1984, 6, 3), 41))


@pytest.fixture
def attacker():
    """The attacker's own account: anyone can sign up."""
    return insured_person_with_login(resident_id("360426", datetime.date(1990, 2, 2), 77))


def client_at(address):
    client = Client(REMOTE_ADDR=address)
    client.cookies["django_language"] = "en"
    return client


def log_in(address, username, password):
    client = client_at(address)
    response = client.post(LOGIN_URL, {"username": username, "password": password})
    return response, client.session.get(SESSION_KEY)


def guess(address, username, n):
    response, _user = log_in(address, username, f"Guess-{n:04d}-wrong")
    return response.status_code


def test_a_good_login_of_the_attackers_own_account_does_not_clear_the_guesses(victim, attacker):
    """The script that was never locked: four guesses, one good login of one's own, again and again."""
    address = "198.51.100.20"
    answers = []
    for round_ in range(6):
        for n in range(4):
            answers.append(guess(address, victim.username, round_ * 4 + n))
        response, logged_in = log_in(address, attacker.username, PASSWORD)
        assert response.status_code == 302 and logged_in == str(attacker.pk)  # the attacker is not locked
    assert answers[:4] == [200] * 4
    assert answers[4] == LOCKED, answers  # the 5th guess is refused
    assert set(answers[4:]) == {LOCKED}
    # Locked from this address even with the right password...
    response, logged_in = log_in(address, victim.username, PASSWORD)
    assert (response.status_code, logged_in) == (LOCKED, None)
    # ...while the owner, at home, still gets in.
    response, logged_in = log_in("203.0.113.50", victim.username, PASSWORD)
    assert (response.status_code, logged_in) == (302, str(victim.pk))
    tally("login throttling attempts", len(answers) + 6 + 2)


def test_refused_guesses_are_not_counted_so_one_address_cannot_lock_the_owner_out(victim):
    address = "198.51.100.21"
    answers = [guess(address, victim.username, n) for n in range(30)]
    assert answers.count(200) == settings.AXES_FAILURE_LIMIT - 1
    failures = sum(
        AccessAttempt.objects.filter(username=victim.username).values_list("failures_since_start", flat=True)
    )
    assert failures == settings.AXES_FAILURE_LIMIT
    response, logged_in = log_in("203.0.113.51", victim.username, PASSWORD)
    assert (response.status_code, logged_in) == (302, str(victim.pk))
    tally("login throttling attempts", 31)


def test_guesses_from_twenty_addresses_lock_the_user_name_everywhere(victim):
    limit = settings.LOGIN_FAILURES_PER_USER_NAME
    answers = [guess(f"192.0.2.{n + 1}", victim.username, n) for n in range(limit)]
    assert answers[: limit - 1] == [200] * (limit - 1)
    assert answers[-1] == LOCKED  # the 20th failure, from its 20th address, locks the user name
    for address in ("192.0.2.200", "203.0.113.52"):
        response, logged_in = log_in(address, victim.username, PASSWORD)
        assert (response.status_code, logged_in) == (LOCKED, None), address
    # After the cool-off the owner gets in again.
    cool_off = settings.AXES_COOLOFF_TIME + datetime.timedelta(minutes=1)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time - cool_off)
    response, logged_in = log_in("203.0.113.52", victim.username, PASSWORD)
    assert (response.status_code, logged_in) == (302, str(victim.pk))
    tally("login throttling attempts", limit + 3)


def test_one_address_trying_many_user_names_is_stopped(attacker):
    address = "198.51.100.22"
    limit = settings.LOGIN_FAILURES_PER_ADDRESS
    numbers = [
        resident_id("330106", datetime.date(1980, 1, 1) + datetime.timedelta(days=n), 11)
        for n in range(limit)
    ]
    answers = [guess(address, number, 0) for number in numbers]
    assert answers[: limit - 1] == [200] * (limit - 1)
    assert answers[-1] == LOCKED
    response, logged_in = log_in(address, attacker.username, PASSWORD)
    assert (response.status_code, logged_in) == (LOCKED, None)
    response, logged_in = log_in("198.51.100.23", attacker.username, PASSWORD)
    assert (response.status_code, logged_in) == (302, str(attacker.pk))
    tally("login throttling attempts", limit + 2)


def test_a_good_login_clears_the_owners_own_typing_mistakes(victim):
    address = "203.0.113.53"
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert guess(address, victim.username, n) == 200
    assert log_in(address, victim.username, PASSWORD)[0].status_code == 302
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert guess(address, victim.username, n) == 200
    assert log_in(address, victim.username, PASSWORD)[0].status_code == 302
    tally("login throttling attempts", 2 * settings.AXES_FAILURE_LIMIT)
