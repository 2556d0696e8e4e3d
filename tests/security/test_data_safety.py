"""Data safety: money is Decimal from the form to the database and back (never a float, never more than two
decimals); the database itself refuses a completed case whose received amount differs from the
information form's total; and verify_documents notices a stored file whose bytes changed."""

import ast
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, models, transaction
from django.test import Client
from django.urls import reverse

from applications.models import OfficialDocument, State, TransferApplication
from applications.models.cases import StateWriteRefused
from tests.security.conftest import IN_CLERK, OUT_CLERK, OUT_REVIEWER, tally
from tests.world import login

ROOT = Path(__file__).resolve().parents[2]


def post_action(world, kind, case, action, data):
    client = login(Client(), world.users[kind], language="en")
    case = TransferApplication.objects.get(pk=case.pk)
    response = client.post(
        reverse("case_action", args=[case.reference, action]),
        {**data, "expected_state": case.state},
        follow=True,
    )
    assert response.status_code == 200
    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    return TransferApplication.objects.get(pk=case.pk), messages


# (typed amount, stored as) — None: refused, the case does not move.
AMOUNTS = [
    ("100.001", None),
    ("0.005", None),
    ("12345.678", None),
    ("-1.00", None),
    ("NaN", None),
    ("Infinity", None),
    ("1,000.00", None),
    ("1e-3", None),
    ("123456789012345.00", None),  # more digits than the column holds
    ("abc", None),
    ("", None),
    ("100", Decimal("100")),
    ("100.1", Decimal("100.1")),
    ("0.10", Decimal("0.10")),
    ("12345.67", Decimal("12345.67")),
    ("１００.５０", Decimal("100.50")),  # full-width digits, as a Chinese input method types them
    ("1e3", Decimal("1000")),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "stored"), AMOUNTS)
def test_entered_amounts_are_decimal_with_at_most_two_places(world, typed, stored):
    case = world.cases[State.CONTACT_LETTER_SENT]
    data = {"personal_account_amount": typed, "pooled_fund_amount": "200.00", "remittance_reference": "R"}
    after, messages = post_action(world, OUT_CLERK, case, "enter_amounts", data)
    if stored is None:
        assert after.state == State.CONTACT_LETTER_SENT
        assert after.personal_account_amount is None and after.transfer_total is None
        assert any(level == "error" for level, _text in messages), messages
    else:
        assert after.state == State.AMOUNTS_PENDING_APPROVAL
        assert isinstance(after.personal_account_amount, Decimal)
        assert after.personal_account_amount == stored
        assert after.transfer_total == stored + Decimal("200.00")
        assert isinstance(after.transfer_total, Decimal)
    tally("typed amounts checked", 1)


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["1.005", "-0.01", "NaN", "1e-5", "99999999999999999"])
def test_a_received_amount_with_three_decimals_is_refused(world, typed):
    case = world.cases[State.INFORMATION_FORM_SENT]
    after, messages = post_action(world, IN_CLERK, case, "match_funds", {"received_amount": typed})
    assert after.state == State.INFORMATION_FORM_SENT
    assert after.received_amount is None
    assert any(level == "error" for level, _text in messages)
    tally("typed amounts checked", 1)


@pytest.mark.django_db
def test_cents_add_up_exactly_from_entry_to_continuation(world):
    """0.10 + 0.20 is 0.30 exactly (in binary floating point it is not), through the whole money path:
    amounts entered, approved, information form, 0.30 received, matched, completed."""
    case = world.cases[State.CONTACT_LETTER_SENT]
    case, _ = post_action(
        world,
        OUT_CLERK,
        case,
        "enter_amounts",
        {"personal_account_amount": "0.10", "pooled_fund_amount": "0.20"},
    )
    assert case.transfer_total == Decimal("0.30")
    case, _ = post_action(world, OUT_REVIEWER, case, "approve_amounts", {})
    case, _ = post_action(world, OUT_CLERK, case, "send_information_form", {})
    case, _ = post_action(world, IN_CLERK, case, "match_funds", {"received_amount": "0.30"})
    assert case.state == State.FUNDS_MATCHED
    case, _ = post_action(world, IN_CLERK, case, "complete", {})
    assert case.state == State.COMPLETED
    raw = (
        TransferApplication.objects.filter(pk=case.pk).values_list("transfer_total", "received_amount").get()
    )
    assert raw == (Decimal("0.30"), Decimal("0.30"))
    assert all(type(value) is Decimal for value in raw)


