"""HR annexing a self-registered person: adding an employee whose ID number and name match a person who
has their own login used to put that person on HR's list at once, and HR could then file and withdraw
transfers in their name. Now the person is asked in their portal and decides; until they accept, HR can
neither file for them one by one nor in bulk. And HR's add-employee form and CSV import give one answer
for every number that is not a plain new employee, so they tell nobody who is registered or on another
employer's list."""

import datetime
import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from applications.employers.employees import referred_message
from applications.models import EmployerLinkRequest, EmployerStaff, InsuredPerson, TransferApplication
from tests.employer.conftest import csv_file, csv_text
from tests.factories import EmployerStaffFactory, InsuredPersonFactory, UserFactory, resident_id
from tests.security.conftest import tally

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_world")]

User = get_user_model()
ZHANG = "360426199101010071"  # seed_demo: 张伟 signed up himself and has no employer


@pytest.fixture(autouse=True)
def no_tasks(monkeypatch):
    monkeypatch.setattr("applications.documents.tasks.render_document.delay", lambda *a, **k: None)
    monkeypatch.setattr("applications.notify.tasks.send_notification_emails.delay", lambda *a, **k: None)


@pytest.fixture
def employer():
    return EmployerStaff.objects.get(user__username="hr.hangzhou").employer


def english(user):
    client = Client()
    client.cookies["django_language"] = "en"
    client.force_login(user)
    return client


@pytest.fixture
def hr():
    return english(User.objects.get(username="hr.hangzhou"))


def zhang():
    return InsuredPerson.objects.get(document_number=ZHANG)


def add(hr, employer, name, number, **extra):
    data = {"name": name, "document_type": "resident_id", "document_number": number, "hukou_region": "330100"}
    data.update(extra)
    return hr.post(reverse("employer_add_employee", args=[employer.pk]), data)


FILING = {
    "schemes": ["pension"],
    "transfer_out_region": "360400",
    "transfer_in_region": "330100",
    "transfer_out_agency": "",
    "transfer_in_agency": "",
}


def hr_files_for(hr, employer, person):
    url = reverse("employer_file_application", args=[employer.pk, person.pk])
    return hr.get(url).status_code, hr.post(url, FILING).status_code


def bulk_file(hr, employer, number):
    text = csv_text(
        ("document_number", "scheme", "transfer_out_region", "transfer_in_region"),
        [(number, "pension", "360400", "330100")],
    )
    return hr.post(
        reverse("employer_bulk_filing", args=[employer.pk]), {"csv_file": csv_file(text), "confirm": "on"}
    )


def test_hr_adding_a_self_registered_person_only_asks_them(hr, employer):
    response = add(hr, employer, "张伟", ZHANG)
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [referred_message("张伟")]
    assert zhang().employer is None
    request = EmployerLinkRequest.objects.get(person=zhang())
    assert (request.employer, request.requested_by.username, request.status) == (
        employer,
        "hr.hangzhou",
        "pending",
    )
    # HR can neither file for him one by one nor in bulk, and he is not on their list.
    assert hr_files_for(hr, employer, zhang()) == (404, 404)
    report = bulk_file(hr, employer, ZHANG).content.decode()
    assert "None of your employees has this document number" in report
    assert not TransferApplication.objects.filter(person=zhang()).exists()
    assert "张伟" not in hr.get(reverse("employer_employees", args=[employer.pk])).content.decode()
    tally("attempts to annex a self-registered person", 5)


def test_the_person_accepts_in_their_portal_and_only_then_hr_may_file(hr, employer):
    add(hr, employer, "张伟", ZHANG)
    person = english(zhang().user)
    for page in (reverse("my_applications"), reverse("notifications")):
        body = html.unescape(person.get(page).content.decode())
        assert f"{employer.name} asked on" in body, page
        assert 'value="accept"' in body and 'value="decline"' in body
    # The badge counts the request among what waits for him.
    assert person.get(reverse("my_applications")).context["unread_notifications"] == 1
    link = EmployerLinkRequest.objects.get(person=zhang())
    url = reverse("answer_employer_request", args=[link.pk])
    assert person.post(url, {"answer": "accept", "next": "https://evil.example/"}).url == reverse(
        "my_applications"
    )
    assert zhang().employer == employer
    link.refresh_from_db()
    assert link.status == "accepted" and link.answered_at is not None
    assert person.post(url, {"answer": "decline"}).status_code == 404  # answered once, for good
    assert zhang().employer == employer
    assert hr_files_for(hr, employer, zhang())[0] == 200
    tally("attempts to annex a self-registered person", 4)


def test_declining_leaves_the_person_off_the_list(hr, employer):
    add(hr, employer, "张伟", ZHANG)
    link = EmployerLinkRequest.objects.get(person=zhang())
    person = english(zhang().user)
    response = person.post(reverse("answer_employer_request", args=[link.pk]), {"answer": "decline"})
    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.status, zhang().employer) == ("declined", None)
    assert hr_files_for(hr, employer, zhang()) == (404, 404)
    # Asking again makes a new request; the declined one stays as it was.
    add(hr, employer, "张伟", ZHANG)
    assert list(EmployerLinkRequest.objects.filter(person=zhang()).values_list("status", flat=True)) == [
        "pending",
        "declined",
    ]
    tally("attempts to annex a self-registered person", 3)


