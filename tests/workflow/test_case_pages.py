"""The case pages as each party sees them: the actions their side and role allow, nothing at all for
anyone else (404, as for a case that does not exist), the "moved on" message, filing, and downloads."""

import hashlib
import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext, override

from applications.cases import services
from applications.cases.states import PARTY_LABELS, Party
from applications.models import AccessRecord, DocumentKind, OfficialDocument, State, TransferApplication
from tests.workflow.helpers import SPEC, minimal_pdf
from tests.world import login, new_case, put_in_state

OPEN_STATES = [
    State.DRAFT,
    State.SUBMITTED,
    State.RETURNED,
    State.CONTACT_LETTER_SENT,
    State.AMOUNTS_PENDING_APPROVAL,
    State.FUNDS_TRANSFERRED,
    State.INFORMATION_FORM_SENT,
    State.FUNDS_MISMATCH,
    State.FUNDS_MATCHED,
    State.COMPLETED,
    State.REFUSED,
]


def zh(message):
    """A message (a msgid or a lazy label) as the page, Chinese by default, shows it."""
    with override("zh-hans"):
        return escape(gettext(message) if isinstance(message, str) else str(message))


def actions_on_page(response, case):
    html = response.content.decode()
    return set(re.findall(rf'action="/cases/{case.reference}/act/([a-z_]+)/"', html))


def expected_actions(state, party):
    return {action for action, spec in SPEC.items() if state in spec[0] and spec[2] == party}


@pytest.mark.parametrize("state", OPEN_STATES)
def test_each_party_sees_only_the_actions_its_side_and_role_allow(world, client, state):
    case = put_in_state(new_case(world), state, world)
    for party in Party:
        login(client, world.user_of(party))
        response = client.get(reverse("case_detail", args=[case.reference]))
        assert response.status_code == 200, party
        assert actions_on_page(response, case) == expected_actions(state, party), party
        assert case.reference in response.content.decode()
        client.logout()


def test_the_page_says_who_holds_the_case_and_until_when(world, client):
    case = new_case(world)
    services.advance(case, "submit", world.applicant)
    case.refresh_from_db()
    login(client, world.applicant)
    url = reverse("case_detail", args=[case.reference])
    html = client.get(url).content.decode()
    assert zh(State.SUBMITTED.label) in html
    assert f"{world.yl_in.name} · {zh(PARTY_LABELS[Party.IN_CLERK])}" in html
    assert f"{case.due_date:%Y-%m-%d}" in html

    services.advance(case, "send_contact_letter", world.in_clerk)
    case.refresh_from_db()
    html = client.get(url).content.decode()
    assert f"{world.yl_out.name} · {zh(PARTY_LABELS[Party.OUT_CLERK])}" in html
    assert f"{case.due_date:%Y-%m-%d}" in html


def ready_document(case, world, private_dir):
    """The case walked to the contact letter, every document it has so far rendered and stored (as the
    worker leaves them); returns the contact letter and its PDF."""
    case = put_in_state(case, State.CONTACT_LETTER_SENT, world)
    for document in case.documents.all():
        pdf = minimal_pdf(case.reference if document.kind == DocumentKind.CONTACT_LETTER else document.kind)
        name = f"{case.reference}-{document.kind}-v{document.version}.pdf"
        document.file.save(name, ContentFile(pdf), save=False)
        document.sha256 = hashlib.sha256(pdf).hexdigest()
        document.status = OfficialDocument.Status.READY
        document.save()
        if document.kind == DocumentKind.CONTACT_LETTER:
            letter, letter_pdf = document, pdf
    return letter, letter_pdf


@pytest.mark.parametrize(
    "outsider", ["other_applicant", "outsider_clerk", "outsider_reviewer", "other_hr", "hr"]
)
def test_someone_who_is_not_a_party_gets_404_everywhere(world, client, private_dir, outsider):
    case = new_case(world)
    document, _pdf = ready_document(case, world, private_dir)
    # The application form's rendering failed (as the worker records it).
    OfficialDocument.objects.filter(application=case, kind=DocumentKind.APPLICATION_FORM).update(
        status=OfficialDocument.Status.FAILED, error="x"
    )
    failed = OfficialDocument.objects.get(application=case, status=OfficialDocument.Status.FAILED)
    before = TransferApplication.objects.filter(pk=case.pk).values().get()
    events = case.events.count()
    login(client, getattr(world, outsider))

    assert client.get(reverse("case_detail", args=[case.reference])).status_code == 404
    assert client.get(reverse("case_documents", args=[case.reference])).status_code == 404
    response = client.post(
        reverse("case_action", args=[case.reference, "refuse_by_transfer_out"]),
        {"reason": "x", "legal_basis": "y", "expected_state": case.state},
    )
    assert response.status_code == 404
    assert client.get(reverse("download_document", args=[document.pk])).status_code == 404
    assert client.post(reverse("retry_document", args=[failed.pk])).status_code == 404
    assert client.get(reverse("contribution_table", args=[case.reference])).status_code == 404

    assert TransferApplication.objects.filter(pk=case.pk).values().get() == before
    assert case.events.count() == events
    failed.refresh_from_db()
    assert failed.status == OfficialDocument.Status.FAILED
    assert not AccessRecord.objects.filter(user=getattr(world, outsider)).exists()


