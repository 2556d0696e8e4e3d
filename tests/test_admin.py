"""The Django admin: every model has a list, search by code, name and ID number, ID numbers masked."""

import datetime

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model

from applications.models import InsuredPerson
from tests.factories import EmployerStaffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_world")]

# The foundation's models: after seed_demo each of them has rows to list.
FOUNDATION_MODELS = [
    "agencies.Region",
    "agencies.Agency",
    "agencies.AgencyStaff",
    "applications.InsuredPerson",
    "applications.Employer",
    "applications.EmployerStaff",
    "auth.User",
]


@pytest.fixture
def admin_user_client(client):
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


def changelist_url(model):
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/"


def search(client, model, query):
    response = client.get(changelist_url(model), {"q": query})
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.mark.parametrize("label", FOUNDATION_MODELS)
def test_foundation_models_are_listed_in_the_admin(admin_user_client, label):
    model = apps.get_model(label)
    assert admin.site.is_registered(model)
    response = admin_user_client.get(changelist_url(model))
    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count() > 0


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_registered_changelist_loads_for_a_superuser(admin_user_client, model):
    assert admin_user_client.get(changelist_url(model)).status_code == 200


def test_changelists_are_closed_to_non_staff(client):
    client.force_login(get_user_model().objects.get(username="clerk.hangzhou"))
    response = client.get(changelist_url(InsuredPerson))
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


@pytest.mark.parametrize(
    ("label", "query", "expected"),
    [
        ("agencies.Region", "330103", "下城区"),
        ("agencies.Region", "下城区", "下城区"),
        ("agencies.Agency", "YL330100", "杭州市社会保险事业管理中心（演示）"),
        ("agencies.Agency", "九江市医疗保障", "九江市医疗保障事业管理中心（演示）"),
        ("agencies.AgencyStaff", "YL360400", "clerk.jiujiang"),
        ("agencies.AgencyStaff", "杭州转入复核员", "reviewer.hangzhou"),
        ("applications.Employer", "杭州演示科技", "杭州演示科技有限公司（演示）"),
        ("applications.EmployerStaff", "hr.hangzhou", "hr.hangzhou"),
        ("applications.InsuredPerson", "360426199101010071", "张伟"),
        ("applications.InsuredPerson", "李娜", "李娜"),
        # Found by the full number, named by the masked one (applications/people/masked_names.py).
        ("auth.User", "360426199101010071", "360" + "*" * 11 + "0071"),
    ],
)
def test_search_by_code_name_and_id_number(admin_user_client, label, query, expected):
    EmployerStaffFactory()  # a second employer and HR, so that a search has something to leave out
    model = apps.get_model(label)
    results = search(admin_user_client, model, query)
    assert any(expected in str(result) for result in results), f"{expected} not found by {query!r}"
    assert len(results) < model.objects.count()  # the search filtered the list


def test_employer_search_by_credit_code(admin_user_client):
    from applications.models import Employer

    employer = Employer.objects.get()
    assert search(admin_user_client, Employer, employer.uscc) == [employer]


def test_a_partial_id_number_finds_nobody(admin_user_client):
    # Exact match only: typing the first digits must not list everybody born in a place.
    assert search(admin_user_client, InsuredPerson, "330106") == []


def test_insured_person_list_masks_id_numbers(admin_user_client):
    response = admin_user_client.get(changelist_url(InsuredPerson))
    page = response.content.decode()
    people = list(InsuredPerson.objects.all())
    assert len(people) == 7
    for person in people:
        assert person.masked_document_number in page
        assert person.document_number not in page


def test_user_list_masks_id_numbers_used_as_user_names(admin_user_client):
    response = admin_user_client.get(changelist_url(get_user_model()))
    page = response.content.decode()
    assert "clerk.hangzhou" in page  # ordinary user names stay readable
    for person in InsuredPerson.objects.exclude(user=None):
        assert person.masked_document_number in page
        assert person.document_number not in page


def test_the_change_page_shows_the_full_number(admin_user_client):
    person = InsuredPerson.objects.get(document_number="360426199101010071")
    response = admin_user_client.get(f"{changelist_url(InsuredPerson)}{person.pk}/change/")
    assert response.status_code == 200
    assert "360426199101010071" in response.content.decode()


# --- adding an insured person: sex and birth date follow from a resident ID ----------------------------


def test_the_add_form_derives_sex_and_birth_date_from_a_resident_id(admin_user_client):
    from tests.factories import resident_id

    number = resident_id("330106", datetime.date(1993, 4, 5), 12)  # even: a woman
    response = admin_user_client.post(
        "/admin/applications/insuredperson/add/",
        {
            "name": "周敏",
            "document_type": "resident_id",
            "document_number": number,
            "sex": "",
            "birth_date": "",
            "hukou_region": "330100",
            "phone": "",
            "address": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = InsuredPerson.objects.get(document_number=number)
    assert (person.sex, str(person.birth_date)) == ("F", "1993-04-05")


def test_the_add_form_asks_for_sex_and_birth_date_of_other_documents(admin_user_client):
    response = admin_user_client.post(
        "/admin/applications/insuredperson/add/",
        {
            "name": "陈先生",
            "document_type": "hk_macau_permit",
            "document_number": "H87654321",
            "sex": "",
            "birth_date": "",
        },
    )
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) >= {"sex", "birth_date"}
    assert not InsuredPerson.objects.filter(document_number="H87654321").exists()


def test_full_clean_accepts_a_valid_resident_id_without_sex_and_birth_date():
    from tests.factories import resident_id

    person = InsuredPerson(
        name="孙丽",
        document_type="resident_id",
        document_number=resident_id("330106", datetime.date(1988, 8, 8), 31),
    )
    person.full_clean()
    assert person.sex == "M" and str(person.birth_date) == "1988-08-08"
