"""Only the workflow service moves a case: the model, its querysets and, on PostgreSQL, a trigger refuse
every other write of the state, raw SQL included; the service's own permission ends with its save."""

import pytest
from django.db import IntegrityError, connection, transaction

from applications.cases import services
from applications.models import CaseEvent, State, TransferApplication
from applications.models.cases import StateWriteRefused
from tests.factories import AgencyFactory, AgencyStaffFactory, InsuredPersonFactory, UserFactory, region
from tests.workflow.helpers import require_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_dispatch(monkeypatch):
    monkeypatch.setattr("applications.documents.tasks.render_document.delay", lambda *a, **k: None)
    monkeypatch.setattr("applications.notify.tasks.send_notification_emails.delay", lambda *a, **k: None)


@pytest.fixture
def draft(no_dispatch):
    applicant = UserFactory()
    person = InsuredPersonFactory(user=applicant)
    out_agency = AgencyFactory(region=region("360400"))
    in_agency = AgencyFactory()
    (case,) = services.create_drafts(
        person=person, schemes_and_agencies={"pension": (out_agency, in_agency)}, filed_by=applicant
    )
    case.clerk = AgencyStaffFactory(agency=in_agency).user
    return case


def raw_update(case, state):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE applications_transferapplication SET state = %s WHERE id = %s", [state, case.pk]
        )


def test_a_plain_save_of_a_changed_state_is_refused(draft):
    draft.state = State.COMPLETED
    with pytest.raises(StateWriteRefused):
        draft.save()
    assert TransferApplication.objects.get(pk=draft.pk).state == State.DRAFT


def test_saving_other_fields_of_a_case_is_still_allowed(draft):
    draft.agent_name = "李四"
    draft.save()
    draft.refresh_from_db()
    assert draft.agent_name == "李四"


def test_a_queryset_cannot_write_states_in_bulk(draft):
    with pytest.raises(StateWriteRefused):
        TransferApplication.objects.filter(pk=draft.pk).update(state=State.SUBMITTED)
    draft.state = State.SUBMITTED
    with pytest.raises(StateWriteRefused):
        TransferApplication.objects.bulk_update([draft], ["state"])
    assert TransferApplication.objects.get(pk=draft.pk).state == State.DRAFT


def test_a_case_is_created_as_a_draft_only(draft):
    copy = TransferApplication(
        scheme="medical",
        person=draft.person,
        filed_by=draft.filed_by,
        transfer_out_agency=draft.transfer_out_agency,
        transfer_in_agency=draft.transfer_in_agency,
        state=State.COMPLETED,
    )
    with pytest.raises(StateWriteRefused):
        copy.save()
    with pytest.raises(StateWriteRefused):
        TransferApplication.objects.bulk_create([copy])


def test_the_service_moves_the_case_and_records_the_step(draft):
    case = services.advance(draft, "submit", draft.person.user)
    assert TransferApplication.objects.get(pk=case.pk).state == State.SUBMITTED
    event = CaseEvent.objects.filter(application=case, action="submit").get()
    assert event.data["due_date"] == case.due_date.isoformat()
    assert event.data["working_days"] == 15
    assert event.data["document_kind"] == "application_form"


def test_a_raw_sql_update_of_the_state_is_refused_by_the_database(draft):
    require_services()
    with pytest.raises(IntegrityError, match="only through the workflow service"), transaction.atomic():
        raw_update(draft, State.COMPLETED)
    assert TransferApplication.objects.get(pk=draft.pk).state == State.DRAFT


def test_a_raw_sql_insert_of_a_case_past_draft_is_refused_by_the_database(draft):
    require_services()
    with pytest.raises(IntegrityError, match="created as a draft"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO applications_transferapplication (reference, filing_reference, scheme, person_id,"
                " filed_by_id, transfer_out_agency_id, transfer_in_agency_id, old_person_number, agent_name,"
                " agent_phone, agent_relation, state, created_at, declarations, temporary_account,"
                " reason, legal_basis, remittance_reference)"
                " SELECT 'YL-RAW', 'SQ-RAW', 'medical', person_id, filed_by_id, transfer_out_agency_id,"
                " transfer_in_agency_id, '', '', '', '', 'completed', now(), '{}', false, '', '', ''"
                " FROM applications_transferapplication WHERE id = %s",
                [draft.pk],
            )


def test_the_services_permission_ends_with_its_own_save(draft):
    """Inside the same transaction, after advance returned, a raw write of the state is refused again,
    and a permission naming one case does not open another."""
    require_services()
    with pytest.raises(IntegrityError), transaction.atomic():
        case = services.advance(draft, "submit", draft.person.user)
        raw_update(case, State.COMPLETED)
    other = TransferApplication.objects.get(pk=draft.pk)
    assert other.state == State.DRAFT  # the whole transaction rolled back
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('portal.case_state_writer', %s, true)", [str(draft.pk + 1)])
        raw_update(draft, State.COMPLETED)
