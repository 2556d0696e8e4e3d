"""Each demo user lands on their own home, and sees nobody else's."""

import pytest
from django.contrib.auth import get_user_model

from agencies.models import Agency
from applications.models import Employer, EmployerStaff, InsuredPerson
from applications.people.identifiers import mask_document_number
from tests.factories import AgencyStaffFactory, EmployerStaffFactory, UserFactory
from tests.world import login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_world")]

User = get_user_model()


def demo_employer():
    return Employer.objects.get(name="杭州演示科技有限公司（演示）")


def employees_url(employer):
    return f"/employer/{employer.pk}/employees/"


def queue_url(agency):
    return f"/agency/{agency.pk}/queue/"


@pytest.mark.parametrize("username", ["360426199101010071", "120103198806018241"])
def test_insured_person_lands_on_my_applications(client, username):
    login(client, username)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/my/applications/"
    page = client.get(response.url)
    person = InsuredPerson.objects.get(user__username=username)
    assert person.name in page.content.decode()
    assert person.masked_document_number in page.content.decode()


def test_hr_lands_on_the_employee_list_with_masked_numbers(client):
    login(client, "hr.hangzhou")
    employer = demo_employer()
    response = client.get("/")
    assert response.url == employees_url(employer)

    page = client.get(response.url).content.decode()
    employees = list(employer.employees.all())
    assert len(employees) == 5
    for person in employees:
        assert person.name in page
        assert mask_document_number(person.document_number) in page
        assert person.document_number not in page


@pytest.mark.parametrize(
    ("username", "agency_code"),
    [
        ("clerk.hangzhou", "YL330100"),
        ("reviewer.hangzhou", "YL330100"),
        ("clerk.jiujiang", "YL360400"),
        ("reviewer.jiujiang", "YL360400"),
    ],
)
def test_agency_staff_land_on_their_agency_queue(client, username, agency_code):
    login(client, username)
    agency = Agency.objects.get(code=agency_code)
    response = client.get("/")
    assert response.url == queue_url(agency)
    page = client.get(response.url)
    assert page.status_code == 200
    assert agency.name in page.content.decode()


def test_a_user_with_two_roles_chooses_a_home(client):
    user = User.objects.get(username="360426199101010071")
    EmployerStaffFactory(user=user, employer=demo_employer())
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/my/applications/"' in page
    assert f'href="{employees_url(demo_employer())}"' in page


def test_staff_of_two_agencies_see_both_queues(client):
    user = User.objects.get(username="clerk.hangzhou")
    medical = Agency.objects.get(code="YB330100")
    AgencyStaffFactory(user=user, agency=medical)
    client.force_login(user)
    page = client.get("/").content.decode()
    assert f'href="{queue_url(Agency.objects.get(code="YL330100"))}"' in page
    assert f'href="{queue_url(medical)}"' in page


def test_a_user_without_a_role_is_told_so(client):
    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["homes"] == []


def test_hr_of_another_employer_gets_404(client):
    other = EmployerStaffFactory()
    client.force_login(other.user)
    assert client.get(employees_url(demo_employer())).status_code == 404
    assert client.get(employees_url(other.employer)).status_code == 200


@pytest.mark.parametrize("username", ["360426199101010071", "clerk.hangzhou"])
def test_unrelated_users_get_404_for_the_employer_page(client, username):
    login(client, username)
    assert client.get(employees_url(demo_employer())).status_code == 404


def test_staff_of_another_agency_get_404_for_the_queue(client):
    login(client, "clerk.jiujiang")
    assert client.get(queue_url(Agency.objects.get(code="YL330100"))).status_code == 404
    login(client, "hr.hangzhou")
    assert client.get(queue_url(Agency.objects.get(code="YL330100"))).status_code == 404


def test_staff_of_one_scheme_get_404_for_the_other_schemes_agency(client):
    login(client, "clerk.hangzhou")
    assert client.get(queue_url(Agency.objects.get(code="YB330100"))).status_code == 404


def test_pages_that_do_not_exist_are_404(client):
    login(client, "hr.hangzhou")
    assert client.get("/employer/999999/employees/").status_code == 404
    assert client.get("/agency/999999/queue/").status_code == 404
    assert client.get("/my/applications/").status_code == 404  # HR is not an insured person


@pytest.mark.parametrize("path", ["/my/applications/", "employer", "agency"])
def test_anonymous_users_are_sent_to_login(client, path):
    if path == "employer":
        path = employees_url(demo_employer())
    elif path == "agency":
        path = queue_url(Agency.objects.get(code="YL330100"))
    response = client.get(path)
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={path}"


def test_anonymous_users_see_the_landing_page(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/accounts/login/"' in page
    assert 'href="/accounts/signup/"' in page


def test_the_seeded_hr_user_is_the_only_hr_of_the_demo_employer():
    assert list(
        EmployerStaff.objects.filter(employer=demo_employer()).values_list("user__username", flat=True)
    ) == ["hr.hangzhou"]
