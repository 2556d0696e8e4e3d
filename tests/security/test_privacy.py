"""Privacy: ID numbers are masked in every list and export, for every role; every view of a case, every
download and every material shown is recorded in the audit trail; and the audit trail (CaseEvent,
AccessRecord) cannot be changed or deleted, neither through the ORM nor through the admin."""

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from applications.models import (
    AccessRecord,
    CaseEvent,
    InsuredPerson,
    Notification,
    State,
    TransferApplication,
)
from applications.people.identifiers import mask_document_number
from tests.security.conftest import (
    ADMIN,
    APPLICANT,
    HR,
    IN_CLERK,
    IN_REVIEWER,
    OTHER_APPLICANT,
    OUT_CLERK,
    OUT_REVIEWER,
    PASSWORD,
    tally,
)
from tests.security.test_authorization_matrix import PARTIES, consume
from tests.world import login


def full_numbers():
    return list(InsuredPerson.objects.values_list("document_number", flat=True))


def list_pages(world):
    """(kind, url) of every list page and export the portal has."""
    employer, in_agency, out_agency = world.employer, world.in_agency, world.out_agency
    hr_pages = [
        reverse("employer_employees", args=[employer.pk]),
        reverse("employer_employees", args=[employer.pk]) + "?q=安全",
        reverse("employer_cases", args=[employer.pk]),
        reverse("employer_cases", args=[employer.pk]) + "?state=submitted",
        reverse("employer_batch", args=[employer.pk, world.filed_batch.pk]),
        reverse("employer_batch_progress", args=[employer.pk, world.filed_batch.pk]),
        reverse("employer_batch_errors", args=[employer.pk, world.rejected_batch.pk]),
        reverse("employer_import_report", args=[employer.pk]),
        reverse("employer_bulk_filing", args=[employer.pk]),
        reverse("employer_file_application", args=[employer.pk, world.employee.pk]),
    ]
    pages = [(APPLICANT, reverse("my_applications")), (APPLICANT, reverse("notifications"))]
    pages += [(OTHER_APPLICANT, reverse("my_applications"))]
    pages += [(HR, url) for url in hr_pages] + [(HR, reverse("notifications"))]
    staff = (
        (IN_CLERK, in_agency),
        (IN_REVIEWER, in_agency),
        (OUT_CLERK, out_agency),
        (OUT_REVIEWER, out_agency),
    )
    for kind, agency in staff:
        pages += [
            (kind, reverse("agency_queue", args=[agency.pk])),
            (kind, reverse("agency_queue", args=[agency.pk]) + "?per_page=100"),
            (kind, reverse("agency_queue_csv", args=[agency.pk])),
            (kind, reverse("agency_statistics", args=[agency.pk])),
            (kind, reverse("notifications")),
        ]
    reviewers = ((IN_REVIEWER, in_agency), (OUT_REVIEWER, out_agency))
    pages += [(kind, reverse("agency_approvals", args=[agency.pk])) for kind, agency in reviewers]
    # The admin's lists of every registered model.
    for model in admin.site._registry:
        pages.append((ADMIN, f"/admin/{model._meta.app_label}/{model._meta.model_name}/"))
    return pages


@pytest.fixture
def busy_world(world):
    """Notifications, logins (django-axes keeps a log of them) and a failed login of insured persons, so
    that every list has rows naming them."""
    for case in world.cases.values():
        for user in (case.person.user, world.users[HR], world.users[IN_CLERK], world.users[OUT_REVIEWER]):
            Notification.objects.create(user=user, application=case, action="submit", to_state=case.state)
    for person in world.persons[:3]:
        login(Client(), None, language="en").post(
            reverse("login"), {"username": person.document_number, "password": PASSWORD}
        )
        login(Client(), None, language="en").post(
            reverse("login"), {"username": person.document_number, "password": "wrong"}
        )
        login(Client(), person.user, language="en").get(
            reverse("case_detail", args=[person.applications.get().reference])
        )
    return world


