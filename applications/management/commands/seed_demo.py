"""Demo people and logins (idempotent). Every login made here is for demonstration only."""

import datetime

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from stdnum.cn import uscc

from agencies.models import Agency, AgencyStaff, Region
from applications.models import DocumentType, Employer, EmployerStaff, InsuredPerson
from applications.people.identifiers import resident_id_check_char

DEMO_PASSWORD = "Demo-2026-portal"  # noqa: S105 - demo-only, listed as such in README.md


def demo_resident_id(address_code: str, birth: datetime.date, sequence: int) -> str:
    first17 = f"{address_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


def demo_uscc(first17: str) -> str:
    return first17 + uscc.calc_check_digit(first17)


# (login, name, ID number, hukou prefecture, phone)
INSURED = [
    ("360426199101010071", "张伟", "360426199101010071", "360400", "13800000001"),
    ("120103198806018241", "李娜", "120103198806018241", "120100", "13800000002"),
]
# Employees of the Hangzhou demo employer, born in various years; the last carries a rare name character.
EMPLOYEES = [
    ("王芳", datetime.date(1990, 3, 12), 22, "330100"),
    ("刘洋", datetime.date(1985, 7, 1), 31, "360400"),
    ("陈静", datetime.date(1979, 11, 30), 44, "420100"),
    ("杨帆", datetime.date(1996, 2, 29), 53, "330100"),
    ("吴喆", datetime.date(1972, 5, 8), 65, "510100"),
]
STAFF = [
    ("clerk.hangzhou", "杭州转入经办员", "YL330100", AgencyStaff.Role.CLERK),
    ("reviewer.hangzhou", "杭州转入复核员", "YL330100", AgencyStaff.Role.REVIEWER),
    ("clerk.jiujiang", "九江转出经办员", "YL360400", AgencyStaff.Role.CLERK),
    ("reviewer.jiujiang", "九江转出复核员", "YL360400", AgencyStaff.Role.REVIEWER),
    # One administrator per demo agency with staff: manages that agency's staff, works no cases.
    ("admin.hangzhou", "杭州经办机构管理员", "YL330100", AgencyStaff.Role.ADMINISTRATOR),
    ("admin.jiujiang", "九江经办机构管理员", "YL360400", AgencyStaff.Role.ADMINISTRATOR),
]
HR_LOGIN = "hr.hangzhou"
ADMIN_LOGIN = "admin"


class Command(BaseCommand):
    help = "Create the demo people and logins (demo only; safe to run twice)."

    @transaction.atomic
    def handle(self, *args, **options):
        if not Agency.objects.filter(code="YL330100").exists():
            call_command("load_reference_data", stdout=self.stdout)
        for login, name, number, hukou, phone in INSURED:
            user = self.user(login, name)
            InsuredPerson.objects.update_or_create(
                document_type=DocumentType.RESIDENT_ID,
                document_number=number,
                defaults={
                    "name": name,
                    "user": user,
                    "hukou_region_id": hukou,
                    "phone": phone,
                    "address": "演示地址",
                },
            )
        employer, _ = Employer.objects.update_or_create(
            uscc=demo_uscc("91330106DEM000001"),
            defaults={
                "name": "杭州演示科技有限公司（演示）",
                "region": Region.objects.get(code="330100"),
                "address": "杭州市西湖区演示路 8 号（演示地址）",
                "phone": "0000-0000000",
            },
        )
        for name, born, sequence, hukou in EMPLOYEES:
            InsuredPerson.objects.update_or_create(
                document_type=DocumentType.RESIDENT_ID,
                document_number=demo_resident_id("330106", born, sequence),
                defaults={"name": name, "hukou_region_id": hukou, "employer": employer},
            )
        EmployerStaff.objects.get_or_create(
            user=self.user(HR_LOGIN, "杭州演示科技人事专员"), employer=employer
        )
        for login, name, agency_code, role in STAFF:
            # A demo member deactivated while trying the portal is a member again.
            AgencyStaff.everyone.update_or_create(
                user=self.user(login, name),
                agency=Agency.objects.get(code=agency_code),
                role=role,
                defaults={"active": True, "deactivated_at": None},
            )
        admin = self.user(ADMIN_LOGIN, "演示管理员")
        admin.is_staff = admin.is_superuser = True
        admin.save(update_fields=["is_staff", "is_superuser"])
        self.stdout.write(f"demo data ready; every demo login uses the demo-only password {DEMO_PASSWORD}")

    def user(self, login, name):
        user, created = get_user_model().objects.get_or_create(username=login, defaults={"first_name": name})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user
