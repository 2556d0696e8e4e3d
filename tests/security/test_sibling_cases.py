"""The other scheme's case of the same filing (pension and medical filed at once share a filing
reference): its reference is shown only to whom is a party to it too. Since 2018 pension and medical are
run by different bodies, so the pension agency's staff are not party to the medical case."""

import pytest
from django.test import Client
from django.urls import reverse

from agencies.models import AgencyStaff
from tests.security import filed_world as filed
from tests.security.conftest import tally
from tests.world import login

pytestmark = pytest.mark.django_db
filed_world_module, filed_world = filed.filed_world_module, filed.filed_world


def case_page(user, case):
    client = Client()
    login(client, user)
    response = client.get(reverse("case_detail", args=[case.reference]))
    assert response.status_code == 200
    return response.content.decode()


def test_staff_of_one_scheme_do_not_see_the_other_schemes_case(filed_world):
    world, pension, medical = filed_world.world, filed_world.pension, filed_world.medical
    assert pension.filing_reference == medical.filing_reference
    pension_staff = (world.in_clerk, world.in_reviewer, world.out_clerk, world.out_reviewer)
    medical_staff = (world.yb_in_clerk, world.yb_out_clerk, world.yb_out_reviewer)
    for user in pension_staff:
        assert medical.reference not in case_page(user, pension), user.username
    for user in medical_staff:
        assert pension.reference not in case_page(user, medical), user.username
    tally(
        "case pages checked for a sibling case that is not the viewer's",
        len(pension_staff) + len(medical_staff),
    )


def test_parties_of_both_cases_see_the_sibling(filed_world):
    world, pension, medical = filed_world.world, filed_world.pension, filed_world.medical
    assert medical.reference in case_page(world.applicant, pension)
    assert pension.reference in case_page(world.applicant, medical)
    # A clerk who works for both agencies of the place is a party to both cases.
    AgencyStaff.objects.create(user=world.in_clerk, agency=world.yb_in, role=AgencyStaff.Role.CLERK)
    assert medical.reference in case_page(world.in_clerk, pension)
    tally("case pages checked for a sibling case that is not the viewer's", 3)
