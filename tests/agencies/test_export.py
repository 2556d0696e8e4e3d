"""CSV export of the current queue view."""

import csv
import datetime
import io

import pytest
from django.utils import timezone

from agencies.views import csv_cell
from applications.identifiers import mask_document_number
from applications.models import AccessRecord, State
from tests.agencies.conftest import case_in, user
from tests.factories import InsuredPersonFactory
from tests.world import login

pytestmark = pytest.mark.django_db


def csv_url(agency):
    return f"/agency/{agency.pk}/queue.csv"


def download(client, agency, **params):
    response = client.get(csv_url(agency), params)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    return response, body


def rows_of(body):
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.parametrize("value", ["=1+1", "+86 138", "-2", "@SUM(A1)", "\t=cmd", "\r=cmd"])
def test_cells_that_look_like_formulas_get_a_leading_apostrophe(value):
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["张伟", "YL2026", "1+1", "a=b", "", None, "2026-01-05"])
def test_other_cells_are_left_alone(value):
    assert csv_cell(value) == ("" if value is None else value)


def test_the_export_is_utf8_with_bom_and_has_the_columns_of_the_queue(client, world):
    today = timezone.localdate()
    person = InsuredPersonFactory(with_login=True, name="欧阳娜娜")
    # Submitted 40 days ago: 15 working days are past, the contact letter is overdue.
    overdue = case_in(
        State.SUBMITTED,
        world["jiujiang"],
        world["hangzhou"],
        person=person,
        at=today - datetime.timedelta(days=40),
    )
    assert overdue.due_date < today
    later = case_in(State.INFORMATION_FORM_SENT, world["tianjin"], world["hangzhou"])
    login(client, "clerk.hangzhou", language="en")
    response, body = download(client, world["hangzhou"])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert body.startswith(b"\xef\xbb\xbf")
    rows = rows_of(body)
    assert rows[0] == [
        "Case reference", "Scheme", "State", "ID number (masked)", "Name", "Other agency", "Due date", "Overdue",
    ]  # fmt: skip
    assert rows[1] == [
        overdue.reference,
        "Basic pension insurance",
        "Submitted, awaiting the transfer-in agency",
        mask_document_number(person.document_number),
        "欧阳娜娜",
        world["jiujiang"].name,
        overdue.due_date.isoformat(),
        "yes",
    ]
    assert rows[2][0] == later.reference
    assert rows[2][5] == world["tianjin"].name
    assert rows[2][7] == "no"
    assert len(rows) == 3
    assert person.document_number.encode() not in body


def test_the_export_follows_the_filters_of_the_view_and_every_page(client, world):
    for _n in range(30):
        case_in(State.SUBMITTED, world["jiujiang"], world["hangzhou"])
    case_in(State.SUBMITTED, world["tianjin"], world["hangzhou"])
    case_in(State.FUNDS_MATCHED, world["jiujiang"], world["hangzhou"])
    login(client, "clerk.hangzhou", language="en")
    _response, body = download(
        client, world["hangzhou"], work="review", region="360000", per_page="10", page="2"
    )
    rows = rows_of(body)
    assert len(rows) == 31  # header and all 30 cases, not one page
    assert {row[5] for row in rows[1:]} == {world["jiujiang"].name}


def test_the_export_searches_by_full_id_number_without_writing_it(client, world):
    person = InsuredPersonFactory(with_login=True)
    case = case_in(State.SUBMITTED, world["jiujiang"], world["hangzhou"], person=person)
    case_in(State.SUBMITTED, world["jiujiang"], world["hangzhou"])
    login(client, "clerk.hangzhou", language="en")
    _response, body = download(client, world["hangzhou"], q=person.document_number)
    rows = rows_of(body)
    assert [row[0] for row in rows[1:]] == [case.reference]
    assert person.document_number.encode() not in body


def test_names_that_look_like_formulas_are_neutralised(client, world):
    person = InsuredPersonFactory(with_login=True, name='=HYPERLINK("http://evil.example","点击")')
    case_in(State.SUBMITTED, world["jiujiang"], world["hangzhou"], person=person)
    login(client, "clerk.hangzhou", language="en")
    _response, body = download(client, world["hangzhou"])
    assert rows_of(body)[1][4] == '\'=HYPERLINK("http://evil.example","点击")'


def test_exports_are_recorded_and_only_for_the_agencys_staff(client, world):
    login(client, "clerk.jiujiang", language="en")
    assert client.get(csv_url(world["hangzhou"])).status_code == 404
    login(client, "clerk.hangzhou", language="en")
    download(client, world["hangzhou"])
    assert (
        AccessRecord.objects.filter(user=user("clerk.hangzhou"), what=AccessRecord.What.EXPORTED).count() == 1
    )


def test_the_queue_page_links_to_the_export_of_the_same_view(client, world):
    login(client, "clerk.hangzhou", language="en")
    html = client.get(
        f"/agency/{world['hangzhou'].pk}/queue/", {"work": "funds", "due": "overdue", "page": "1"}
    ).content.decode()
    assert f'href="{csv_url(world["hangzhou"])}?work=funds&amp;due=overdue"' in html
