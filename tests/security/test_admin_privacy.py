"""Full ID numbers on the admin's pages: every changelist, change, delete and history page of every
registered model (and a user's password page), fetched as a superuser, shows ID numbers masked. The one
exception is the person's own change page (InsuredPerson), where the number is the record being edited."""

import importlib

import pytest
from axes.models import AccessAttempt, AccessLog
from django.apps import apps as django_apps
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from applications.models import InsuredPerson
from applications.people.identifiers import mask_document_number
from tests.security import filed_world as filed
from tests.security.conftest import tally
from tests.security.filed_world import body_of
from tests.world import login

pytestmark = pytest.mark.django_db
filed_world_module, filed_world = filed.filed_world_module, filed.filed_world

User = get_user_model()
OBJECTS_PER_MODEL = 5


def admin_pages():
    """(url, may show the full number) of every admin page with an object to show."""
    pages = [(reverse("admin:index"), False)]
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        pages.append((reverse("admin:{}_{}_changelist".format(*info)), False))
        for obj in model._default_manager.order_by("pk")[:OBJECTS_PER_MODEL]:
            own_record = model is InsuredPerson
            for view in ("change", "delete", "history"):
                pages.append(
                    (
                        reverse("admin:{}_{}_{}".format(*info, view), args=[obj.pk]),
                        own_record and view == "change",
                    )
                )
            if model is User:
                pages.append((reverse("admin:auth_user_password_change", args=[obj.pk]), False))
    return pages


def test_no_admin_page_shows_a_full_id_number_but_the_persons_own(filed_world):
    numbers = list(InsuredPerson.objects.values_list("document_number", flat=True))
    client = Client()
    login(client, User.objects.get(username="admin"))
    leaks, shown_on_own_page, checked = [], 0, 0
    for url, own_page in admin_pages():
        response = client.get(url)
        assert response.status_code in (200, 403), (url, response.status_code)
        body = body_of(response)
        checked += 1
        found = [number for number in numbers if number in body]
        if own_page:
            shown_on_own_page += bool(found)
        else:
            leaks += [f"{url}: {number}" for number in found]
    assert not leaks, "full ID numbers on admin pages:\n" + "\n".join(leaks)
    assert shown_on_own_page  # not vacuous: the person's own page does show the number
    tally("admin pages checked for full ID numbers", checked)


def test_the_admin_pages_name_insured_users_by_their_masked_number(filed_world):
    """Not a vacuous pass: the pages that named a user by their number now show it masked."""
    user = filed_world.world.applicant
    AccessAttempt.objects.update(username=user.username)  # the attempt left by the world, as his
    client = Client()
    login(client, User.objects.get(username="admin"))
    masked = mask_document_number(user.username)
    for url in (
        reverse("admin:auth_user_change", args=[user.pk]),
        reverse("admin:auth_user_delete", args=[user.pk]),
        reverse("admin:auth_user_history", args=[user.pk]),
        reverse("admin:auth_user_password_change", args=[user.pk]),
        reverse("admin:applications_caseevent_change", args=[filed_world.pension.events.first().pk]),
        reverse("admin:axes_accessattempt_change", args=[AccessAttempt.objects.get().pk]),
        reverse(
            "admin:axes_accesslog_change", args=[AccessLog.objects.filter(username=user.username).first().pk]
        ),
    ):
        assert masked in body_of(client.get(url)), url


def test_the_history_written_before_masking_is_masked_by_the_migration(filed_world):
    """LogEntry keeps str() of the object from the day the admin acted: rows from before the masking
    held full numbers; the data migration masks them (and nothing else)."""
    migration = importlib.import_module("applications.migrations.0013_mask_id_numbers_in_admin_history")
    user = filed_world.world.applicant
    old = LogEntry.objects.create(
        user=User.objects.get(username="admin"),
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
        object_repr=user.username,
        action_flag=CHANGE,
    )
    unrelated = LogEntry.objects.create(
        user=User.objects.get(username="admin"),
        content_type=ContentType.objects.get_for_model(InsuredPerson),
        object_id="1",
        object_repr="order 12345678",
        action_flag=CHANGE,
    )
    migration.mask_history(django_apps, None)
    old.refresh_from_db()
    unrelated.refresh_from_db()
    assert old.object_repr == mask_document_number(user.username)
    assert unrelated.object_repr == "order 12345678"
