"""CSV export of the current queue view."""

import csv
import datetime
import io
import re

import pytest
from django.utils import timezone, translation

from applications.models import AccessRecord, State
from applications.people.identifiers import mask_document_number
from tests.desk.conftest import case_in, user
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


@pytest.mark.parametrize(
    "name",
    [
        "=1+1",
        "+1+1",
        "-1+1",
        "@SUM(A1)",
        "\t=cmd|' /C calc'!A0",
        "\r=cmd|' /C calc'!A0",
        " =1+1",
        "＝1+1",  # full-width, as a Chinese input method types it
    ],
    ids=repr,
)
def test_every_formula_start_is_neutralised_in_the_export(client, world, name):
    person = InsuredPersonFactory(with_login=True, name=name)
    case_in(State.SUBMITTED, world["jiujiang"], world["hangzhou"], person=person)
    login(client, "clerk.hangzhou")
    _response, body = download(client, world["hangzhou"])
    assert rows_of(body)[1][4] == "'" + name


@pytest.mark.parametrize("name", ["欧阳娜娜", "买买提·艾力", "Jean-Luc", "-1"], ids=repr)
def test_names_that_cannot_run_are_exported_as_they_are(client, world, name):
    """ "-1" is a plain number: a spreadsheet reads it as one and never runs it, so it keeps its sign
    (the guard's decision for "-": only what is not a plain number gets the apostrophe)."""
    person = InsuredPersonFactory(with_login=True, name=name)
    case_in(State.SUBMITTED, world["jiujiang"], world["hangzhou"], person=person)
    login(client, "clerk.hangzhou")
    _response, body = download(client, world["hangzhou"])
    assert rows_of(body)[1][4] == name


def test_the_export_is_streamed_a_row_at_a_time(client, world):
    for _n in range(3):
        case_in(State.SUBMITTED, world["jiujiang"], world["hangzhou"])
    login(client, "clerk.hangzhou")
    response = client.get(csv_url(world["hangzhou"]))
    assert response.streaming
    chunks = list(response.streaming_content)
    assert len(chunks) == 4  # the header, then one chunk per case
    assert chunks[0].startswith(b"\xef\xbb\xbf") and all(chunk.endswith(b"\r\n") for chunk in chunks)


def test_the_export_is_in_chinese_by_default(client, world):
    case_in(State.SUBMITTED, world["jiujiang"], world["hangzhou"])
    login(client, "clerk.hangzhou", language="zh-hans")
    _response, body = download(client, world["hangzhou"])
    header = rows_of(body)[0]
    with translation.override("zh-hans"):
        assert header[0] == translation.gettext("Case reference")
    assert re.search(r"[\u4e00-\u9fff]", header[0])