def test_a_case_that_does_not_exist_is_the_same_404(world, client):
    login(client, world.in_clerk)
    assert client.get(reverse("case_detail", args=["YL2026010100000000"])).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(world, client):
    case = new_case(world)
    response = client.get(reverse("case_detail", args=[case.reference]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_clerk_takes_an_action_from_the_page(world, client):
    case = put_in_state(new_case(world), State.SUBMITTED, world)
    login(client, world.in_clerk)
    response = client.post(
        reverse("case_action", args=[case.reference, "send_contact_letter"]),
        {"expected_state": State.SUBMITTED},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("case_detail", args=[case.reference])
    case.refresh_from_db()
    assert case.state == State.CONTACT_LETTER_SENT
    assert zh("Send the contact letter") in response.content.decode()


def test_a_stale_form_shows_that_the_case_moved_on_and_changes_nothing(world, client):
    """Two clerks open the same case; the first sends the contact letter, the second then posts a refusal
    from the page they opened before."""
    case = put_in_state(new_case(world), State.SUBMITTED, world)
    login(client, world.in_clerk)
    page = client.get(reverse("case_detail", args=[case.reference]))
    assert 'name="expected_state" value="submitted"' in page.content.decode()
    services.advance(case, "send_contact_letter", world.in_clerk_2)
    case.refresh_from_db()
    before = TransferApplication.objects.filter(pk=case.pk).values().get()
    events, documents = case.events.count(), case.documents.count()

    for action, data in [
        ("refuse_by_transfer_in", {"reason": "欠费", "legal_basis": "国办发〔2009〕66号 第八条"}),
        ("send_contact_letter", {}),
    ]:
        response = client.post(
            reverse("case_action", args=[case.reference, action]),
            {"expected_state": State.SUBMITTED, **data},
            follow=True,
        )
        html = response.content.decode()
        assert zh("This case has moved on since you opened it; here is its current state.") in html
        assert TransferApplication.objects.filter(pk=case.pk).values().get() == before
        assert (case.events.count(), case.documents.count()) == (events, documents)


def test_a_refusal_without_a_reason_is_refused_on_the_page(world, client):
    case = put_in_state(new_case(world), State.SUBMITTED, world)
    login(client, world.in_clerk)
    response = client.post(
        reverse("case_action", args=[case.reference, "refuse_by_transfer_in"]),
        {"expected_state": State.SUBMITTED, "reason": "", "legal_basis": ""},
        follow=True,
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.state == State.SUBMITTED
    assert 'class="alert alert-danger"' in response.content.decode()


FILING = {
    "schemes": ["pension", "medical"],
    "transfer_out_region": "360400",
    "transfer_in_region": "330100",
    "old_person_number": "JX0001234",
    "contributions_paused": "on",
    "old_medical_kind": "employee",
    "new_medical_kind": "employee",
    "gap_months": "0",
}


def test_the_insured_person_files_pension_and_medical_in_one_go(world, client):
    login(client, world.applicant)
    assert client.get(reverse("file_application")).status_code == 200
    response = client.post(reverse("file_application"), FILING)
    cases = TransferApplication.objects.filter(person=world.person).order_by("scheme")
    assert [c.scheme for c in cases] == ["medical", "pension"]
    medical, pension = cases
    assert response.status_code == 302
    assert response.url in {reverse("case_detail", args=[c.reference]) for c in cases}
    assert medical.filing_reference == pension.filing_reference != ""
    assert medical.reference != pension.reference
    assert (pension.transfer_out_agency.code, pension.transfer_in_agency.code) == ("YL360400", "YL330100")
    assert (medical.transfer_out_agency.code, medical.transfer_in_agency.code) == ("YB360400", "YB330100")
    for case in cases:
        assert (case.state, case.filed_by, case.filed_for_employer) == (State.DRAFT, world.applicant, None)
        assert case.old_person_number == "JX0001234"
        assert list(case.events.values_list("action", "actor")) == [("created", world.applicant.pk)]

    # The page of one shows the other, and the applicant can submit it.
    html = client.get(reverse("case_detail", args=[pension.reference])).content.decode()
    assert reverse("case_detail", args=[medical.reference]) in html
    assert f'action="/cases/{pension.reference}/act/submit/"' in html
    client.post(reverse("case_action", args=[pension.reference, "submit"]), {"expected_state": "draft"})
    pension.refresh_from_db()
    assert pension.state == State.SUBMITTED


def test_hr_files_for_an_employee(world, client):
    url = reverse("employer_file_application", args=[world.employer.pk, world.employee.pk])
    login(client, world.hr)
    assert client.get(url).status_code == 200
    response = client.post(url, {**FILING, "schemes": ["pension"]})
    case = TransferApplication.objects.get(person=world.employee)
    assert response.status_code == 302
    assert response.url == reverse("case_detail", args=[case.reference])
    assert (case.filed_by, case.filed_for_employer, case.new_employer) == (
        world.hr,
        world.employer,
        world.employer,
    )
    # HR acts as the applicant on it.
    page = client.get(reverse("case_detail", args=[case.reference]))
    assert actions_on_page(page, case) == {"submit", "withdraw"}


def test_hr_cannot_file_for_someone_else(world, client):
    login(client, world.other_hr)
    url = reverse("employer_file_application", args=[world.employer.pk, world.employee.pk])
    assert client.post(url, {**FILING, "schemes": ["pension"]}).status_code == 404
    client.logout()
    login(client, world.hr)  # 张伟 is not an employee of the demo employer
    url = reverse("employer_file_application", args=[world.employer.pk, world.person.pk])
    assert client.post(url, {**FILING, "schemes": ["pension"]}).status_code == 404
    assert not TransferApplication.objects.exists()


@pytest.mark.parametrize("party", list(Party))
def test_every_party_downloads_the_pdf_as_an_attachment(world, client, private_dir, party):
    case = new_case(world)
    document, pdf = ready_document(case, world, private_dir)
    user = world.user_of(party)
    login(client, user)
    response = client.get(reverse("download_document", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"{case.reference}-contact_letter-v1.pdf" in disposition
    assert b"".join(response.streaming_content) == pdf
    record = AccessRecord.objects.get(user=user, what=AccessRecord.What.DOWNLOADED_DOCUMENT)
    assert (record.application_id, record.object_id) == (case.pk, document.pk)


def test_a_document_not_yet_rendered_cannot_be_downloaded(world, client):
    case = put_in_state(new_case(world), State.SUBMITTED, world)
    services.advance(case, "send_contact_letter", world.in_clerk)
    document = OfficialDocument.objects.get(application=case, kind=DocumentKind.CONTACT_LETTER)
    login(client, world.in_clerk)
    assert client.get(reverse("download_document", args=[document.pk])).status_code == 404


def test_the_documents_panel_shows_progress_failure_and_retry(world, client, private_dir, delay):
    case = new_case(world)
    ready, _pdf = ready_document(case, world, private_dir)
    case = put_in_state(case, State.CONTACT_LETTER_SENT, world)
    services.advance(case, "refuse_by_transfer_out", world.out_clerk, reason="欠费", legal_basis="66号")
    pending = OfficialDocument.objects.get(application=case, kind="written_explanation")
    login(client, world.applicant)
    panel_url = reverse("case_documents", args=[case.reference])

    html = client.get(panel_url).content.decode()
    assert reverse("download_document", args=[ready.pk]) in html
    assert zh("Being produced…") in html
    assert 'hx-trigger="every 2s"' in html  # the page keeps asking while a PDF is being produced

    OfficialDocument.objects.filter(pk=pending.pk).update(status=OfficialDocument.Status.FAILED, error="x")
    html = client.get(panel_url).content.decode()
    assert zh("The document could not be produced.") in html
    assert reverse("retry_document", args=[pending.pk]) in html
    assert "hx-trigger" not in html  # nothing pending: polling stops

    response = client.post(reverse("retry_document", args=[pending.pk]))
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == OfficialDocument.Status.PENDING
    assert case.events.filter(action="retry_document", actor=world.applicant).count() == 1
