"""Adding one employee (the document checks of sign-up) and importing many from CSV: all rows or none."""

import csv
import datetime
import html
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from applications.models import CaseEvent, DocumentType, InsuredPerson
from tests.employer.conftest import csv_file, csv_text
from tests.factories import EmployerStaffFactory, InsuredPersonFactory, region, resident_id, with_check_char

pytestmark = pytest.mark.django_db

GOOD_ID = resident_id("330106", datetime.date(1993, 4, 5), 71)
BAD_CHECK = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")


def add_url(employer):
    return f"/employer/{employer.pk}/employees/add/"


def import_url(employer):
    return f"/employer/{employer.pk}/employees/import/"


def employee_data(**overrides):
    data = {
        "name": "赵敏",
        "document_type": DocumentType.RESIDENT_ID,
        "document_number": GOOD_ID,
        "hukou_region": "330100",
        "phone": "13900000001",
    }
    data.update(overrides)
    return data


def test_add_one_employee(hr, employer):
    response = hr.post(add_url(employer), employee_data())
    assert response.status_code == 302
    person = InsuredPerson.objects.get(document_number=GOOD_ID)
    assert (person.name, person.employer, person.hukou_region_id, person.phone) == (
        "赵敏", employer, "330100", "13900000001",
    )  # fmt: skip
    assert (person.sex, person.birth_date) == ("M", datetime.date(1993, 4, 5))
    assert not CaseEvent.objects.exists()  # not a case change
    assert "赵敏" in hr.get(response.url).content.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"document_number": BAD_CHECK}, "document_number", "The check character of this ID number is wrong"),
        ({"document_number": GOOD_ID[:17]}, "document_number", "A resident ID number has 18 characters"),
        ({"document_number": GOOD_ID[:17] + "x"}, "document_number", "must be an upper-case X"),
        (
            {"document_number": with_check_char("99010619930405007")},
            "document_number",
            "is not a known division code",
        ),
        ({"document_number": "3.30106E+17"}, "document_number", "scientific notation"),
        ({"hukou_region": ""}, "hukou_region", "Choose the place of the household registration."),
        ({"phone": "12345"}, "phone", "Enter an 11-digit mainland mobile number"),
        ({"name": "  "}, "name", "This field is required."),
        (
            {"document_type": DocumentType.HK_MACAU_PERMIT, "document_number": "X1234567"},
            "document_number",
            "H or M followed by 8 or 10 digits",
        ),
        (
            {"document_type": DocumentType.TAIWAN_PERMIT, "document_number": "12345678"},
            "birth_date",
            "This document does not say it; please enter it.",
        ),
    ],
)
def test_a_bad_employee_gets_an_error_on_its_field_and_nothing_is_saved(
    hr, employer, overrides, field, message
):
    before = InsuredPerson.objects.count()
    response = hr.post(add_url(employer), employee_data(**overrides))
    assert response.status_code == 200
    assert message in " ".join(str(e) for e in response.context["form"].errors.get(field, []))
    assert message in response.content.decode()
    assert InsuredPerson.objects.count() == before


def test_a_permit_holder_is_added_with_sex_and_birth_date(hr, employer):
    data = employee_data(
        document_type=DocumentType.TAIWAN_PERMIT, document_number="12345678", hukou_region="",
        sex="F", birth_date="1990-06-01",
    )  # fmt: skip
    assert hr.post(add_url(employer), data).status_code == 302
    person = InsuredPerson.objects.get(document_number="12345678")
    assert (person.sex, person.birth_date, person.employer) == ("F", datetime.date(1990, 6, 1), employer)


def test_a_record_nobody_holds_is_put_on_the_list_not_duplicated(hr, employer):
    # A record without an account and without an employer (a former employer removed the person).
    record = InsuredPersonFactory(
        name="赵敏", document_number=GOOD_ID, hukou_region=region("360400"), phone=""
    )
    before = InsuredPerson.objects.count()
    response = hr.post(add_url(employer), employee_data())
    assert response.status_code == 302
    assert InsuredPerson.objects.count() == before
    record.refresh_from_db()
    assert (record.employer, record.hukou_region_id, record.phone) == (employer, "330100", "13900000001")
    # The same answer as for a new employee.
    assert "赵敏 is added to your employees." in hr.get(response.url).content.decode()


