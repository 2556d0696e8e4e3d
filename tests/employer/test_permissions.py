"""Only HR staff of the employer reach its pages; everyone else gets 404 (or the login page)."""

import pytest
from django.contrib.auth import get_user_model

from applications.models import FilingBatch
from tests.factories import EmployerStaffFactory

pytestmark = pytest.mark.django_db


def employer_urls(employer, person, batch):
    e = employer.pk
    return [
        ("get", f"/employer/{e}/employees/"),
        ("get", f"/employer/{e}/employees/add/"),
        ("post", f"/employer/{e}/employees/add/"),
        ("get", f"/employer/{e}/employees/import/"),
        ("post", f"/employer/{e}/employees/import/"),
        ("post", f"/employer/{e}/employees/{person.pk}/remove/"),
        ("get", f"/employer/{e}/bulk/"),
        ("post", f"/employer/{e}/bulk/"),
        ("get", f"/employer/{e}/bulk/template.csv"),
        ("get", f"/employer/{e}/bulk/{batch.pk}/"),
        ("get", f"/employer/{e}/bulk/{batch.pk}/progress/"),
        ("get", f"/employer/{e}/bulk/{batch.pk}/errors.csv"),
        ("get", f"/employer/{e}/cases/"),
    ]


@pytest.fixture
def batch(employer):
    hr_user = get_user_model().objects.get(username="hr.hangzhou")
    return FilingBatch.objects.create(
        employer=employer, uploaded_by=hr_user, status=FilingBatch.Status.REJECTED,
        errors=[{"row": 2, "column": "scheme", "message": "x"}],
    )  # fmt: skip


def test_hr_of_the_employer_reaches_every_page(hr, employer, batch):
    person = employer.employees.first()
    for method, url in employer_urls(employer, person, batch):
        if method == "get":
            response = hr.get(url)
            assert response.status_code in (200, 286, 302), url


@pytest.mark.parametrize("who", ["other_hr", "insured", "agency_clerk"])
def test_anyone_else_gets_404(client, employer, batch, who):
    users = {
        "other_hr": lambda: EmployerStaffFactory().user,
        "insured": lambda: get_user_model().objects.get(username="360426199101010071"),
        "agency_clerk": lambda: get_user_model().objects.get(username="clerk.hangzhou"),
    }
    client.force_login(users[who]())
    person = employer.employees.first()
    for method, url in employer_urls(employer, person, batch):
        response = getattr(client, method)(url)
        assert response.status_code == 404, (method, url)
    assert person.__class__.objects.get(pk=person.pk).employer_id == employer.pk


def test_anonymous_users_are_sent_to_log_in(client, employer, batch):
    person = employer.employees.first()
    for method, url in employer_urls(employer, person, batch):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/accounts/login/"), url


def test_a_batch_of_another_employer_is_404_even_for_hr(hr, employer):
    other = EmployerStaffFactory()
    foreign = FilingBatch.objects.create(
        employer=other.employer, uploaded_by=other.user, status=FilingBatch.Status.REJECTED
    )
    for suffix in ("", "progress/", "errors.csv"):
        assert hr.get(f"/employer/{employer.pk}/bulk/{foreign.pk}/{suffix}").status_code == 404


def test_an_employee_of_another_employer_cannot_be_removed(hr, employer):
    other = EmployerStaffFactory()
    person = employer.employees.first()
    person.employer = other.employer
    person.save()
    response = hr.post(f"/employer/{employer.pk}/employees/{person.pk}/remove/")
    assert response.status_code == 404
    person.refresh_from_db()
    assert person.employer_id == other.employer_id
