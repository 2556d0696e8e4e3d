"""Journey 1: an insured person files a pension transfer from Jiujiang to Hangzhou and follows it through
the five official steps to the continuation notice, each agency user acting in their own browser."""

import re
from decimal import Decimal
from pathlib import Path

from django.utils import translation
from playwright.sync_api import expect

from agencies.models import Agency
from applications.cases.eligibility import assess_case, explain
from applications.models import DocumentKind, Material, OfficialDocument, State, TransferApplication
from tests.e2e.conftest import squash
from tests.e2e.files import contribution_csv, pdf_text, small_png

APPLICANT = "360426199101010071"  # 张伟, hukou Jiujiang
NAME = "张伟"
# The contribution table (Jiujiang, 2015 to mid-2017) and what the regulation gives for it: personal
# account 8 % of 162,000 plus 350.00 interest; pooled fund 12 % of 162,000.
PERSONAL, POOLED = Decimal("13310.00"), Decimal("19440.00")
TOTAL = PERSONAL + POOLED


def case_link(actor, reference):
    """The case's link in a list (a phone layout and a table may both hold one; only one is shown)."""
    return actor.page.locator(f'a[href="/cases/{reference}/"]:visible').first


def htmx_swap(page, url_part, action):
    """Do `action` and wait until htmx has fetched `url_part`, swapped the answer in and settled it (only
    then does the new content answer to its own hx- attributes)."""
    # The statement evaluates to nothing: Playwright would otherwise wait for the promise right away.
    page.evaluate(
        "() => { window.__e2eSettled = new Promise(resolve => "
        "document.body.addEventListener('htmx:afterSettle', resolve, {once: true})); }"
    )
    with page.expect_response(lambda response: url_part in response.url):
        action()
    settled = (
        "Promise.race([window.__e2eSettled.then(() => true), new Promise(r => setTimeout(r, 5000, false))])"
    )
    assert page.evaluate(settled), f"htmx did not settle the answer of {url_part}"


def choose_place(page, side, province, city, agency_name):
    """The htmx region picker: the province narrows the cities, the city shows its agencies."""
    htmx_swap(page, "/regions/cities/", lambda: page.locator(f"#id_{side}_province").select_option(province))
    cities = page.locator(f"#id_{side}_region option")
    expect(cities.filter(has_not_text="---")).not_to_have_count(0)
    for value in cities.evaluate_all("options => options.map(o => o.value).filter(Boolean)"):
        assert value.startswith(province[:2]), f"{side}: city {value} is not in province {province}"
    htmx_swap(page, "/regions/agencies/", lambda: page.locator(f"#id_{side}_region").select_option(city))
    expect(page.locator(f"#agencies-{side}")).to_contain_text(agency_name)