def test_a_person_with_an_account_is_asked_not_linked(hr, employer):
    # 张伟 signed up himself and has no employer: he decides (tests/security/test_annexing_a_person.py).
    zhang = InsuredPerson.objects.get(document_number="360426199101010071")
    assert zhang.employer is None and zhang.user is not None
    before = InsuredPerson.objects.count()
    data = employee_data(name="张伟", document_number=zhang.document_number)
    response = hr.post(add_url(employer), data)
    assert response.status_code == 302
    assert InsuredPerson.objects.count() == before
    zhang.refresh_from_db()
    assert zhang.employer is None
    assert zhang.employer_requests.get().employer == employer
    assert "张伟 is not added directly." in hr.get(response.url).content.decode()


def test_another_name_on_record_gets_the_neutral_answer(hr, employer):
    data = employee_data(name="张三", document_number="360426199101010071")
    response = hr.post(add_url(employer), data)
    page = html.unescape(hr.get(response.url).content.decode())
    assert "张三 is not added directly." in page
    assert "does not match" not in page
    zhang = InsuredPerson.objects.get(document_number="360426199101010071")
    assert zhang.employer is None and not zhang.employer_requests.exists()


def test_an_employee_of_another_employer_is_not_taken_over(hr, employer):
    other = EmployerStaffFactory().employer
    record = InsuredPersonFactory(name="赵敏", document_number=GOOD_ID, employer=other)
    response = hr.post(add_url(employer), employee_data())
    page = html.unescape(hr.get(response.url).content.decode())
    assert "赵敏 is not added directly." in page
    assert "another employer" not in page
    record.refresh_from_db()
    assert record.employer == other


def test_an_employee_already_on_the_list(hr, employer):
    wang = employer.employees.get(name="王芳")
    response = hr.post(add_url(employer), employee_data(name="王芳", document_number=wang.document_number))
    assert "already on your list of employees" in response.content.decode()


def test_removing_an_employee_keeps_the_person(hr, employer):
    wang = employer.employees.get(name="王芳")
    response = hr.post(f"/employer/{employer.pk}/employees/{wang.pk}/remove/")
    assert response.status_code == 302
    wang.refresh_from_db()
    assert wang.employer is None
    # and the same person can be added back: linked, not duplicated
    hr.post(add_url(employer), employee_data(name="王芳", document_number=wang.document_number))
    wang.refresh_from_db()
    assert wang.employer == employer


# CSV import

HEADER = ("name", "document_type", "document_number", "hukou_region", "phone", "sex", "birth_date")


def import_rows():
    return [
        ("钱一", "", resident_id("330106", datetime.date(1990, 1, 2), 11), "330100", "13900000011", "", ""),
        ("钱二", "resident_id", resident_id("330106", datetime.date(1991, 2, 3), 12), "360400", "", "", ""),
        ("钱三", "hk_macau_permit", "H12345678", "", "", "男", "1988-08-08"),
        ("张伟", "", "360426199101010071", "360400", "", "", ""),  # has his own account: asked, not added
    ]


def test_import_saves_every_row(hr, employer):
    before = InsuredPerson.objects.count()
    upload = csv_file("\ufeff" + csv_text(HEADER, import_rows()))
    response = hr.post(import_url(employer), {"csv_file": upload})
    assert response.status_code == 302
    assert InsuredPerson.objects.count() == before + 3
    assert set(employer.employees.values_list("name", flat=True)) >= {"钱一", "钱二", "钱三"}
    assert not employer.employees.filter(name="张伟").exists()
    assert InsuredPerson.objects.get(document_number="H12345678").sex == "M"
    page = hr.get(response.url).content.decode()
    assert "Imported. Added to your employees: 3." in page
    assert "Not added directly: 1." in page


def test_import_with_one_bad_row_saves_nothing_and_names_row_and_column(hr, employer):
    rows = import_rows()
    rows.insert(2, ("孙四", "", BAD_CHECK, "330100", "", "", ""))  # the 3rd data row: row 4 of the file
    before = InsuredPerson.objects.count()
    zhang_employer = InsuredPerson.objects.get(document_number="360426199101010071").employer_id
    response = hr.post(import_url(employer), {"csv_file": csv_file(csv_text(HEADER, rows))})
    assert response.status_code == 200
    assert InsuredPerson.objects.count() == before
    assert InsuredPerson.objects.get(document_number="360426199101010071").employer_id == zhang_employer
    errors = response.context["errors"]
    assert [(e.row, e.column) for e in errors] == [(4, "document_number")]
    assert "check character" in errors[0].message
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "<td>4</td><td>document_number</td>" in page


