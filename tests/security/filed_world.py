"""A small world of real cases for the privacy tests, built only through the workflow service (no state
written directly): 张伟 (an insured person whose login is his ID number) files pension and medical at once,
so the two cases share a filing reference; he uploads a material, submits both, and each has a rendered
application form; HR files for an employee; the transfer-in clerk sends the pension contact letter; people
look at the cases (access records), log in and fail to (django-axes' logs), and the admin changes a user
(the admin's history).

Use `filed_world` as a module fixture: it lives in a transaction rolled back at the module's end.
"""

import hashlib
from dataclasses import dataclass
from unittest import mock

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from applications.cases import services
from applications.documents import tasks as document_tasks
from applications.employers.bulk import BULK_DECLARATIONS
from applications.models import DocumentKind, MaterialKind, OfficialDocument, TransferApplication
from applications.notify import tasks as notify_tasks
from tests.factories import PASSWORD
from tests.workflow.helpers import minimal_pdf
from tests.world import World, build_small_world, login

User = get_user_model()

# A 1×1 PNG, small and valid: what an applicant uploads as a scan.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class FiledWorld:
    world: World
    pension: TransferApplication  # filed by 张伟; the contact letter is sent
    medical: TransferApplication  # its sibling (same filing reference), submitted
    employee_case: TransferApplication  # filed by HR for an employee
    document: OfficialDocument  # the pension application form, rendered


def render(document):
    """What the worker does, in short: the file and its digest (the task itself is tested elsewhere)."""
    content = minimal_pdf(f"{document.application.reference} {document.kind}")
    document.file.save(
        f"{document.application.reference}-{document.kind}.pdf", ContentFile(content), save=False
    )
    document.sha256 = hashlib.sha256(content).hexdigest()
    document.status = OfficialDocument.Status.READY
    document.rendered_at = timezone.now()
    document.save()
    return document


def build_filed_world():
    world = build_small_world()
    person = world.person
    world.applicant.set_password(PASSWORD)
    world.applicant.save()
    person.user = world.applicant
    pension, medical = services.create_drafts(
        person=person,
        schemes_and_agencies={"pension": (world.yl_out, world.yl_in), "medical": (world.yb_out, world.yb_in)},
        filed_by=person.user,
        declarations=dict(BULK_DECLARATIONS, gap_months=0),
    )
    services.add_material(pension, person.user, MaterialKind.ID_CARD, TINY_PNG, "image/png", "scan.png")
    for case in (pension, medical):
        services.advance(case, "submit", person.user)
    (employee_case,) = services.create_drafts(
        person=world.employee,
        schemes_and_agencies={"pension": (world.yl_out, world.yl_in)},
        filed_by=world.hr,
        filed_for_employer=world.employer,
        new_employer=world.employer,
        declarations=dict(BULK_DECLARATIONS, gap_months=0),
    )
    services.advance(employee_case, "submit", world.hr)
    pension.refresh_from_db()
    services.advance(pension, "send_contact_letter", world.in_clerk)
    for document in OfficialDocument.objects.filter(status=OfficialDocument.Status.PENDING):
        render(document)
    pension.refresh_from_db()
    medical.refresh_from_db()
    document = pension.documents.get(kind=DocumentKind.APPLICATION_FORM)

    # Looks at the cases (AccessRecord), logins and failed logins (django-axes, failure log included).
    applicant = Client()
    login(applicant, person.user)
    applicant.get(reverse("case_detail", args=[pension.reference]))
    b"".join(applicant.get(reverse("download_document", args=[document.pk])).streaming_content)
    b"".join(applicant.get(reverse("view_material", args=[pension.materials.get().pk])).streaming_content)
    with override_settings(AXES_ENABLE_ACCESS_FAILURE_LOG=True):
        for password in ("wrong-password", PASSWORD):
            Client().post(reverse("login"), {"username": person.document_number, "password": password})
        # A failure that no good login clears: it stays among the access attempts.
        Client().post(reverse("login"), {"username": world.other_person.document_number, "password": "x"})
    # The admin's history of a user, as the admin writes it.
    superuser = User.objects.get(username="admin")
    request = RequestFactory().get("/admin/")
    request.user = superuser
    admin.site._registry[User].log_change(request, person.user, [{"changed": {"fields": ["First name"]}}])
    return FiledWorld(world, pension, medical, employee_case, document)


@pytest.fixture(scope="module")
def filed_world_module(django_db_setup, django_db_blocker, tmp_path_factory):
    private = tmp_path_factory.mktemp("private")
    with (
        django_db_blocker.unblock(),
        override_settings(PRIVATE_STORAGE_DIR=private),
        mock.patch.object(document_tasks.render_document, "delay"),
        mock.patch.object(notify_tasks.send_notification_emails, "delay"),
    ):
        module_transaction = transaction.atomic()
        module_transaction.__enter__()
        try:
            yield build_filed_world(), private
        finally:
            transaction.set_rollback(True)
            module_transaction.__exit__(None, None, None)


@pytest.fixture
def filed_world(filed_world_module, db, settings):
    world, private = filed_world_module
    settings.PRIVATE_STORAGE_DIR = private
    return world


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")
