"""Bulk filing from CSV: every row validated first, a per-row report (on the page and as CSV), nothing
filed unless the whole file is valid, and a valid file filed in one transaction."""

import csv
import html
import io
import time
import zipfile
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from agencies.models import Agency
from applications.cases import services
from applications.models import (
    CaseEvent,
    DocumentKind,
    FilingBatch,
    OfficialDocument,
    State,
    TransferApplication,
)
from tests.employer.conftest import csv_file, csv_text, make_employees
from tests.factories import EmployerStaffFactory, InsuredPersonFactory
from tests.world import take

pytestmark = pytest.mark.django_db

HEADER = ("document_number", "scheme", "transfer_out_region", "transfer_in_region", "old_person_number")


def bulk_url(employer):
    return f"/employer/{employer.pk}/bulk/"


def number_of(employer, name):
    return employer.employees.get(name=name).document_number


def good_rows(employer):
    """Six applications from five rows (陈静 files both schemes)."""
    return [
        (number_of(employer, "王芳"), "pension", "360400", "330100", "JJ0001"),
        (number_of(employer, "刘洋"), "medical", "360400", "330100", ""),
        (number_of(employer, "陈静"), "both", "420100", "330100", ""),
        (number_of(employer, "杨帆"), "pension", "110100", "330100", ""),
        (number_of(employer, "吴喆"), "养老", "510100", "330100", ""),
    ]


def post_file(client, employer, text, name="transfers.csv", confirm=True):
    data = {"csv_file": csv_file(text, name=name)}
    if confirm:
        data["confirm"] = "on"
    return client.post(bulk_url(employer), data)


def filed(employer):
    return TransferApplication.objects.filter(filed_for_employer=employer)