@pytest.mark.django_db
def test_id_numbers_are_masked_in_every_list_and_export(busy_world):
    world = busy_world
    numbers = full_numbers()
    checked = 0
    leaks = []
    for kind, url in list_pages(world):
        user = world.user(kind)
        response = login(Client(), user, language="en").get(url)
        body = consume(response).decode("utf-8", "replace")
        assert response.status_code in (200, 286), (kind, url, response.status_code)
        checked += 1
        leaks += [f"{kind} {url}: {number}" for number in numbers if number in body]
    assert not leaks, "full ID numbers in lists:\n" + "\n".join(leaks)
    tally("list pages and exports checked for full ID numbers", checked)


@pytest.mark.django_db
def test_the_lists_do_show_the_masked_numbers(world):
    """Not a vacuous pass: the lists name the persons, by their masked numbers."""
    submitted = world.cases[State.SUBMITTED].person
    pending = world.cases[State.AMOUNTS_PENDING_APPROVAL].person
    checks = [
        (world.users[HR], reverse("employer_employees", args=[world.employer.pk]), submitted),
        (world.users[HR], reverse("employer_cases", args=[world.employer.pk]), submitted),
        (world.users[IN_CLERK], reverse("agency_queue", args=[world.in_agency.pk]), submitted),
        (world.users[IN_CLERK], reverse("agency_queue_csv", args=[world.in_agency.pk]), submitted),
        (world.users[OUT_REVIEWER], reverse("agency_approvals", args=[world.out_agency.pk]), pending),
        (submitted.user, reverse("my_applications"), submitted),
    ]
    for user, url, person in checks:
        body = consume(login(Client(), user, language="en").get(url)).decode()
        assert mask_document_number(person.document_number) in body, url
        assert person.document_number not in body, url


@pytest.mark.django_db
def test_searching_the_queue_by_full_id_number_keeps_it_out_of_the_address(world):
    person = world.cases[State.SUBMITTED].person
    client = login(Client(), world.users[IN_CLERK], language="en")
    response = client.get(reverse("agency_queue", args=[world.in_agency.pk]), {"q": person.document_number})
    assert response.status_code == 302
    assert person.document_number not in response.url
    page = client.get(response.url).content.decode()
    assert person.document_number not in page
    assert mask_document_number(person.document_number) in page


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(PARTIES))
def test_the_case_page_shows_the_masked_number_to_every_party(world, kind):
    """The case page shows the number masked to every party, the applicant included; the full number
    is printed only on the official forms (the PDF downloads), which the regulation requires."""
    case = world.cases[State.SUBMITTED]
    body = (
        login(Client(), world.user(kind, case), language="en")
        .get(reverse("case_detail", args=[case.reference]))
        .content.decode()
    )
    assert mask_document_number(case.person.document_number) in body
    assert case.person.document_number not in body


# --- the audit trail of views and downloads -----------------------------------------------------------


def records(user, case, what, object_id=None):
    found = AccessRecord.objects.filter(user=user, application=case, what=what)
    if object_id is not None:
        found = found.filter(object_id=object_id)
    return found.count()


@pytest.mark.django_db
def test_every_case_view_download_and_material_view_is_recorded(world):
    cells = 0
    for state, case in world.cases.items():
        for kind in sorted(PARTIES):
            user = world.user(kind, case)
            client = login(Client(), user, language="en")
            what = AccessRecord.What
            visits = [
                (reverse("case_detail", args=[case.reference]), what.VIEWED_CASE, None),
                (
                    reverse("download_document", args=[world.ready_documents[state].pk]),
                    what.DOWNLOADED_DOCUMENT,
                    world.ready_documents[state].pk,
                ),
                (
                    reverse("view_material", args=[world.materials[state].pk]),
                    what.VIEWED_MATERIAL,
                    world.materials[state].pk,
                ),
            ]
            if kind == OUT_CLERK:
                visits.append((reverse("contribution_table", args=[case.reference]), what.VIEWED_CASE, None))
            for url, kind_of_record, object_id in visits:
                before = records(user, case, kind_of_record, object_id)
                start = timezone.now()
                response = client.get(url)
                consume(response)
                assert response.status_code == 200, url
                assert records(user, case, kind_of_record, object_id) == before + 1, (kind, url)
                latest = AccessRecord.objects.filter(user=user, application=case).first()
                assert latest.at >= start
                cells += 1
    tally("case views, downloads and material views checked for an access record", cells)