def test_import_reports_duplicate_rows_and_every_bad_row(hr, employer):
    rows = import_rows()
    rows.append(rows[0])
    rows.append(("周五", "passport", "E123", "", "", "", ""))
    response = hr.post(import_url(employer), {"csv_file": csv_file(csv_text(HEADER, rows))})
    errors = [(e.row, e.column) for e in response.context["errors"]]
    assert (6, "document_number") in errors  # the same person as row 2
    assert (7, "document_type") in errors
    assert not employer.employees.filter(name="钱一").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "The file is empty."),
        ("name,document_number\r\n", "no data rows"),
        ("name,hukou_region\r\n钱一,330100\r\n", "These columns are missing"),
        ("名字,document_number\r\n", "Unknown columns"),
    ],
)
def test_import_file_problems(hr, employer, content, message):
    response = hr.post(import_url(employer), {"csv_file": csv_file(content or " ")})
    assert message in response.content.decode()


def test_import_reads_a_file_excel_saved_as_gbk(hr, employer):
    """Excel's plain "CSV (comma delimited)" on a Chinese Windows writes GB18030 (GBK) with CRLF."""
    text = csv_text(HEADER, import_rows())
    response = hr.post(import_url(employer), {"csv_file": csv_file(text, encoding="gb18030")})
    assert response.status_code == 302
    assert set(employer.employees.values_list("name", flat=True)) >= {"钱一", "钱二", "钱三"}


def test_import_refuses_a_file_in_no_known_encoding(hr, employer):
    data = csv_text(HEADER, import_rows()).encode("utf-8") + b"\xff\xff,\x80\r\n"
    upload = SimpleUploadedFile("employees.csv", data, content_type="text/csv")
    response = hr.post(import_url(employer), {"csv_file": upload})
    assert "The file is not text in UTF-8 or GB18030 (GBK)." in response.content.decode()
    assert not employer.employees.filter(name="钱一").exists()


def report_url(employer):
    return f"/employer/{employer.pk}/employees/import/errors.csv"


def report_of(client, employer):
    response = client.get(report_url(employer))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def test_a_rejected_import_has_the_per_row_report_of_bulk_filing(hr, employer):
    rows = import_rows()
    rows.insert(2, ("孙四", "", BAD_CHECK, "330100", "", "", ""))  # row 4 of the file
    response = hr.post(import_url(employer), {"csv_file": csv_file(csv_text(HEADER, rows))})
    assert report_url(employer) in response.content.decode()
    report = report_of(hr, employer)
    assert report[0] == ["Row", "Column", "Status", "Problem"]
    ((row, column, status, problem),) = report[1:]
    assert (row, column, status) == ("4", "document_number", "error")
    assert "check character" in problem

    # A correct file imported afterwards leaves no report behind.
    assert (
        hr.post(import_url(employer), {"csv_file": csv_file(csv_text(HEADER, import_rows()))}).status_code
        == 302
    )
    assert report_of(hr, employer) == [["Row", "Column", "Status", "Problem"]]


def test_a_hostile_header_cell_cannot_run_from_the_report(hr, employer):
    header = (*HEADER, '=HYPERLINK("http://evil.example")')
    text = csv_text(header, [(*row, "") for row in import_rows()])
    hr.post(import_url(employer), {"csv_file": csv_file(text)})
    (line,) = report_of(hr, employer)[1:]
    assert line[:3] == ["1", '\'=hyperlink("http://evil.example")', "error"]
    assert not employer.employees.filter(name="钱一").exists()


def test_the_report_is_the_users_own(hr, employer, client):
    rows = [("孙四", "", BAD_CHECK, "330100", "", "", "")]
    hr.post(import_url(employer), {"csv_file": csv_file(csv_text(HEADER, rows))})
    other = EmployerStaffFactory(employer=employer).user  # HR of the same employer, own session
    client.force_login(other)
    client.cookies["django_language"] = "en"
    assert report_of(client, employer) == [["Row", "Column", "Status", "Problem"]]


def test_an_excel_workbook_is_refused_in_chinese_by_default(hr, employer):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as workbook:
        workbook.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    hr.cookies.pop("django_language")
    upload = SimpleUploadedFile("employees.xlsx", out.getvalue(), content_type="application/vnd.ms-excel")
    response = hr.post(import_url(employer), {"csv_file": upload})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert (
        "这是Excel工作簿，不是CSV文件。请在Excel中选择“另存为”，文件类型选“CSV UTF-8（逗号分隔）”。" in page
    )
    assert 'name="csv_file"' in page
