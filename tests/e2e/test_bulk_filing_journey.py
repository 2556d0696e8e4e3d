"""Journey 2: HR of the Hangzhou demo employer bulk-files a CSV with one bad row, reads the per-row report
(nothing is filed), fixes the file, files every row, and watches the application forms being produced."""

import re
from pathlib import Path
from unittest import mock

from playwright.sync_api import expect

from applications.documents import tasks as document_tasks
from applications.models import (
    DocumentKind,
    Employer,
    FilingBatch,
    InsuredPerson,
    OfficialDocument,
    State,
    TransferApplication,
)
from tests.e2e.files import csv_bytes

HEADER = ("document_number", "scheme", "transfer_out_region", "transfer_in_region", "name")
# (employee, old place); every one moves to Hangzhou (330100). 999999 is no division code.
GOOD_ROWS = [("王芳", "360400"), ("刘洋", "360400"), ("陈静", "420100")]
BAD_ROW, BAD_CODE = 4, "999999"  # the header is row 1, so 陈静 is row 4


def bulk_csv(rows):
    people = {person.name: person for person in InsuredPerson.objects.filter(name__in=[n for n, _ in rows])}
    return csv_bytes(
        HEADER, [(people[name].document_number, "pension", old, "330100", name) for name, old in rows]
    )


def upload(hr, content, file_name):
    page = hr.page
    form = "main form:has(input[name=csv_file])"
    page.locator("input[name=csv_file]").set_input_files(
        {"name": file_name, "mimeType": "text/csv", "buffer": content}
    )
    page.locator("input[name=confirm]").check()
    hr.submit(form)


def test_bulk_filing_with_a_bad_row_then_the_fixed_file(portal):
    employer = Employer.objects.get(staff__user__username="hr.hangzhou")
    hr = portal.actor("hr.hangzhou", "bulk")
    page = hr.page
    assert page.url.endswith(f"/employer/{employer.pk}/employees/"), page.url
    hr.check("01-employees")
    with page.expect_navigation():
        page.locator(f'nav a[href="/employer/{employer.pk}/bulk/"]').click()
    hr.check("02-bulk-form")

    # A file with one bad row: a report by row and column, and nothing filed.
    bad_rows = [*GOOD_ROWS[:2], (GOOD_ROWS[2][0], BAD_CODE)]
    upload(hr, bulk_csv(bad_rows), "transfers.csv")
    report = page.locator("main .alert-danger")
    expect(report).to_be_visible()
    rows = report.locator("table tbody tr")
    expect(rows).to_have_count(1)
    cells = rows.first.locator("td")
    expect(cells.nth(0)).to_have_text(str(BAD_ROW))
    expect(cells.nth(1)).to_have_text("transfer_out_region")
    expect(cells.nth(2)).to_contain_text(BAD_CODE)
    assert TransferApplication.objects.count() == 0
    rejected = FilingBatch.objects.get()
    assert rejected.status == FilingBatch.Status.REJECTED
    hr.check("03-bad-row-reported")

    with page.expect_download() as download_info:
        report.locator(f'a[href="/employer/{employer.pk}/bulk/{rejected.pk}/errors.csv"]').click()
    lines = Path(download_info.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2
    assert lines[1].startswith(f"{BAD_ROW},transfer_out_region,")
    assert BAD_CODE in lines[1]

    # The fixed file: every row filed in one go; the application forms follow in the background. The
    # renderings are held back and carried out one per poll of the progress panel, so that the page is
    # seen moving from 0 to all ready.
    queued = []
    release = {"now": False}
    progress_polls = []

    def poll(route):
        progress_polls.append(route.request.url)
        if release["now"] and queued:
            document_tasks.render_document(queued.pop(0))
        route.continue_()

    page.route(re.compile(r"/bulk/\d+/progress/"), poll)
    with mock.patch.object(document_tasks.render_document, "delay", side_effect=queued.append):
        upload(hr, bulk_csv(GOOD_ROWS), "transfers-fixed.csv")
        batch = FilingBatch.objects.get(status=FilingBatch.Status.FILED)
        assert page.url.endswith(f"/employer/{employer.pk}/bulk/{batch.pk}/"), page.url
        cases = list(batch.cases.select_related("person"))
        assert sorted(case.person.name for case in cases) == sorted(name for name, _ in GOOD_ROWS)
        assert {case.state for case in cases} == {State.SUBMITTED}
        assert len(queued) == len(GOOD_ROWS)
        progress = page.locator("#batch-progress-bar")
        expect(progress).to_have_attribute("value", "0")
        expect(progress).to_have_attribute("max", str(len(GOOD_ROWS)))
        hr.check("04-batch-in-progress")

        release["now"] = True
        expect(page.locator("#batch-count .text-success")).to_be_visible()
        expect(progress).to_have_attribute("value", str(len(GOOD_ROWS)))
        assert not queued
        hr.check("05-batch-all-ready")
        # The last answer (286) stopped the polling.
        polls = len(progress_polls)
        page.wait_for_timeout(2500)
        assert len(progress_polls) == polls

    forms = OfficialDocument.objects.filter(application__in=cases, kind=DocumentKind.APPLICATION_FORM)
    assert sorted(forms.values_list("status", flat=True)) == [OfficialDocument.Status.READY] * len(GOOD_ROWS)
    for document in forms:
        expect(page.locator(f'a[href="/documents/{document.pk}/download/"]')).to_have_count(1)