def report_rows(client, employer, batch):
    response = client.get(f"/employer/{employer.pk}/bulk/{batch.pk}/errors.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_one_bad_row_files_nothing_and_the_report_lists_row_column_and_problem(hr, employer):
    rows = good_rows(employer)
    rows[2] = (rows[2][0], "both", "420106", "330100", "")  # a district code, in row 4 of the file
    response = post_file(hr, employer, csv_text(HEADER, rows))
    assert response.status_code == 200
    assert not filed(employer).exists()
    assert not CaseEvent.objects.exists()
    batch = FilingBatch.objects.get(employer=employer)
    assert batch.status == FilingBatch.Status.REJECTED
    assert not batch.cases.exists()

    page = response.content.decode()
    assert "Nothing was filed." in page
    assert "<td>4</td><td>transfer_out_region</td>" in page
    assert "use 420100" in page

    report = report_rows(hr, employer, batch)
    assert report[0] == ["Row", "Column", "Status", "Problem"]
    assert len(report) == 2
    row, column, status, problem = report[1]
    assert (row, column, status) == ("4", "transfer_out_region", "error")
    assert "420106 is a district or county" in problem and "use 420100" in problem


def test_after_fixing_the_whole_file_is_filed_in_one_go(
    hr, employer, tasks, django_capture_on_commit_callbacks
):
    rows = good_rows(employer)
    bad = list(rows)
    bad[2] = (rows[2][0], "both", "420106", "330100", "")
    post_file(hr, employer, csv_text(HEADER, bad))
    assert not filed(employer).exists()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_file(hr, employer, "\ufeff" + csv_text(HEADER, rows))
    assert response.status_code == 302
    cases = filed(employer)
    assert cases.count() == 6
    assert set(cases.values_list("state", flat=True)) == {State.SUBMITTED}
    assert all(case.submitted_at and case.due_date for case in cases)
    assert CaseEvent.objects.filter(application__in=cases, action="created").count() == 6
    assert (
        CaseEvent.objects.filter(application__in=cases, action="submit", to_state=State.SUBMITTED).count()
        == 6
    )
    assert CaseEvent.objects.count() == 12
    hr_user = get_user_model().objects.get(username="hr.hangzhou")
    assert set(cases.values_list("filed_by", "new_employer", flat=False)) == {(hr_user.pk, employer.pk)}
    assert cases.get(person__name="王芳").old_person_number == "JJ0001"
    chen = cases.filter(person__name="陈静")
    assert sorted(chen.values_list("scheme", flat=True)) == ["medical", "pension"]
    assert chen.values("filing_reference").distinct().count() == 1

    batch = FilingBatch.objects.get(employer=employer, status=FilingBatch.Status.FILED)
    assert set(batch.cases.values_list("pk", flat=True)) == set(cases.values_list("pk", flat=True))
    assert batch.row_count == 5 and batch.file_name == "transfers.csv" and batch.uploaded_by == hr_user
    assert response.url == f"/employer/{employer.pk}/bulk/{batch.pk}/"
    assert "6 applications were filed and submitted." in hr.get(response.url).content.decode()

    # The application forms are queued after commit, one per application.
    forms = OfficialDocument.objects.filter(application__in=cases, kind=DocumentKind.APPLICATION_FORM)
    assert forms.count() == 6
    assert sorted(call.args[0] for call in tasks.render.call_args_list) == sorted(
        forms.values_list("pk", flat=True)
    )
    assert len(callbacks) >= 6


def test_the_batch_page_shows_progress_until_every_form_is_ready(hr, employer):
    post_file(hr, employer, csv_text(HEADER, good_rows(employer)))
    batch = FilingBatch.objects.get(status=FilingBatch.Status.FILED)
    progress_url = f"/employer/{employer.pk}/bulk/{batch.pk}/progress/"
    page = hr.get(f"/employer/{employer.pk}/bulk/{batch.pk}/").content.decode()
    assert "0 of 6 application forms ready." in page
    assert f'hx-get="{progress_url}?page=1" hx-trigger="every 2s"' in page
    assert "/static/vendor/htmx/htmx.min.js" in page
    for case in batch.cases.all():
        assert case.reference in page

    forms = OfficialDocument.objects.filter(application__in=batch.cases.all())
    forms.filter(pk__in=list(forms.values_list("pk", flat=True)[:4])).update(
        status=OfficialDocument.Status.READY
    )
    response = hr.get(progress_url)
    assert response.status_code == 200  # keep polling
    panel = response.content.decode()
    assert '<span id="batch-count" hx-swap-oob="innerHTML">4 of 6 application forms ready.' in panel
    assert 'value="4" max="6"' in panel
    assert panel.count("Download PDF") == 4

    forms.update(status=OfficialDocument.Status.READY)
    response = hr.get(progress_url)
    assert response.status_code == 286  # htmx stops polling
    panel = response.content.decode()
    assert "6 of 6 application forms ready." in panel
    assert "All application forms are ready." in panel
    assert panel.count("Download PDF") == 6
    page = hr.get(f"/employer/{employer.pk}/bulk/{batch.pk}/").content.decode()
    assert "every 2s" not in page  # a finished batch is not polled at all (the session timer is not polling)


def test_a_failed_form_stops_the_polling_and_says_so(hr, employer):
    post_file(hr, employer, csv_text(HEADER, good_rows(employer)[:2]))
    batch = FilingBatch.objects.get(status=FilingBatch.Status.FILED)
    forms = OfficialDocument.objects.filter(application__in=batch.cases.all()).order_by("pk")
    forms.filter(pk=forms[0].pk).update(status=OfficialDocument.Status.FAILED)
    forms.filter(pk=forms[1].pk).update(status=OfficialDocument.Status.READY)
    response = hr.get(f"/employer/{employer.pk}/bulk/{batch.pk}/progress/")
    assert response.status_code == 286
    panel = response.content.decode()
    assert "1 of 2 application forms ready." in panel
    assert "1 form could not be produced" in panel


def test_a_failure_in_the_middle_of_filing_rolls_back_every_case(hr, employer):
    real_advance = services.advance
    calls = []

    def advance_failing_on_the_third(case, action, user, **kwargs):
        calls.append(case.pk)
        if len(calls) == 3:
            raise services.ActionRefused("the agency directory is being updated")
        return real_advance(case, action, user, **kwargs)

    rows = [row for row in good_rows(employer) if row[1] != "both"]  # one application per row
    with mock.patch("applications.cases.services.advance", side_effect=advance_failing_on_the_third):
        response = post_file(hr, employer, csv_text(HEADER, rows))
    assert len(calls) == 3
    assert response.status_code == 200
    assert not TransferApplication.objects.exists()
    assert not CaseEvent.objects.exists()
    assert not OfficialDocument.objects.exists()
    assert not FilingBatch.objects.filter(status=FilingBatch.Status.FILED).exists()
    page = response.content.decode()
    assert "Nothing was filed." in page
    assert "<td>4</td>" in page  # the third data row is row 4 of the file
    assert "the agency directory is being updated" in page
    rejected = FilingBatch.objects.get(status=FilingBatch.Status.REJECTED)
    assert rejected.errors == [{"row": 4, "column": "", "message": "the agency directory is being updated"}]


def test_an_unexpected_error_also_rolls_back_and_names_the_row(hr, employer):
    real_advance = services.advance
    calls = []

    def advance(case, action, user, **kwargs):
        calls.append(case.pk)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return real_advance(case, action, user, **kwargs)

    with mock.patch("applications.cases.services.advance", side_effect=advance):
        response = post_file(hr, employer, csv_text(HEADER, good_rows(employer)))
    assert not TransferApplication.objects.exists()
    assert "An unexpected error stopped the filing at this row." in response.content.decode()
    assert FilingBatch.objects.get().errors[0]["row"] == 3


def error_cells(response):
    batch = response.context["rejected"]
    return [(e["row"], e["column"], e["message"]) for e in batch.errors]


def test_every_rule_is_checked_on_every_row(hr, employer):
    stranger = InsuredPersonFactory()  # not an employee
    other_hr = EmployerStaffFactory()
    other_employee = InsuredPersonFactory(employer=other_hr.employer)
    wang, liu = number_of(employer, "王芳"), number_of(employer, "刘洋")
    rows = [
        (wang, "pension", "360400", "330100", ""),  # row 2: fine
        (stranger.document_number, "pension", "360400", "330100", ""),  # 3: not an employee
        (other_employee.document_number, "pension", "360400", "330100", ""),  # 4: another employer's
        (liu, "pension", "330100", "330100", ""),  # 5: same place
        (wang, "both", "360400", "330100", ""),  # 6: repeats row 2's pension
        (liu, "car", "360400", "330100", ""),  # 7: unknown scheme
        (liu, "medical", "999900", "33010", ""),  # 8: unknown code, not 6 digits
        (
            number_of(employer, "杨帆"),
            "medical",
            "",
            "330100",
            "x" * 31,
        ),  # 9: missing region, old number too long
        ("3.30106E+17", "medical", "360400", "330100", ""),  # 10: spreadsheet ate the digits
        ("", "", "", "", ""),  # blank: skipped
        (number_of(employer, "陈静"), "medical", "360400", "330100", ""),  # 12: fine
    ]
    response = post_file(hr, employer, csv_text(HEADER, rows))
    cells = error_cells(response)
    by_row = {}
    for row, column, message in cells:
        by_row.setdefault(row, []).append((column, message))
    assert set(by_row) == {3, 4, 5, 6, 7, 8, 9, 10}
    assert by_row[3] == [
        ("document_number", "None of your employees has this document number; add the employee first.")
    ]
    assert by_row[4] == by_row[3]  # another employer's employee is not told apart from a stranger
    assert by_row[5] == [("transfer_in_region", "The new place must differ from the old place.")]
    assert by_row[6] == [("document_number", "Row 2 already files Basic pension insurance for this person.")]
    assert by_row[7] == [("scheme", "Enter pension, medical or both.")]
    assert ("transfer_out_region", "999900 is not a known division code.") in by_row[8]
    assert any(column == "transfer_in_region" and "6-digit" in message for column, message in by_row[8])
    assert {column for column, _message in by_row[9]} == {"transfer_out_region", "old_person_number"}
    assert by_row[10][0][0] == "document_number" and "scientific notation" in by_row[10][0][1]
    assert not TransferApplication.objects.exists()


def test_a_person_with_an_open_application_cannot_be_filed_again(hr, employer):
    rows = good_rows(employer)[:1]
    post_file(hr, employer, csv_text(HEADER, rows))
    case = filed(employer).get()
    response = post_file(hr, employer, csv_text(HEADER, rows))
    assert error_cells(response) == [
        (
            2,
            "scheme",
            f"This person already has an open Basic pension insurance application: {case.reference} "
            f"(Submitted, awaiting the transfer-in agency).",
        )
    ]
    assert filed(employer).count() == 1
    # a closed case does not block a new one: HR withdraws it
    assert take(case, "withdraw").state == State.WITHDRAWN
    assert post_file(hr, employer, csv_text(HEADER, rows)).status_code == 302
    assert filed(employer).count() == 2


def test_an_open_application_filed_by_the_person_is_not_shown_to_hr(hr, employer):
    wang = employer.employees.get(name="王芳")
    services.create_drafts(
        person=wang,
        schemes_and_agencies={
            "pension": (Agency.objects.get(code="YL360400"), Agency.objects.get(code="YL330100"))
        },
        filed_by=get_user_model().objects.get(username="360426199101010071"),
    )
    response = post_file(hr, employer, csv_text(HEADER, good_rows(employer)[:1]))
    ((row, column, message),) = error_cells(response)
    assert (row, column) == (2, "scheme")
    assert "filed by themselves or another employer" in message
    assert "YL" not in message


def test_the_name_column_is_checked_when_given(hr, employer):
    header = (*HEADER, "name")
    rows = [(*good_rows(employer)[0], "王芳"), (*good_rows(employer)[1], "刘样")]
    response = post_file(hr, employer, csv_text(header, rows))
    assert error_cells(response) == [
        (3, "name", "The name does not match the employee with this document number.")
    ]


@pytest.mark.parametrize(
    ("content", "row", "column", "message"),
    [
        (" ", None, "", "The file is empty."),
        ("\ufeff" + ",".join(HEADER) + "\r\n", None, "", "The file has a header row but no data rows."),
        (
            "document_number,scheme,transfer_out_region\r\n1,pension,360400\r\n",
            1,
            "transfer_in_region",
            "These columns are missing",
        ),
        (",".join((*HEADER, "remark")) + "\r\n", 1, "remark", "Unknown columns"),
        (
            "DOCUMENT_NUMBER, Scheme ,transfer_out_region,transfer_in_region,scheme\r\n",
            1,
            "scheme",
            "more than once",
        ),
    ],
)
def test_file_problems_are_reported_clearly(hr, employer, content, row, column, message):
    response = post_file(hr, employer, content)
    ((got_row, got_column, got_message),) = error_cells(response)
    assert (got_row, got_column) == (row, column)
    assert message in got_message
    assert message in response.content.decode()


def test_a_file_excel_saved_as_gbk_is_read(hr, employer):
    """Excel's plain "CSV (comma delimited)" on a Chinese Windows: GBK, CRLF, and Chinese in the cells."""
    text = csv_text(HEADER, good_rows(employer)[:4]) + "王芳,pension,360400,330100,旧编号\r\n"
    response = hr.post(bulk_url(employer), {"csv_file": csv_file(text, encoding="gbk"), "confirm": "on"})
    # Read as it was written: the Chinese "document number" of row 6 is what is wrong, nothing else.
    assert error_cells(response) == [
        (6, "document_number", "None of your employees has this document number; add the employee first.")
    ]
    assert not TransferApplication.objects.exists()


def test_a_file_in_no_known_encoding_is_refused_at_its_line(hr, employer):
    data = csv_text(HEADER, good_rows(employer)[:4]).encode("utf-8") + b"\xff\xfe,pension\r\n"
    upload = SimpleUploadedFile("transfers.csv", data, content_type="text/csv")
    response = hr.post(bulk_url(employer), {"csv_file": upload, "confirm": "on"})
    ((row, _column, message),) = error_cells(response)
    assert row == 6  # the first line with a byte that is neither UTF-8 nor GB18030
    assert message.startswith("The file is not text in UTF-8 or GB18030 (GBK).")
    assert not TransferApplication.objects.exists()


def test_a_file_over_2_mb_is_refused(hr, employer):
    text = csv_text(HEADER, good_rows(employer)) + "#" * (2 * 1024 * 1024)
    response = post_file(hr, employer, text)
    assert error_cells(response) == [(None, "", "The file is larger than 2 MB.")]


def test_more_than_1000_rows_are_refused(hr, employer):
    row = good_rows(employer)[0]
    response = post_file(hr, employer, csv_text(HEADER, [row] * 1001))
    assert error_cells(response) == [
        (None, "", "The file has 1001 rows; at most 1000 rows can be sent in one file.")
    ]


def test_the_declaration_must_be_confirmed(hr, employer):
    response = post_file(hr, employer, csv_text(HEADER, good_rows(employer)), confirm=False)
    assert "Confirm this before filing." in response.content.decode()
    assert not FilingBatch.objects.exists()


def test_the_template_has_the_header(hr, employer):
    response = hr.get(f"/employer/{employer.pk}/bulk/template.csv")
    assert response.content.decode("utf-8").lstrip("\ufeff").split("\r\n")[0] == (
        "document_number,scheme,transfer_out_region,transfer_in_region,old_person_number,name"
    )


def test_report_cells_cannot_run_as_formulas(hr, employer):
    hr_user = get_user_model().objects.get(username="hr.hangzhou")
    batch = FilingBatch.objects.create(
        employer=employer, uploaded_by=hr_user, status=FilingBatch.Status.REJECTED,
        errors=[{"row": 2, "column": "=cmd", "message": "@SUM(A1)"}],
    )  # fmt: skip
    assert report_rows(hr, employer, batch)[1] == ["2", "'=cmd", "error", "'@SUM(A1)"]


def test_a_1000_row_file_is_accepted(hr, employer, tasks, django_capture_on_commit_callbacks):
    people = make_employees(employer, 1000)
    rows = [(p.document_number, "pension", "360400", "330100", "") for p in people]
    started = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(hr, employer, csv_text(HEADER, rows))
    elapsed = time.perf_counter() - started
    assert response.status_code == 302, error_cells(response)[:5]
    assert filed(employer).filter(state=State.SUBMITTED).count() == 1000
    assert CaseEvent.objects.count() == 2000
    assert tasks.render.call_count == 1000
    print(f"\n1000 rows filed in {elapsed:.1f} s")


def test_a_colliding_case_reference_is_drawn_again_not_a_failed_file(hr, employer):
    from applications.models import cases as case_models

    post_file(hr, employer, csv_text(HEADER, good_rows(employer)[:1]))
    taken = filed(employer).get().reference
    real = case_models.new_reference
    calls = []

    def first_one_taken(prefix):
        calls.append(prefix)
        return taken if len(calls) == 1 else real(prefix)

    with mock.patch("applications.models.cases.new_reference", side_effect=first_one_taken):
        response = post_file(hr, employer, csv_text(HEADER, good_rows(employer)[1:3]))
    assert response.status_code == 302
    assert filed(employer).count() == 4
    assert filed(employer).values("reference").distinct().count() == 4


# Files as Excel saves them in China, and files a careless HR officer or an attacker sends.

TOO_LONG = "A value in this row is far too long, or a quotation mark is not closed."


def post_bytes(client, employer, data, name="transfers.csv"):
    upload = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(bulk_url(employer), {"csv_file": upload, "confirm": "on"})


def test_a_file_excel_saved_as_gb18030_with_chinese_words_and_names_is_filed(hr, employer):
    header = (*HEADER, "name")
    rows = [
        (number_of(employer, "王芳"), "养老", "360400", "330100", "旧编号001", "王芳"),
        (number_of(employer, "刘洋"), "医保", "360400", "330100", "", "刘洋"),
        (number_of(employer, "陈静"), "全部", "420100", "330100", "", "陈静"),
    ]
    data = csv_text(header, rows).encode("gb18030")
    assert b"\r\n" in data
    response = post_bytes(hr, employer, data)
    assert response.status_code == 302
    assert filed(employer).count() == 4
    assert filed(employer).get(person__name="王芳").old_person_number == "旧编号001"


def test_a_unicode_text_file_from_excel_is_filed(hr, employer):
    """Excel's "Unicode text (*.txt)": UTF-16 with a byte order mark, tab-separated."""
    text = "\r\n".join("\t".join(row) for row in [HEADER, *good_rows(employer)[:2]]) + "\r\n"
    response = post_bytes(hr, employer, b"\xff\xfe" + text.encode("utf-16-le"), name="transfers.txt")
    assert response.status_code == 302
    assert filed(employer).count() == 2


def xlsx_bytes():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as workbook:
        workbook.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "english", "chinese"),
    [
        (xlsx_bytes(), "This is an Excel workbook, not a CSV file.", "这是Excel工作簿，不是CSV文件。"),
        (bytes(range(256)) * 4, "This is not a CSV text file.", "该文件不是CSV文本文件。"),
    ],
    ids=["the-workbook-itself", "binary"],
)
def test_a_file_that_is_not_csv_gets_a_clear_message(hr, employer, data, english, chinese):
    response = post_bytes(hr, employer, data, name="transfers.csv")
    assert response.status_code == 200
    ((row, column, message),) = error_cells(response)
    assert (row, column) == (None, "") and message.startswith(english)
    assert not TransferApplication.objects.exists()

    hr.cookies.pop("django_language")  # Chinese, the default
    response = post_bytes(hr, employer, data, name="transfers.csv")
    assert response.status_code == 200
    assert chinese in html.unescape(response.content.decode())
    assert 'name="csv_file"' in response.content.decode()


