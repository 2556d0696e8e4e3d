"""Which homes a user has. A user may hold several roles: insured person, HR of one or more
employers, staff of one or more agencies."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agencies.models import AgencyStaff
from applications.models import EmployerStaff, InsuredPerson


@dataclass(frozen=True)
class Home:
    label: str
    url: str


def homes_of(user) -> list[Home]:
    homes = []
    if InsuredPerson.objects.filter(user=user).exists():
        homes.append(Home(str(_("My applications")), reverse("my_applications")))
    for staff in EmployerStaff.objects.filter(user=user).select_related("employer"):
        homes.append(
            Home(
                str(_("Employees of %(employer)s") % {"employer": staff.employer.name}),
                reverse("employer_employees", args=[staff.employer_id]),
            )
        )
    agencies, administered = {}, {}
    for staff in AgencyStaff.objects.filter(user=user).select_related("agency"):
        if staff.role == AgencyStaff.Role.ADMINISTRATOR:
            administered[staff.agency_id] = staff.agency
        else:
            agencies[staff.agency_id] = staff.agency
    for agency_id, agency in agencies.items():
        homes.append(
            Home(
                str(_("Case queue of %(agency)s") % {"agency": agency.name}),
                reverse("agency_queue", args=[agency_id]),
            )
        )
    for agency_id, agency in administered.items():
        homes.append(
            Home(
                str(_("Staff of %(agency)s") % {"agency": agency.name}),
                reverse("agency_staff", args=[agency_id]),
            )
        )
    return homes
