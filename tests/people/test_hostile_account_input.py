"""Hostile values in the account forms (hypothesis, the security suite's strategies): the profile, the
e-mail change, the password reset request and the administrator's invitation never answer a server
error, never half-save, and never echo a value unescaped."""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from hypothesis import example, given

from agencies.models import AgencyStaff
from applications.models import AccountEvent, UserProfile
from tests.factories import PASSWORD, AgencyFactory, AgencyStaffFactory, UserFactory
from tests.people.conftest import english_client
from tests.security.test_hostile_input import FUZZ, NUL, SCRIPT, everywhere, pick

User = get_user_model()
PROFILE = {"name": "王芳", "phone": "0571-1234567", "language": "zh-hans"}
EMAIL = {"email": "new.address@example.cn", "password": PASSWORD}
INVITE = {"username": "li.lei", "name": "李雷", "email": "li.lei@example.cn", "role": "clerk"}
RESET = {"email": "someone@example.cn"}


def counts():
    return (
        User.objects.count(),
        AgencyStaff.everyone.count(),
        UserProfile.objects.count(),
        AccountEvent.objects.count(),
    )


def post(client, url, data):
    with transaction.atomic():
        before = counts()
        response = client.post(url, data)
        after = counts()
        body = response.content.decode("utf-8", "replace")
        transaction.set_rollback(True)
    assert response.status_code < 500
    assert SCRIPT not in body
    return response, before, after


@pytest.fixture(scope="module")
def people(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            agency = AgencyFactory()
            admin = AgencyStaffFactory(agency=agency, role=AgencyStaff.Role.ADMINISTRATOR).user
            yield {"user": UserFactory(), "admin": admin, "agency": agency}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.mark.django_db
@FUZZ
@given(data=pick(PROFILE, PROFILE))
@example(data=everywhere(PROFILE, PROFILE, NUL))
@example(data=everywhere(PROFILE, ["name", "phone"], SCRIPT))
def test_profile(people, data):
    client = english_client()
    client.force_login(people["user"])
    response, before, after = post(client, reverse("profile"), data)
    if response.status_code == 200:
        assert after == before


@pytest.mark.django_db
@FUZZ
@given(data=pick(EMAIL, EMAIL))
@example(data=everywhere(EMAIL, EMAIL, NUL))
@example(data=everywhere(EMAIL, ["email"], SCRIPT))
def test_e_mail_change(people, data):
    client = english_client()
    client.force_login(people["user"])
    response, before, after = post(client, reverse("profile_email"), data)
    if response.status_code == 200:
        assert after == before


@pytest.mark.django_db
@FUZZ
@given(data=pick(RESET, RESET))
@example(data=everywhere(RESET, RESET, NUL))
def test_password_reset_request(people, data):
    response, _before, _after = post(english_client(), reverse("password_reset"), data)
    assert response.status_code in (200, 302, 429)


@pytest.mark.django_db
@FUZZ
@given(data=pick(INVITE, INVITE))
@example(data=everywhere(INVITE, INVITE, NUL))
@example(data=everywhere(INVITE, ["username", "name"], SCRIPT))
def test_invitation(people, data):
    client = english_client()
    client.force_login(people["admin"])
    response, before, after = post(client, reverse("agency_staff_invite", args=[people["agency"].pk]), data)
    if response.status_code == 200:
        assert after == before
    else:
        # Accepted: the account, its profile, the membership and the event, all four.
        assert response.status_code == 302
        assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1, 1]
