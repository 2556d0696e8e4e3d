"""Sign-up, login, logout, password change, CSRF and the language of error messages."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import translation

from applications.models import InsuredPerson
from tests.conftest import is_chinese
from tests.factories import PASSWORD, InsuredPersonFactory, UserFactory, resident_id, with_check_char

pytestmark = pytest.mark.django_db

User = get_user_model()
SIGNUP = "/accounts/signup/"
NEW_PASSWORD = "Transfer-portal-2026"


def signup_data(**overrides):
    data = {
        "name": "赵敏",
        "document_type": "resident_id",
        "document_number": "33010619850106005X",
        "hukou_region": "330100",
        "phone": "13912345678",
        "address": "杭州市西湖区文三路 1 号",
        "email": "zhao.min@example.cn",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def saved_counts():
    return User.objects.count(), InsuredPerson.objects.count()


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")


# --- a valid sign-up ------------------------------------------------------------------------------


def test_valid_signup_creates_the_account_and_the_person_and_logs_in(client):
    response = client.post(SIGNUP, signup_data())
    assert response.status_code == 302

    user = User.objects.get(username="33010619850106005X")
    assert user.first_name == "赵敏"
    assert user.check_password(NEW_PASSWORD)
    person = InsuredPerson.objects.get(user=user)
    assert person.document_number == "33010619850106005X"
    assert (person.sex, person.birth_date) == ("M", datetime.date(1985, 1, 6))
    assert person.hukou_region_id == "330100"
    assert person.phone == "13912345678"
    assert logged_in_user_id(client) == str(user.pk)

    home = client.get(response.url, follow=True)
    assert home.redirect_chain[-1][0] == "/my/applications/"
    assert "330***********005X" in home.content.decode()


def test_signup_with_a_permit_takes_sex_and_birth_date_from_the_form(client):
    data = signup_data(
        document_type="hk_macau_permit",
        document_number="H12345678",
        hukou_region="",
        sex="F",
        birth_date="1990-05-04",
    )
    assert client.post(SIGNUP, data).status_code == 302
    person = InsuredPerson.objects.get(document_number="H12345678")
    assert (person.sex, person.birth_date, person.hukou_region) == ("F", datetime.date(1990, 5, 4), None)


def test_permit_holders_must_give_sex_and_birth_date(client):
    before = saved_counts()
    data = signup_data(document_type="taiwan_permit", document_number="12345678", hukou_region="")
    response = client.post(SIGNUP, data)
    assert set(response.context["form"].errors) == {"sex", "birth_date"}
    assert saved_counts() == before


def test_a_person_registered_by_the_employer_can_sign_up_and_is_linked(client):
    number = resident_id("330106", datetime.date(1990, 3, 12), 22)
    record = InsuredPersonFactory(name="王芳", document_number=number, user=None)
    assert client.post(SIGNUP, signup_data(name="王芳", document_number=number)).status_code == 302
    record.refresh_from_db()
    assert record.user.username == number
    assert InsuredPerson.objects.count() == 1


def test_a_logged_in_user_is_sent_home_from_signup(client):
    client.force_login(UserFactory())
    assert client.get(SIGNUP).url == "/"


# --- bad input: a named error on the right field, and nothing saved ---------------------------------

BAD_INPUT = {
    "wrong check character": ({"document_number": "330106198501060051"}, "document_number", "checksum"),
    "impossible birth date": (
        {"document_number": with_check_char("11010119900230001")},
        "document_number",
        "birth_date",
    ),
    "lower-case x": ({"document_number": "33010619850106005x"}, "document_number", "lowercase_x"),
    "unknown region code": (
        {"document_number": with_check_char("99999919900101011")},
        "document_number",
        "address_code",
    ),
    "mismatched passwords": ({"password2": NEW_PASSWORD + "!"}, "password2", None),
    "weak password": ({"password1": "1234567890", "password2": "1234567890"}, "password1", None),
    "bad mobile number": ({"phone": "12345"}, "phone", None),
    "no hukou place": ({"hukou_region": ""}, "hukou_region", None),
}


@pytest.mark.parametrize("problem", BAD_INPUT)
def test_bad_input_gets_an_error_on_its_field_and_nothing_is_saved(client, problem):
    overrides, field, code = BAD_INPUT[problem]
    before = saved_counts()
    response = client.post(SIGNUP, signup_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors.as_data()
    assert list(errors) == [field]
    if code:
        assert errors[field][0].code == code
    assert saved_counts() == before
    assert logged_in_user_id(client) is None


@pytest.mark.parametrize("problem", [p for p in BAD_INPUT if p != "weak password"])  # that one is Django's
def test_our_form_errors_have_a_chinese_translation(client, chinese_catalogue, problem):
    overrides, field, _code = BAD_INPUT[problem]
    error = client.post(SIGNUP, signup_data(**overrides)).context["form"].errors.as_data()[field][0]
    with translation.override("en"):
        msgid = str(error.message)
    assert is_chinese(chinese_catalogue.gettext(msgid)), msgid


def test_a_registered_id_number_gets_a_clear_message(client, chinese_catalogue):
    InsuredPersonFactory(
        document_number="33010619850106005X", user=UserFactory(username="33010619850106005X")
    )
    before = saved_counts()
    client.cookies["django_language"] = "en"
    response = client.post(SIGNUP, signup_data())
    assert response.context["form"].errors["document_number"] == [
        "This document number is already registered. Please log in."
    ]
    assert is_chinese(chinese_catalogue.gettext("This document number is already registered. Please log in."))
    assert saved_counts() == before


def test_a_name_that_differs_from_the_employers_record_is_refused(client):
    number = resident_id("330106", datetime.date(1990, 3, 12), 22)
    InsuredPersonFactory(name="王芳", document_number=number, user=None)
    before = saved_counts()
    response = client.post(SIGNUP, signup_data(name="王方", document_number=number))
    assert list(response.context["form"].errors) == ["name"]
    assert saved_counts() == before


def test_an_id_number_taken_as_a_user_name_is_refused(client):
    UserFactory(username="33010619850106005X")
    before = saved_counts()
    response = client.post(SIGNUP, signup_data())
    assert list(response.context["form"].errors) == ["document_number"]
    assert saved_counts() == before


# --- the language of the messages -------------------------------------------------------------------

WRONG_CHECK = {"document_number": "330106198501060051"}
CHECKSUM_MESSAGE = "The check character of this ID number is wrong; please check every digit."


def test_errors_are_in_chinese_by_default(client):
    response = post_bad_signup(client)
    assert response["Content-Language"] == "zh-hans"
    page = response.content.decode()
    assert "这个字段是必填项。" in page  # Django's own catalogue: the name is required
    assert "这个密码太常见了。" in page  # and the weak password
    with translation.override("zh-hans"):
        assert translation.gettext(CHECKSUM_MESSAGE) in page  # our catalogue (English until translated)


def post_bad_signup(client, **extra):
    data = signup_data(name="", password1="1234567890", password2="1234567890", **WRONG_CHECK)
    return client.post(SIGNUP, data, **extra)


def assert_english(response):
    assert response["Content-Language"] == "en"
    page = response.content.decode()
    assert "This field is required." in page
    assert "This password is too common." in page
    assert CHECKSUM_MESSAGE in page
    assert "这个" not in page


def test_errors_are_in_english_with_the_language_cookie(client):
    client.cookies["django_language"] = "en"
    assert_english(post_bad_signup(client))


def test_errors_are_in_english_after_choosing_english_in_the_switcher(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": SIGNUP})
    assert response.status_code == 302
    assert_english(post_bad_signup(client))


def test_an_english_browser_alone_does_not_switch_the_language(client):
    # Product decision (applications.people.middleware.ChineseUnlessChosenMiddleware): Chinese until the user
    # chooses English; the browser's Accept-Language is not consulted.
    response = post_bad_signup(client, HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "zh-hans"
    assert "这个字段是必填项。" in response.content.decode()


# --- login, logout, password change -----------------------------------------------------------------


def test_login_with_the_document_number_and_password(client):
    user = UserFactory(username="360426199101010071")
    response = client.post("/accounts/login/", {"username": "360426199101010071", "password": PASSWORD})
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(user.pk)


def test_login_with_a_wrong_password_fails(client):
    UserFactory(username="360426199101010071")
    response = client.post(
        "/accounts/login/", {"username": "360426199101010071", "password": "wrong-one-123"}
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert logged_in_user_id(client) is None


def test_logout_needs_a_post(client):
    client.force_login(UserFactory())
    assert client.get("/accounts/logout/").status_code == 405
    assert logged_in_user_id(client) is not None
    assert client.post("/accounts/logout/").status_code == 302
    assert logged_in_user_id(client) is None


def test_password_change(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)


def test_password_change_needs_the_old_password(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {"old_password": "not-my-password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert "old_password" in response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_needs_a_login(client):
    assert client.get("/accounts/password/").url.startswith("/accounts/login/")


# --- CSRF -------------------------------------------------------------------------------------------


def test_signup_without_a_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    before = saved_counts()
    assert client.post(SIGNUP, signup_data()).status_code == 403
    assert saved_counts() == before


def test_signup_with_the_csrf_token_of_the_form_works():
    client = Client(enforce_csrf_checks=True)
    client.get(SIGNUP)
    token = client.cookies["csrftoken"].value
    assert client.post(SIGNUP, signup_data(csrfmiddlewaretoken=token)).status_code == 302
    assert User.objects.filter(username="33010619850106005X").exists()