def test_pension_transfer_from_filing_to_continuation_notice(portal):
    out_agency, in_agency = Agency.objects.get(code="YL360400"), Agency.objects.get(code="YL330100")

    # 1. Apply: the insured person files, sees the pre-check, uploads the ID card and submits.
    applicant = portal.actor(APPLICANT, "pension")
    page = applicant.page
    assert page.url.endswith("/my/applications/")
    applicant.check("01-my-applications")
    with page.expect_navigation():
        page.locator('main a[href="/my/applications/new/"]').click()
    applicant.check("02-apply-form")
    page.locator("input[name=schemes][value=pension]").check()
    choose_place(page, "transfer_out", "360000", "360400", out_agency.name)
    choose_place(page, "transfer_in", "330000", "330100", in_agency.name)
    applicant.check("03-apply-form-filled")
    applicant.submit("main form[method=post]")

    match = re.search(r"/cases/([^/]+)/$", page.url)
    assert match, page.url
    reference = match.group(1)
    case = TransferApplication.objects.get(reference=reference)
    assert (case.person.name, case.scheme, case.state) == (NAME, "pension", State.DRAFT)
    assert (case.transfer_out_agency, case.transfer_in_agency) == (out_agency, in_agency)
    with translation.override("zh-hans"):
        pre_check = explain(assess_case(case))
    expect(page.locator("main")).to_contain_text(str(pre_check["headline"]))
    for text, _basis in pre_check["reasons"]:
        expect(page.locator("main")).to_contain_text(str(text))
    applicant.check("04-draft-with-pre-check")

    upload = page.locator('form[action$="/materials/"]')
    upload.locator("select[name=kind]").select_option("id_card")
    upload.locator("input[name=file]").set_input_files(
        {"name": "id-card.png", "mimeType": "image/png", "buffer": small_png()}
    )
    applicant.submit('form[action$="/materials/"]')
    material = Material.objects.get(application=case)
    assert (material.kind, material.content_type) == ("id_card", "image/png")
    expect(page.locator(f'a[href="/materials/{material.pk}/"]')).to_be_visible()
    applicant.check("05-id-card-uploaded")

    applicant.submit('form[action$="/act/submit/"]')
    case.refresh_from_db()
    assert case.state == State.SUBMITTED
    applicant.check("06-submitted")

    # 2. Contact letter: the transfer-in clerk finds the case in the queue and sends the letter.
    in_clerk = portal.actor("clerk.hangzhou", "pension")
    assert f"/agency/{in_agency.pk}/queue/" in in_clerk.page.url
    in_clerk.check("07-transfer-in-queue")
    with in_clerk.page.expect_navigation():
        case_link(in_clerk, reference).click()
    in_clerk.check("08-transfer-in-case")
    in_clerk.submit('form[action$="/act/send_contact_letter/"]')
    case.refresh_from_db()
    assert case.state == State.CONTACT_LETTER_SENT
    in_clerk.check("09-contact-letter-sent")

    # 3. Fund transfer: the transfer-out clerk imports the contribution table and enters the amounts,
    # which the form offers as computed from the table; a reviewer approves them.
    out_clerk = portal.actor("clerk.jiujiang", "pension")
    assert f"/agency/{out_agency.pk}/queue/" in out_clerk.page.url
    out_clerk.check("10-transfer-out-queue")
    with out_clerk.page.expect_navigation():
        case_link(out_clerk, reference).click()
    out_clerk.check("11-transfer-out-case")
    with out_clerk.page.expect_navigation():
        out_clerk.page.locator(f'a[href="/cases/{reference}/contributions/"]').click()
    out_clerk.check("12-contribution-table-form")
    table_form = 'form:has(input[name="csv-csv_file"])'
    out_clerk.page.locator(f'{table_form} input[name="csv-csv_file"]').set_input_files(
        {"name": "table.csv", "mimeType": "text/csv", "buffer": contribution_csv()}
    )
    out_clerk.submit(table_form)
    assert out_clerk.page.url.endswith(f"/cases/{reference}/")
    assert case.contribution_years.count() == 3
    amounts = out_clerk.page.locator('form[action$="/act/enter_amounts/"]')
    expect(amounts.locator("input[name=personal_account_amount]")).to_have_value(str(PERSONAL))
    expect(amounts.locator("input[name=pooled_fund_amount]")).to_have_value(str(POOLED))
    out_clerk.check("13-contribution-table-saved")
    amounts.locator("input[name=remittance_reference]").fill("JJ-2026-0001")
    out_clerk.submit('form[action$="/act/enter_amounts/"]')
    case.refresh_from_db()
    assert case.state == State.AMOUNTS_PENDING_APPROVAL
    assert (case.personal_account_amount, case.pooled_fund_amount, case.transfer_total) == (
        PERSONAL,
        POOLED,
        TOTAL,
    )
    out_clerk.check("14-amounts-entered")

    reviewer = portal.actor("reviewer.jiujiang", "pension")
    with reviewer.page.expect_navigation():
        reviewer.page.locator(f'a[href="/agency/{out_agency.pk}/approvals/"]').click()
    expect(reviewer.page.locator("main")).to_contain_text(reference)
    reviewer.check("15-amounts-to-approve")
    with reviewer.page.expect_navigation():
        case_link(reviewer, reference).click()
    reviewer.check("16-reviewer-case")
    reviewer.submit('form[action$="/act/approve_amounts/"]')
    case.refresh_from_db()
    assert case.state == State.FUNDS_TRANSFERRED
    assert case.amounts_approved_by.username == "reviewer.jiujiang"
    reviewer.check("17-amounts-approved")

    # 4. Information form: the transfer-out clerk sends it.
    out_clerk.goto(f"/cases/{reference}/")
    out_clerk.check("18-funds-transferred")
    out_clerk.submit('form[action$="/act/send_information_form/"]')
    case.refresh_from_db()
    assert case.state == State.INFORMATION_FORM_SENT
    out_clerk.check("19-information-form-sent")

    # 5. Continuation: the transfer-in clerk records the amount received (the total) and completes.
    in_clerk.goto(f"/cases/{reference}/")
    in_clerk.check("20-information-form-received")
    in_clerk.page.locator('form[action$="/act/match_funds/"] input[name=received_amount]').fill(str(TOTAL))
    in_clerk.submit('form[action$="/act/match_funds/"]')
    case.refresh_from_db()
    assert (case.state, case.received_amount) == (State.FUNDS_MATCHED, TOTAL)
    in_clerk.check("21-funds-matched")
    in_clerk.submit('form[action$="/act/complete/"]')
    case.refresh_from_db()
    assert case.state == State.COMPLETED
    in_clerk.check("22-completed")

    # Every official document of the five steps was produced.
    kinds = set(case.documents.filter(status=OfficialDocument.Status.READY).values_list("kind", flat=True))
    assert kinds == {
        DocumentKind.APPLICATION_FORM,
        DocumentKind.CONTACT_LETTER,
        DocumentKind.FUND_TRANSFER_RECORD,
        DocumentKind.INFORMATION_FORM,
        DocumentKind.CONTINUATION_NOTICE,
    }

    # The applicant downloads the continuation notice.
    applicant.goto("/my/applications/")
    applicant.check("23-my-applications-completed")
    with page.expect_navigation():
        case_link(applicant, reference).click()
    applicant.check("24-completed-case")
    notice = case.documents.get(kind=DocumentKind.CONTINUATION_NOTICE)
    with page.expect_download() as download_info:
        page.locator(f'a[href="/documents/{notice.pk}/download/"]').click()
    download = download_info.value
    assert download.suggested_filename == f"{reference}-continuation_notice-v1.pdf"
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert NAME in squash(pdf_text(pdf))