def test_nobody_but_the_person_can_answer(hr, employer):
    add(hr, employer, "张伟", ZHANG)
    link = EmployerLinkRequest.objects.get(person=zhang())
    url = reverse("answer_employer_request", args=[link.pk])
    li_na = User.objects.get(username="120103198806018241")
    for user in (li_na, User.objects.get(username="hr.hangzhou"), User.objects.get(username="admin")):
        client = english(user)
        assert client.post(url, {"answer": "accept"}).status_code == 404, user.username
    assert english(zhang().user).get(url).status_code == 405  # an answer is a POST (with its CSRF token)
    assert english(zhang().user).post(url, {"answer": "yes"}).status_code == 404
    link.refresh_from_db()
    assert (link.status, zhang().employer) == ("pending", None)
    tally("attempts to annex a self-registered person", 5)


def test_an_answered_request_cannot_be_rewritten(hr, employer):
    add(hr, employer, "张伟", ZHANG)
    link = EmployerLinkRequest.objects.get(person=zhang())
    english(zhang().user).post(reverse("answer_employer_request", args=[link.pk]), {"answer": "decline"})
    link.refresh_from_db()
    link.status = "accepted"
    with pytest.raises(Exception, match="never changed"):
        link.save()


# --- one answer for every number on record ------------------------------------------------------------


def numbers_on_record(employer):
    """(what it is, name to enter, number): every kind of number that is not a plain new employee."""
    other = EmployerStaffFactory().employer
    born = datetime.date(1988, 8, 8)
    registered_elsewhere = InsuredPersonFactory(
        name="赵敏", document_number=resident_id("330106", born, 11), user=UserFactory(), employer=other
    )
    listed_elsewhere = InsuredPersonFactory(
        name="赵敏", document_number=resident_id("330106", born, 13), employer=other
    )
    other_name = InsuredPersonFactory(name="钱多多", document_number=resident_id("330106", born, 15))
    other_name_registered = InsuredPersonFactory(
        name="钱多多", document_number=resident_id("330106", born, 17), user=UserFactory()
    )
    return [
        ("registered, no employer", "张伟", ZHANG),
        ("registered, on another employer's list", "赵敏", registered_elsewhere.document_number),
        ("on another employer's list, no account", "赵敏", listed_elsewhere.document_number),
        ("on record under another name", "赵敏", other_name.document_number),
        ("registered under another name", "赵敏", other_name_registered.document_number),
        ("registered, asked already", "张伟", ZHANG),
    ]


def answer_to(hr, employer, name, number, **extra):
    response = add(hr, employer, name, number, **extra)
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    errors = response.context["form"].errors if response.context and "form" in response.context else {}
    return response.status_code, response.get("Location"), messages, {k: list(v) for k, v in errors.items()}


def test_the_add_form_says_the_same_for_every_number_that_is_not_a_plain_new_employee(hr, employer):
    cases = numbers_on_record(employer)
    for what, name, number in cases:
        status, location, messages, errors = answer_to(hr, employer, name, number)
        assert (status, location, errors) == (302, reverse("employer_employees", args=[employer.pk]), {}), (
            what
        )
        assert messages == [referred_message(name)], what
        # The same checks as for a new number: the missing hukou place is asked for in the same words.
        without_place = answer_to(hr, employer, name, number, hukou_region="")
        assert without_place[3] == {"hukou_region": ["Choose the place of the household registration."]}, what
    new = resident_id("330106", datetime.date(1999, 9, 9), 19)
    assert answer_to(hr, employer, "孙新", new, hukou_region="")[3] == {
        "hukou_region": ["Choose the place of the household registration."]
    }
    # Only the people with an account and the same name were asked; nobody was put on the list.
    assert sorted(EmployerLinkRequest.objects.values_list("person__name", flat=True)) == ["张伟", "赵敏"]
    assert not employer.employees.filter(name__in=["张伟", "赵敏", "钱多多"]).exists()
    tally("numbers on record added through the form", 2 * len(cases) + 1)


def test_the_import_says_the_same_for_every_number_that_is_not_a_plain_new_employee(hr, employer):
    cases = numbers_on_record(employer)
    new = resident_id("330106", datetime.date(1999, 9, 9), 19)
    rows = [("孙新", new, "330100")] + [(name, number, "330100") for _what, name, number in cases[:-1]]
    text = csv_text(("name", "document_number", "hukou_region"), rows)
    response = hr.post(reverse("employer_import_employees", args=[employer.pk]), {"csv_file": csv_file(text)})
    assert response.status_code == 302
    page = html.unescape(hr.get(response.url).content.decode())
    assert "Imported. Added to your employees: 1." in page
    assert f"Not added directly: {len(cases) - 1}." in page
    for leak in ("another employer", "does not match", "registered", "already"):
        assert leak not in re.sub(r"has an account on the portal", "", page), leak
    assert employer.employees.filter(name="孙新").exists()
    assert sorted(EmployerLinkRequest.objects.values_list("person__name", flat=True)) == ["张伟", "赵敏"]
    tally("numbers on record added through the CSV import", len(rows))


def test_both_sides_read_it_in_chinese_by_default(employer):
    hr = Client()
    hr.force_login(User.objects.get(username="hr.hangzhou"))
    response = add(hr, employer, "张伟", ZHANG)
    page = hr.get(response.url).content.decode()
    assert "张伟 未直接添加。如果此人已在本平台注册账户" in page
    person = Client()
    person.force_login(zhang().user)
    page = html.unescape(person.get(reverse("my_applications")).content.decode())
    assert "单位关联请求" in page
    assert f"{employer.name}于" in page and "请求将您加入其职工名单" in page
    assert ">确认</button>" in page and ">拒绝</button>" in page
