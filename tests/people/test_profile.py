"""The profile page of every user (name, phone, language, e-mail with password and confirmation, sign out
elsewhere), the e-mail asked at sign-up, and the language kept on the account and applied at login."""

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model

from applications.models import AccountEvent, InsuredPerson, UserProfile
from tests.factories import PASSWORD, UserFactory
from tests.people.conftest import english_client, links_in, log_in, path_of, unique_address

pytestmark = pytest.mark.django_db
User = get_user_model()
PROFILE = "/accounts/profile/"


def confirmation_link(outbox, to):
    (message,) = [m for m in outbox if m.to == [to]]
    (link,) = links_in(message)
    return path_of(link)


def test_sign_up_asks_for_an_e_mail_address_and_sends_a_confirmation(
    outbox, django_capture_on_commit_callbacks
):
    client = english_client()
    data = {
        "name": "赵敏",
        "document_type": "resident_id",
        "document_number": "33010619850106005X",
        "hukou_region": "330100",
        "phone": "13912345678",
        "password1": "Transfer-portal-2026",
        "password2": "Transfer-portal-2026",
    }
    refused = client.post("/accounts/signup/", data)
    assert "email" in refused.context["form"].errors
    assert not User.objects.filter(username="33010619850106005X").exists()

    address = unique_address("zhao")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/accounts/signup/", {**data, "email": address}).status_code == 302
    user = User.objects.get(username="33010619850106005X")
    assert user.email == ""  # not before it is confirmed
    assert UserProfile.objects.get(user=user).pending_email == address
    link = confirmation_link(outbox, address)
    page = client.get(link)
    assert page.status_code == 200 and address in page.content.decode()
    user.refresh_from_db()
    assert user.email == ""  # opening the link (a mail scanner) changes nothing
    assert client.post(link).status_code == 302
    user.refresh_from_db()
    assert user.email == address
    assert AccountEvent.objects.filter(user=user, action=AccountEvent.Action.EMAIL_CONFIRMED).count() == 1
    # The same link again: a clear message, nothing changes.
    again = client.post(link)
    assert again.status_code == 400 and "already confirmed" in again.content.decode()


def test_the_profile_saves_name_phone_and_language(client):
    user = UserFactory(first_name="王芳")
    client.force_login(user)
    client.cookies["django_language"] = "en"
    assert client.get(PROFILE).status_code == 200
    response = client.post(PROFILE, {"name": "王 芳", "phone": "0571-12345678", "language": "en"})
    assert response.status_code == 302
    user.refresh_from_db()
    profile = UserProfile.objects.get(user=user)
    assert (user.first_name, profile.phone, profile.language) == ("王 芳", "0571-12345678", "en")


def test_an_insured_persons_name_stays_the_one_on_the_document(insured):
    client = english_client()
    client.force_login(insured)
    person = InsuredPerson.objects.get(user=insured)
    client.post(PROFILE, {"name": "Someone Else", "phone": "13900001111", "language": "zh-hans"})
    person.refresh_from_db()
    assert person.name != "Someone Else" and person.phone == "13900001111"


def test_the_language_is_kept_on_the_account_and_applied_at_the_next_login():
    user = UserFactory()
    first = english_client()
    log_in(first, user.username)
    first.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert UserProfile.objects.get(user=user).language == "en"
    # Another computer, whose cookie says nothing: after login the pages are in English.
    other = english_client()
    other.cookies.pop("django_language")
    assert log_in(other, user.username).status_code == 302
    page = other.get(PROFILE)
    assert page["Content-Language"] == "en"
    assert other.cookies["django_language"].value == "en"
    # And a computer set to English for an account that chose Chinese speaks Chinese after login.
    UserProfile.objects.filter(user=user).update(language="zh-hans")
    third = english_client()
    log_in(third, user.username)
    assert third.get(PROFILE)["Content-Language"] == "zh-hans"


def test_changing_the_e_mail_needs_the_password_and_a_confirmation_at_the_new_address(
    outbox, django_capture_on_commit_callbacks
):
    old = unique_address("old")
    user = UserFactory(email=old)
    UserProfile.objects.create(user=user, language="en")
    client = english_client()
    client.force_login(user)
    new = unique_address("new")
    wrong = client.post("/accounts/profile/email/", {"email": new, "password": "not-my-password"})
    assert wrong.status_code == 200 and "The password is not correct." in wrong.content.decode()
    assert not UserProfile.objects.filter(user=user, pending_email=new).exists()
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post("/accounts/profile/email/", {"email": new, "password": PASSWORD})
    assert asked.status_code == 302
    user.refresh_from_db()
    assert user.email == old  # until confirmed
    assert any(m.to == [old] and new in m.body for m in outbox)  # the old address is told
    client.post(confirmation_link(outbox, new))
    user.refresh_from_db()
    assert user.email == new


def test_a_wrong_confirmation_link_changes_nothing(client):
    response = client.post("/accounts/email/not-a-token/")
    assert response.status_code == 400


def test_sign_out_of_all_other_sessions():
    user = UserFactory()
    here, there, third = english_client(), english_client(), english_client()
    for client in (here, there, third):
        log_in(client, user.username)
    assert "2 other devices" in here.get(PROFILE).content.decode()
    assert here.post("/accounts/profile/sessions/").status_code == 302
    assert here.get(PROFILE).status_code == 200
    for client in (there, third):
        assert client.session.get(SESSION_KEY) is None
        assert client.get(PROFILE).url.startswith("/accounts/login/")
    event = AccountEvent.objects.get(user=user, action=AccountEvent.Action.OTHER_SESSIONS_ENDED)
    assert event.data["sessions_ended"] == 2


def test_the_account_audit_trail_cannot_be_changed_or_deleted():
    from django.core.exceptions import PermissionDenied

    from applications.cases import audit

    user = UserFactory()
    event = audit.other_sessions_ended(user, sessions_ended=0)
    event.data = {"sessions_ended": 99}
    for attempt in (
        event.save,
        event.delete,
        lambda: AccountEvent.objects.filter(pk=event.pk).update(action="x"),
        lambda: AccountEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert AccountEvent.objects.get(pk=event.pk).data == {"sessions_ended": 0}
