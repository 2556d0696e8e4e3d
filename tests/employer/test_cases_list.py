"""The employer's cases: filters (state, scheme, name or reference) and pagination; documents from the
case page."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from agencies.models import Agency
from applications.cases import services
from applications.models import DocumentKind, OfficialDocument, State, TransferApplication
from tests.employer.conftest import make_employees
from tests.factories import EmployerStaffFactory, InsuredPersonFactory

pytestmark = pytest.mark.django_db


def file_for(person, employer, schemes=("pension",), submit=True, hr_user=None):
    hr_user = hr_user or get_user_model().objects.get(username="hr.hangzhou")
    agencies = {
        scheme: (
            Agency.objects.get(code=("YL" if scheme == "pension" else "YB") + "360400"),
            Agency.objects.get(code=("YL" if scheme == "pension" else "YB") + "330100"),
        )
        for scheme in schemes
    }
    cases = services.create_drafts(
        person=person, schemes_and_agencies=agencies, filed_by=hr_user, filed_for_employer=employer,
        new_employer=employer,
    )  # fmt: skip
    if submit:
        cases = [services.advance(case, "submit", hr_user) for case in cases]
    return cases


@pytest.fixture
def cases(employer):
    wang, liu, chen = (employer.employees.get(name=n) for n in ("王芳", "刘洋", "陈静"))
    return {
        "wang": file_for(wang, employer, ("pension", "medical")),
        "liu": file_for(liu, employer, ("pension",), submit=False),
        "chen": file_for(chen, employer, ("medical",)),
    }


def listed(client, employer, **params):
    response = client.get(f"/employer/{employer.pk}/cases/", params)
    assert response.status_code == 200
    return [case.reference for case in response.context["page"]]


def refs(*case_lists):
    return sorted(case.reference for cases in case_lists for case in cases)


def test_all_cases_of_the_employer_and_only_theirs(hr, employer, cases):
    other = EmployerStaffFactory()
    file_for(InsuredPersonFactory(employer=other.employer), other.employer, hr_user=other.user)
    assert sorted(listed(hr, employer)) == refs(*cases.values())


def test_filter_by_state(hr, employer, cases):
    assert sorted(listed(hr, employer, state=State.DRAFT)) == refs(cases["liu"])
    assert sorted(listed(hr, employer, state=State.SUBMITTED)) == refs(cases["wang"], cases["chen"])
    assert listed(hr, employer, state=State.COMPLETED) == []


def test_filter_by_scheme(hr, employer, cases):
    assert sorted(listed(hr, employer, scheme="medical")) == refs([cases["wang"][1]], cases["chen"])
    assert sorted(listed(hr, employer, scheme="pension")) == refs([cases["wang"][0]], cases["liu"])


def test_search_by_name_or_reference_and_combined_filters(hr, employer, cases):
    assert sorted(listed(hr, employer, q="王")) == refs(cases["wang"])
    assert listed(hr, employer, q=cases["chen"][0].reference.lower()) == [cases["chen"][0].reference]
    assert listed(hr, employer, q="王", scheme="medical", state=State.SUBMITTED) == [
        cases["wang"][1].reference
    ]
    assert listed(hr, employer, q="nobody") == []


def test_an_invalid_filter_is_an_error_not_a_crash(hr, employer, cases):
    response = hr.get(f"/employer/{employer.pk}/cases/", {"state": "nonsense"})
    assert response.status_code == 200
    assert "state" in response.context["form"].errors


def test_pagination_keeps_the_filters(hr, employer):
    for person in make_employees(employer, 30):
        file_for(person, employer, submit=False)
    first = hr.get(f"/employer/{employer.pk}/cases/", {"scheme": "pension"})
    assert len(first.context["page"]) == 25
    assert first.context["page"].paginator.count == 30
    page = first.content.decode()
    assert "?scheme=pension&amp;page=2" in page
    second = listed(hr, employer, scheme="pension", page=2)
    assert len(second) == 5
    assert not set(second) & {c.reference for c in first.context["page"]}


def test_the_list_needs_a_constant_number_of_queries(hr, employer, django_assert_max_num_queries):
    for person in make_employees(employer, 30):
        file_for(person, employer, submit=False)
    with django_assert_max_num_queries(12):
        hr.get(f"/employer/{employer.pk}/cases/")


def test_hr_downloads_the_documents_of_a_case_it_filed(hr, employer, cases):
    case = cases["chen"][0]
    document = OfficialDocument.objects.get(application=case, kind=DocumentKind.APPLICATION_FORM)
    document.file.save("test.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    document.status = OfficialDocument.Status.READY
    document.save()
    page = hr.get(f"/cases/{case.reference}/").content.decode()
    assert f"/documents/{document.pk}/download/" in page
    try:
        response = hr.get(f"/documents/{document.pk}/download/")
        assert response.status_code == 200
        # Reading the whole stream closes the file (the test client wraps it).
        assert b"".join(response.streaming_content).startswith(b"%PDF")
    finally:
        document.file.delete(save=False)


def test_hr_of_another_employer_does_not_see_the_case(client, employer, cases):
    client.force_login(EmployerStaffFactory().user)
    case = cases["chen"][0]
    assert client.get(f"/cases/{case.reference}/").status_code == 404
    assert TransferApplication.objects.filter(pk=case.pk).exists()