def test_a_200_kb_value_is_a_clear_row_error(hr, employer):
    rows = good_rows(employer)
    rows[1] = (*rows[1][:4], "9" * 200_000)
    response = post_file(hr, employer, csv_text(HEADER, rows))
    assert response.status_code == 200
    assert error_cells(response) == [(3, "", TOO_LONG)]
    assert not TransferApplication.objects.exists()


def test_a_value_over_1000_characters_names_its_column(hr, employer):
    rows = good_rows(employer)
    rows[1] = (*rows[1][:4], "x" * 1001)
    assert error_cells(post_file(hr, employer, csv_text(HEADER, rows))) == [
        (3, "old_person_number", "This value is longer than 1,000 characters.")
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{number},pension 360400,330100\r\n", "This row has fewer values than the header has columns"),
        (
            '"{number},pension,360400,330100,\r\n',
            "This row cannot be read as CSV; check its quotation marks.",
        ),
    ],
    ids=["a-missing-comma", "a-quotation-mark-left-open"],
)
def test_a_row_a_careless_edit_broke_is_reported_at_its_row(hr, employer, line, message):
    text = csv_text(HEADER, good_rows(employer)[:2]) + line.format(number=number_of(employer, "陈静"))
    text += csv_text(HEADER, good_rows(employer)[3:]).split("\r\n", 1)[1]
    ((row, column, got),) = error_cells(post_file(hr, employer, text))
    assert (row, column) == (4, "") and got.startswith(message)
    assert not TransferApplication.objects.exists()