def test_money_fields_are_decimal_and_money_code_uses_no_float():
    money_words = ("amount", "balance", "base", "interest", "total")
    fields = 0
    for model in apps.get_app_config("applications").get_models():
        for field in model._meta.get_fields():
            if any(word in field.name for word in money_words) and isinstance(field, models.Field):
                if field.is_relation or field.name.endswith("_by"):
                    continue
                fields += 1
                assert isinstance(field, models.DecimalField), f"{model.__name__}.{field.name}"
                assert field.decimal_places == 2, f"{model.__name__}.{field.name}"
    assert fields >= 9
    money_code = [
        ROOT / "applications" / "rules" / "money.py",
        *(ROOT / "applications" / "cases").glob("*.py"),
        ROOT / "applications" / "views" / "case_forms.py",
        *(ROOT / "applications" / "documents").glob("*.py"),
    ]
    for path in money_code:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "float":
                raise AssertionError(f"{path.name}:{node.lineno} converts to float")
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                raise AssertionError(f"{path.name}:{node.lineno} has a float literal {node.value}")
    tally("money fields checked for Decimal", fields)


# --- the database constraint ---------------------------------------------------------------------------


def raw_update(assignments, pk):
    """An UPDATE in raw SQL (the table name is the model's own, not input)."""
    name = connection.ops.quote_name(TransferApplication._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {name} SET {assignments} WHERE id = %s", [pk])  # noqa: S608


@pytest.mark.django_db
def test_the_database_refuses_a_completed_case_whose_money_does_not_match(world):
    completed = world.cases[State.COMPLETED]
    mismatch = world.cases[State.FUNDS_MISMATCH]
    attempts = [
        # The ORM's update (no model code runs, only the database checks).
        lambda: TransferApplication.objects.filter(pk=completed.pk).update(received_amount=Decimal("1.00")),
        lambda: TransferApplication.objects.filter(pk=completed.pk).update(received_amount=None),
        lambda: TransferApplication.objects.filter(pk=completed.pk).update(transfer_total=None),
        lambda: TransferApplication.objects.filter(pk=mismatch.pk).update(state=State.COMPLETED),
        # Raw SQL.
        lambda: raw_update("received_amount = received_amount + 0.01", completed.pk),
        lambda: raw_update("state = 'completed'", mismatch.pk),
    ]
    for attempt in attempts:
        # The database refuses (IntegrityError); a queryset update of the state is refused before it.
        with pytest.raises((IntegrityError, StateWriteRefused)), transaction.atomic():
            attempt()
    completed.refresh_from_db()
    assert completed.received_amount == completed.transfer_total
    # Even with matching money a raw write of the state is refused: only the workflow service moves a case.
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_update(f"state = 'completed', received_amount = {mismatch.transfer_total}", mismatch.pk)
    tally("mismatched completions tried against the database", len(attempts))


# --- verify_documents ----------------------------------------------------------------------------------


def verify():
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_documents", stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), err.getvalue()  # manage.py exits with this code
    return 0, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_verify_documents_notices_a_changed_file(world, private_storage_dir):
    ready = OfficialDocument.objects.filter(status=OfficialDocument.Status.READY).count()
    code, out, err = verify()
    assert code == 0, err
    assert "0 problems" in out and f"{ready + len(world.materials)} files checked" in out

    document = world.ready_documents[State.SUBMITTED]
    path = Path(document.file.path)
    original = path.read_bytes()
    try:
        path.write_bytes(original.replace(b"%%EOF", b"%%EOF\n% one byte more"))
        code, out, err = verify()
        assert code == 1
        assert document.file.name in err and "CHANGED" in err
        assert "1 problems" in out

        path.unlink()
        code, out, err = verify()
        assert code == 1 and "MISSING" in err and document.file.name in err
    finally:
        path.write_bytes(original)
    code, out, err = verify()
    assert code == 0, err
    tally("verify_documents runs", 4)
