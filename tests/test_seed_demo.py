"""`manage.py seed_demo`: the demo people and logins, safe to run twice."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from agencies.models import Agency, AgencyStaff
from applications.management.commands.seed_demo import DEMO_PASSWORD, EMPLOYEES
from applications.models import Employer, EmployerStaff, InsuredPerson
from applications.people.identifiers import check_uscc

pytestmark = pytest.mark.django_db

User = get_user_model()
DEMO_LOGINS = [
    "360426199101010071",
    "120103198806018241",
    "hr.hangzhou",
    "clerk.hangzhou",
    "reviewer.hangzhou",
    "clerk.jiujiang",
    "reviewer.jiujiang",
    "admin.hangzhou",
    "admin.jiujiang",
    "admin",
]


def seed():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts():
    return {
        "users": User.objects.count(),
        "insured": InsuredPerson.objects.count(),
        "insured with a login": InsuredPerson.objects.exclude(user=None).count(),
        "employers": Employer.objects.count(),
        "hr": EmployerStaff.objects.count(),
        "agency staff": AgencyStaff.objects.count(),
        "agencies": Agency.objects.count(),
    }


# These first tests seed a fresh database themselves; the later ones share `demo_world` (one seed for
# the module, opened by the first test that asks for it, so they must stay below).


def test_seed_demo_twice_gives_the_same_people():
    assert User.objects.count() == 0
    assert "demo-only password" in seed()
    first = counts()
    assert first == {
        "users": 10,
        "insured": 7,
        "insured with a login": 2,
        "employers": 1,
        "hr": 1,
        "agency staff": 6,
        "agencies": 684,  # it loads the agency directory when it is missing
    }
    seed()
    assert counts() == first
    assert sorted(User.objects.values_list("username", flat=True)) == sorted(DEMO_LOGINS)


def test_a_second_run_makes_a_deactivated_demo_member_a_member_again():
    seed()
    AgencyStaff.objects.filter(user__username="clerk.hangzhou").update(active=False)
    assert not AgencyStaff.objects.filter(user__username="clerk.hangzhou").exists()
    seed()
    assert AgencyStaff.objects.filter(user__username="clerk.hangzhou").count() == 1


def test_a_second_run_does_not_reset_a_changed_password():
    assert User.objects.count() == 0
    seed()
    user = User.objects.get(username="clerk.hangzhou")
    user.set_password("Changed-password-2026")
    user.save()
    seed()
    user.refresh_from_db()
    assert user.check_password("Changed-password-2026")


def test_the_demo_employer_is_in_hangzhou_with_five_employees(demo_world):
    employer = Employer.objects.get()
    assert employer.region_id == "330100"
    check_uscc(employer.uscc)
    assert "演示" in employer.name
    employees = employer.employees.order_by("birth_date")
    assert employees.count() == 5
    assert all(person.user is None for person in employees)
    assert sorted((p.name, p.birth_date) for p in employees) == sorted((n, b) for n, b, _, _ in EMPLOYEES)
    assert EmployerStaff.objects.get().user.username == "hr.hangzhou"


def test_agency_staff_are_a_clerk_a_reviewer_and_an_administrator_in_two_provinces(demo_world):
    by_agency = {}
    for staff in AgencyStaff.objects.select_related("agency__region"):
        by_agency.setdefault(staff.agency, set()).add(staff.role)
    assert len(by_agency) == 2
    assert all(roles == {"clerk", "reviewer", "administrator"} for roles in by_agency.values())
    provinces = {agency.region.province_code for agency in by_agency}
    assert provinces == {"330000", "360000"}  # transfer-in Hangzhou, transfer-out Jiujiang
    assert {agency.scheme for agency in by_agency} == {"pension"}


def test_the_insured_demo_users_have_their_derived_details(demo_world):
    zhang = InsuredPerson.objects.get(user__username="360426199101010071")
    assert (zhang.name, zhang.sex, str(zhang.birth_date)) == ("张伟", "M", "1991-01-01")
    li = InsuredPerson.objects.get(user__username="120103198806018241")
    assert (li.name, li.sex, str(li.birth_date)) == ("李娜", "F", "1988-06-01")


def test_admin_is_a_superuser_and_nobody_else_is_staff(demo_world):
    assert list(User.objects.filter(is_superuser=True).values_list("username", flat=True)) == ["admin"]
    assert list(User.objects.filter(is_staff=True).values_list("username", flat=True)) == ["admin"]


@pytest.mark.parametrize("username", DEMO_LOGINS)
def test_the_demo_password_logs_every_demo_user_in(demo_world, client, username):
    response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username=username).pk)
