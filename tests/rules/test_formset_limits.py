"""A formset builds no more forms than it accepts: a post claiming TOTAL_FORMS=99999999999 built 1,100
forms (Django's absolute_max defaults to max_num + 1,000) and one such request took about a minute in the
probe. Every formset of the portal, the admin's inlines included, sets absolute_max to what it accepts,
and a post with more forms is refused with a message naming the limit."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.forms.formsets import BaseFormSet
from django.test import RequestFactory

from applications.models import ContributionYear, Employer
from applications.views import case_forms as forms_cases
from tests.rules.conftest import contact_letter_sent, draft
from tests.rules.test_contribution_table import GOOD, saved_events, table_url
from tests.world import login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_world")]

TOO_MANY = "A table has at most 100 rows; this one was sent with more."


@pytest.fixture
def letter_case():
    return contact_letter_sent(draft())


def post_rows(client, case, total, rows=()):
    client.cookies["django_language"] = "en"
    data = {"rows-TOTAL_FORMS": str(total), "rows-INITIAL_FORMS": "0", "rows-MAX_NUM_FORMS": "100"}
    for index, row in enumerate(rows):
        data.update({f"rows-{index}-{name}": value for name, value in row.items()})
    return client.post(table_url(case), data)


@pytest.mark.parametrize("total", ["99999999999", "1101", "101"])
def test_a_post_claiming_more_rows_than_allowed_is_refused_without_building_them(client, letter_case, total):
    login(client, "clerk.jiujiang")
    response = post_rows(client, letter_case, total, [GOOD])
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was saved." in page and TOO_MANY in page
    assert len(response.context["formset"].forms) <= 100
    assert not ContributionYear.objects.filter(application=letter_case).exists()
    assert not saved_events(letter_case).exists()


def test_a_full_table_of_100_rows_is_accepted(client, letter_case):
    login(client, "clerk.jiujiang")
    rows = [{**GOOD, "year": str(1950 + index)} for index in range(100)]
    response = post_rows(client, letter_case, 100, rows)
    assert response.status_code == 302
    assert ContributionYear.objects.filter(application=letter_case).count() == 100


def formset_classes(base=BaseFormSet):
    for subclass in base.__subclasses__():
        yield subclass
        yield from formset_classes(subclass)


def test_every_formset_of_the_portal_builds_at_most_what_it_accepts():
    ours = [
        formset
        for formset in formset_classes()
        if getattr(formset, "form", None) is not None
        and formset.form.__module__.split(".")[0] in ("applications", "agencies", "transfer_portal")
    ]
    assert forms_cases.ContributionRowFormSet in ours
    for formset in ours:
        assert formset.absolute_max == formset.max_num <= 1000, formset


def test_every_admin_inline_builds_at_most_what_it_accepts():
    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.filter(is_superuser=True).first() or get_user_model()(
        is_superuser=True, is_staff=True
    )
    inlines = 0
    for model_admin in admin.site._registry.values():
        for inline in model_admin.get_inline_instances(request):
            if not type(inline).__module__.startswith(("applications", "agencies")):
                continue  # a library's own inline (django-otp's tokens) keeps Django's default bound
            formset = inline.get_formset(request)
            assert formset.absolute_max == formset.max_num <= 1000, inline
            inlines += 1
    assert inlines >= 1


def test_the_admin_refuses_an_inline_post_with_too_many_forms(admin_client):
    employer = Employer.objects.first()
    url = f"/admin/applications/employer/{employer.pk}/change/"
    page = admin_client.get(url)
    prefix = page.context["inline_admin_formsets"][0].formset.prefix
    data = {
        "name": employer.name,
        "uscc": employer.uscc,
        "region": employer.region_id,
        f"{prefix}-TOTAL_FORMS": "99999999999",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "500",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    formset = response.context["inline_admin_formsets"][0].formset
    assert len(formset.forms) <= 500
    assert formset.non_form_errors()
