"""Journey 3: the transfer-in clerk returns a submitted application for correction with a reason; the
applicant reads the reason, adds the missing material and resubmits; the case is submitted again with
version 2 of the application form."""

from playwright.sync_api import expect

from agencies.models import Agency
from applications.cases import services
from applications.models import DocumentKind, InsuredPerson, Material, OfficialDocument, State
from tests.e2e.files import small_png

APPLICANT = "120103198806018241"  # 李娜
REASON = "身份证件照片无法辨认，请上传清晰的身份证正反面扫描件。"
DECLARATIONS = {
    "retired": False,
    "contributions_paused": True,
    "arrears": False,
    "in_hospital": False,
    "unfinished_transfer": False,
    "approved_job_transfer": False,
    "old_medical_kind": "employee",
    "new_medical_kind": "employee",
}


def submitted_case():
    """李娜's pension transfer from Jiujiang to Hangzhou, filed and submitted (journey 1 files through the
    pages; here the filing is only the starting point)."""
    person = InsuredPerson.objects.select_related("user").get(document_number=APPLICANT)
    agencies = (Agency.objects.get(code="YL360400"), Agency.objects.get(code="YL330100"))
    [draft] = services.create_drafts(
        person=person,
        schemes_and_agencies={"pension": agencies},
        filed_by=person.user,
        declarations=dict(DECLARATIONS),
    )
    return services.advance(draft, "submit", person.user)


def application_forms(case):
    return list(
        OfficialDocument.objects.filter(application=case, kind=DocumentKind.APPLICATION_FORM)
        .order_by("version")
        .values_list("version", "status")
    )


def test_return_for_correction_and_resubmission(portal):
    case = submitted_case()
    reference = case.reference
    assert application_forms(case) == [(1, OfficialDocument.Status.READY)]

    clerk = portal.actor("clerk.hangzhou", "correction")
    clerk.check("01-transfer-in-queue")
    with clerk.page.expect_navigation():
        clerk.page.locator(f'a[href="/cases/{reference}/"]:visible').first.click()
    clerk.check("02-submitted-case")
    form = 'form[action$="/act/return_for_correction/"]'
    clerk.page.locator(f"{form} textarea[name=reason]").fill(REASON)
    clerk.submit(form)
    case.refresh_from_db()
    assert (case.state, case.reason) == (State.RETURNED, REASON)
    expect(clerk.page.locator(form)).to_have_count(0)
    clerk.check("03-returned")

    applicant = portal.actor(APPLICANT, "correction")
    page = applicant.page
    expect(page.locator(f'a[href="/cases/{reference}/"]')).to_be_visible()
    applicant.check("04-my-applications-returned")
    with page.expect_navigation():
        page.locator(f'a[href="/cases/{reference}/"]').click()
    expect(page.locator("main .alert")).to_contain_text(REASON)
    explanation = case.documents.get(kind=DocumentKind.WRITTEN_EXPLANATION)
    assert explanation.status == OfficialDocument.Status.READY
    expect(page.locator(f'a[href="/documents/{explanation.pk}/download/"]')).to_be_visible()
    applicant.check("05-returned-case-with-reason")

    upload = page.locator('form[action$="/materials/"]')
    upload.locator("select[name=kind]").select_option("id_card")
    upload.locator("input[name=file]").set_input_files(
        {"name": "id-card-clear.png", "mimeType": "image/png", "buffer": small_png(32, 20)}
    )
    applicant.submit('form[action$="/materials/"]')
    assert Material.objects.filter(application=case, kind="id_card").count() == 1
    applicant.check("06-material-added")

    applicant.submit('form[action$="/act/resubmit/"]')
    case.refresh_from_db()
    assert (case.state, case.reason) == (State.SUBMITTED, "")
    assert application_forms(case) == [(1, OfficialDocument.Status.READY), (2, OfficialDocument.Status.READY)]
    second = case.documents.get(kind=DocumentKind.APPLICATION_FORM, version=2)
    expect(page.locator(f'a[href="/documents/{second.pk}/download/"]')).to_be_visible()
    expect(page.locator('form[action$="/act/resubmit/"]')).to_have_count(0)
    applicant.check("07-resubmitted")

    # The transfer-in clerk has the case back, with its actions.
    clerk.goto(f"/cases/{reference}/")
    expect(clerk.page.locator('form[action$="/act/send_contact_letter/"]')).to_be_visible()
    expect(clerk.page.locator(f'a[href="/documents/{second.pk}/download/"]')).to_be_visible()
    clerk.check("08-resubmitted-clerk-view")