@pytest.mark.parametrize(
    "cell",
    ['=HYPERLINK("http://evil.example")', "+1+1", "-1+1", "@SUM(A1)", "＝1+1"],
    ids=repr,
)
def test_a_hostile_header_cell_comes_back_in_the_report_as_text(hr, employer, cell):
    header = (*HEADER, cell)
    response = post_file(hr, employer, csv_text(header, [(*row, "") for row in good_rows(employer)]))
    batch = response.context["rejected"]
    ((row, column, status, _problem),) = report_rows(hr, employer, batch)[1:]
    assert (row, status) == ("1", "error")
    assert column == "'" + cell.lower()


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"], ids=repr)
def test_no_report_cell_can_start_a_formula(hr, employer, start):
    hr_user = get_user_model().objects.get(username="hr.hangzhou")
    batch = FilingBatch.objects.create(
        employer=employer, uploaded_by=hr_user, status=FilingBatch.Status.REJECTED,
        errors=[{"row": 2, "column": start + "cmd", "message": start + "SUM(A1)"}],
    )  # fmt: skip
    assert report_rows(hr, employer, batch)[1] == ["2", "'" + start + "cmd", "error", "'" + start + "SUM(A1)"]


def test_a_negative_number_and_a_chinese_name_in_the_report_stay_as_they_are(hr, employer):
    hr_user = get_user_model().objects.get(username="hr.hangzhou")
    batch = FilingBatch.objects.create(
        employer=employer, uploaded_by=hr_user, status=FilingBatch.Status.REJECTED,
        errors=[{"row": 2, "column": "姓名", "message": "-120.50"}],
    )  # fmt: skip
    assert report_rows(hr, employer, batch)[1] == ["2", "姓名", "error", "-120.50"]


def test_the_report_is_in_chinese_by_default(hr, employer):
    rows = good_rows(employer)
    rows[2] = (rows[2][0], "both", "420106", "330100", "")
    hr.cookies.pop("django_language")
    post_file(hr, employer, csv_text(HEADER, rows))
    batch = FilingBatch.objects.get(status=FilingBatch.Status.REJECTED)
    report = report_rows(hr, employer, batch)
    assert report[0] == ["行", "列", "状态", "问题"]
    assert report[1][:3] == ["4", "transfer_out_region", "错误"]
    assert "420106是区县代码" in report[1][3]


def test_the_template_is_written_by_the_one_writer(hr, employer):
    response = hr.get(f"/employer/{employer.pk}/bulk/template.csv")
    assert (
        response.content
        == (
            "\ufeffdocument_number,scheme,transfer_out_region,transfer_in_region,old_person_number,name\r\n"
        ).encode()
    )