@pytest.mark.django_db
def test_an_export_is_recorded_and_a_refused_look_is_not(world):
    clerk = world.users[IN_CLERK]
    consume(login(Client(), clerk, language="en").get(reverse("agency_queue_csv", args=[world.in_agency.pk])))
    assert AccessRecord.objects.filter(user=clerk, what=AccessRecord.What.EXPORTED).count() == 1
    outsider = world.users[OTHER_APPLICANT]
    case = world.cases[State.SUBMITTED]
    assert (
        login(Client(), outsider, language="en")
        .get(reverse("case_detail", args=[case.reference]))
        .status_code
        == 404
    )
    assert not AccessRecord.objects.filter(user=outsider).exists()


# --- append-only --------------------------------------------------------------------------------------


def audit_rows(world):
    """A case's first event, and the access record of a clerk's look at the case's page."""
    case = world.cases[State.SUBMITTED]
    user = world.users[IN_CLERK]
    event = CaseEvent.objects.filter(application=case).first()
    assert login(Client(), user).get(reverse("case_detail", args=[case.reference])).status_code == 200
    record = AccessRecord.objects.filter(
        user=user, application=case, what=AccessRecord.What.VIEWED_CASE
    ).first()
    return event, record


@pytest.mark.django_db
def test_the_audit_trail_cannot_be_changed_or_deleted_through_the_orm(world):
    event, record = audit_rows(world)
    attempts = 0
    for row, model in ((event, CaseEvent), (record, AccessRecord)):
        original = model.objects.filter(pk=row.pk).values().get()
        fresh = model.objects.get(pk=row.pk)
        if model is CaseEvent:
            fresh.note = "rewritten"
        else:
            fresh.what = AccessRecord.What.EXPORTED
        for attempt in (
            fresh.save,
            lambda fresh=fresh: fresh.save(update_fields=["at"]),
            fresh.delete,
            lambda model=model, row=row: model.objects.filter(pk=row.pk).update(at=timezone.now()),
            lambda model=model, row=row: model.objects.filter(pk=row.pk).delete(),
            lambda model=model: model.objects.all().delete(),
            lambda model=model, fresh=fresh: model.objects.bulk_update([fresh], ["at"]),
        ):
            with pytest.raises(PermissionDenied), transaction.atomic():
                attempt()
            attempts += 1
        assert model.objects.filter(pk=row.pk).values().get() == original
    # The case and the users the trail names cannot be deleted from under it either.
    with pytest.raises(ProtectedError), transaction.atomic():
        TransferApplication.objects.filter(pk=event.application_id).delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        world.users[IN_CLERK].delete()
    tally("attempts to change or delete the audit trail (ORM)", attempts + 2)


@pytest.mark.django_db
@pytest.mark.parametrize("model", [CaseEvent, AccessRecord, TransferApplication])
def test_the_admin_cannot_change_or_delete_the_audit_trail_or_a_case(world, model):
    event, record = audit_rows(world)
    row = {CaseEvent: event, AccessRecord: record, TransferApplication: world.cases[State.SUBMITTED]}[model]
    original = model.objects.filter(pk=row.pk).values().get()
    client = login(Client(), world.users[ADMIN], language="en")
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    changelist = client.get(base)
    assert changelist.status_code == 200
    assert "delete_selected" not in changelist.content.decode()  # no bulk delete action
    # The change page only shows the row (view permission): no form to save.
    view = client.get(f"{base}{row.pk}/change/")
    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()
    refused = [
        client.post(f"{base}{row.pk}/change/", {"note": "x", "what": "exported", "state": "completed"}),
        client.get(f"{base}{row.pk}/delete/"),
        client.post(f"{base}{row.pk}/delete/", {"post": "yes"}),
        client.get(f"{base}add/"),
        client.post(f"{base}add/", {}),
        client.post(base, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}),
    ]
    for response in refused[:-1]:
        assert response.status_code == 403, response.request
    # An unknown action is refused by the changelist (no action runs).
    assert refused[-1].status_code in (200, 302, 403)
    assert model.objects.filter(pk=row.pk).values().get() == original
    tally("attempts to change or delete the audit trail or a case (admin)", len(refused) + 1)
