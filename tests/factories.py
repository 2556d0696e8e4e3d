"""Factories for ad-hoc people, agencies and staff. Resident IDs and credit codes are generated with correct
check characters over real division codes, so every object passes the same checks as user input.

Traits say what kind of object a test needs instead of building it by hand:
- `InsuredPersonFactory(with_login=True)`: a person who signed up (the user name is the ID number);
- `AgencyFactory(demo=True, scheme=..., region=...)`: the demo directory's agency of a prefecture, with the
  values `agencies.reference.load_demo_agencies` gives it (found, not duplicated, when already loaded);
- `AgencyStaffFactory(reviewer=True)`: a reviewer instead of a clerk.
Users and staff roles are looked up before they are created, so that a named user ("clerk.beijing") or
role can be asked for again.
"""

import datetime

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from agencies.models import Agency, AgencyStaff, Region, Scheme
from agencies.reference import DEMO_SCHEMES, demo_connected, place_name
from applications.models import DocumentType, Employer, EmployerStaff, InsuredPerson
from applications.people.identifiers import USCC_ALPHABET, resident_id_check_char

PASSWORD = "Portal-test-2026"


def with_check_char(first17: str) -> str:
    """Complete 17 digits with the right check character (so only what else is wrong can fail)."""
    return first17 + resident_id_check_char(first17)


def resident_id(address_code: str, birth: datetime.date, sequence: int) -> str:
    """A resident ID with the right check character; an odd sequence is a man, an even one a woman."""
    return with_check_char(f"{address_code}{birth:%Y%m%d}{sequence:03d}")


# GB 32100-2015's weights, written out here so that the tests' codes do not come from the code under test.
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(
        USCC_ALPHABET.index(char) * weight for char, weight in zip(first17, USCC_WEIGHTS, strict=True)
    )
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def region(code: str) -> Region:
    return Region.objects.get(code=code)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"测试用户{n}")
    password = factory.django.Password(PASSWORD)


class InsuredPersonFactory(DjangoModelFactory):
    """A resident ID holder registered in Hangzhou; sex and birth date follow from the number."""

    class Meta:
        model = InsuredPerson

    class Params:
        with_login = factory.Trait(
            user=factory.SubFactory(
                UserFactory,
                username=factory.SelfAttribute("..document_number"),
                first_name=factory.SelfAttribute("..name"),
            )
        )

    name = factory.Sequence(lambda n: f"参保人{n}")
    document_type = DocumentType.RESIDENT_ID
    # Born 1980 to 1999 (working age, under every age limit of the transfer rules for men); the pair of
    # birth date and sequence number is different for each of the first 7,000 people.
    document_number = factory.Sequence(
        lambda n: resident_id(
            "330106", datetime.date(1980, 1, 1) + datetime.timedelta(days=n % 7000), n % 1000
        )
    )
    hukou_region = factory.LazyFunction(lambda: region("330100"))
    phone = "13800138000"


class EmployerFactory(DjangoModelFactory):
    class Meta:
        model = Employer

    name = factory.Sequence(lambda n: f"测试单位{n}有限公司")
    uscc = factory.Sequence(lambda n: uscc(f"91330106MA{n:07d}"))
    region = factory.LazyFunction(lambda: region("330100"))


class EmployerStaffFactory(DjangoModelFactory):
    class Meta:
        model = EmployerStaff
        django_get_or_create = ("user", "employer")

    user = factory.SubFactory(UserFactory)
    employer = factory.SubFactory(EmployerFactory)


def _demo_place(agency):
    return place_name(agency.region)


def _demo_name(agency):
    return f"{_demo_place(agency)}{DEMO_SCHEMES[agency.scheme][1]}（演示）"


class AgencyFactory(DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    class Params:
        demo = factory.Trait(
            code=factory.LazyAttribute(lambda a: f"{DEMO_SCHEMES[a.scheme][0]}{a.region.code}"),
            name=factory.LazyAttribute(_demo_name),
            address=factory.LazyAttribute(lambda a: f"{_demo_place(a)}演示路 1 号（演示地址）"),
            phone="0000-12333（演示）",
            online_connected=factory.LazyAttribute(lambda a: demo_connected(a.region.code)),
            fund_account_name=factory.LazyAttribute(lambda a: f"{_demo_name(a)}基金收入户"),
            fund_bank="演示银行（非真实账户）",
            fund_account_number=factory.LazyAttribute(lambda a: f"DEMO-{a.code}"),
        )

    code = factory.Sequence(lambda n: f"TEST{n:04d}")
    name = factory.Sequence(lambda n: f"测试经办机构{n}（演示）")
    scheme = Scheme.PENSION
    region = factory.LazyFunction(lambda: region("330100"))
    address = "测试地址"
    postcode = "000000"
    phone = "0000-12333"
    fund_account_name = "测试基金户"
    fund_bank = "演示银行"
    fund_account_number = factory.Sequence(lambda n: f"DEMO-TEST{n:04d}")


class AgencyStaffFactory(DjangoModelFactory):
    class Meta:
        model = AgencyStaff
        django_get_or_create = ("user", "agency", "role")

    class Params:
        reviewer = factory.Trait(role=AgencyStaff.Role.REVIEWER)

    user = factory.SubFactory(UserFactory)
    agency = factory.SubFactory(AgencyFactory)
    role = AgencyStaff.Role.CLERK
