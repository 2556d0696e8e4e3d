"""Helpers shared by the workflow tests and the integration tests: the five steps written down
independently of the workflow table, a small valid PDF, the renderer, and the rule for tests that need
PostgreSQL/Redis. The people, the cases in each state and logging in are tests/world.py's."""

import io
import os
import sys
import types
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from applications.cases.states import Party
from applications.models import DocumentKind, State
from tests.world import PERSONAL, POOLED, TOTAL

IN, OUT = "in", "out"

# The five steps as domain.md section 2 and issue 3 describe them, written down independently of
# applications/workflow.py: action -> (from states, to state, who, document, issuing agency,
# timestamp set, due date: None = cleared, a number = working days from today (pension), KEEP).
KEEP = "keep"
SPEC = {
    "submit": (
        {State.DRAFT}, State.SUBMITTED, Party.APPLICANT, DocumentKind.APPLICATION_FORM, IN, "submitted_at", 15,
    ),
    "withdraw": (
        {State.DRAFT, State.SUBMITTED, State.RETURNED}, State.WITHDRAWN, Party.APPLICANT, None, None,
        "closed_at", None,
    ),
    "return_for_correction": (
        {State.SUBMITTED}, State.RETURNED, Party.IN_CLERK, DocumentKind.WRITTEN_EXPLANATION, IN, None, None,
    ),
    "resubmit": (
        {State.RETURNED}, State.SUBMITTED, Party.APPLICANT, DocumentKind.APPLICATION_FORM, IN, "submitted_at",
        15,
    ),
    "refuse_by_transfer_in": (
        {State.SUBMITTED}, State.REFUSED, Party.IN_CLERK, DocumentKind.WRITTEN_EXPLANATION, IN, "closed_at",
        None,
    ),
    "send_contact_letter": (
        {State.SUBMITTED}, State.CONTACT_LETTER_SENT, Party.IN_CLERK, DocumentKind.CONTACT_LETTER, IN,
        "contact_letter_at", 15,
    ),
    "refuse_by_transfer_out": (
        {State.CONTACT_LETTER_SENT}, State.REFUSED, Party.OUT_CLERK, DocumentKind.WRITTEN_EXPLANATION, OUT,
        "closed_at", None,
    ),
    "enter_amounts": (
        {State.CONTACT_LETTER_SENT}, State.AMOUNTS_PENDING_APPROVAL, Party.OUT_CLERK, None, None, None, KEEP,
    ),
    "approve_amounts": (
        {State.AMOUNTS_PENDING_APPROVAL}, State.FUNDS_TRANSFERRED, Party.OUT_REVIEWER,
        DocumentKind.FUND_TRANSFER_RECORD, OUT, "funds_transferred_at", KEEP,
    ),
    "reject_amounts": (
        {State.AMOUNTS_PENDING_APPROVAL}, State.CONTACT_LETTER_SENT, Party.OUT_REVIEWER, None, None, None, KEEP,
    ),
    "send_information_form": (
        {State.FUNDS_TRANSFERRED}, State.INFORMATION_FORM_SENT, Party.OUT_CLERK, DocumentKind.INFORMATION_FORM,
        OUT, "information_form_at", 15,
    ),
    # With the amount received equal to the information form's total.
    "match_funds": (
        {State.INFORMATION_FORM_SENT, State.FUNDS_MISMATCH}, State.FUNDS_MATCHED, Party.IN_CLERK, None, None,
        None, KEEP,
    ),
    "complete": (
        {State.FUNDS_MATCHED}, State.COMPLETED, Party.IN_CLERK, DocumentKind.CONTINUATION_NOTICE, IN,
        "completed_at", None,
    ),
}  # fmt: skip

# What a user types into the action's form for the transition to go through.
VALID_DATA = {
    "return_for_correction": {"reason": "请补充上传身份证复印件"},
    "refuse_by_transfer_in": {"reason": "原参保地未暂停缴费", "legal_basis": "国办发〔2009〕66号 第八条"},
    "refuse_by_transfer_out": {"reason": "存在欠费", "legal_basis": "国办发〔2009〕66号 第八条"},
    "enter_amounts": {
        "personal_account_amount": PERSONAL,
        "pooled_fund_amount": POOLED,
        "remittance_reference": "HK-2026-001",
    },
    "reject_amounts": {"reason": "统筹基金金额有误"},
    "match_funds": {"received_amount": TOTAL},
}


def require_services(redis=False):
    """PostgreSQL (and Redis) or nothing: under PORTAL_REQUIRE_SERVICES the test fails, otherwise (a
    local SQLite run) it is skipped."""
    problems = []
    if connection.vendor != "postgresql":
        problems.append("needs PostgreSQL")
    if redis:
        if not settings.REDIS_URL:
            problems.append("needs Redis (REDIS_URL)")
        else:
            import redis as redis_client

            try:
                redis_client.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
            except redis_client.RedisError as error:
                problems.append(f"needs Redis ({error})")
    if problems:
        reason = "; ".join(problems)
        if os.environ.get("PORTAL_REQUIRE_SERVICES"):
            pytest.fail(f"PORTAL_REQUIRE_SERVICES is set: {reason}", pytrace=False)
        pytest.skip(reason)


def minimal_pdf(text: str = "test") -> bytes:
    """A small, valid one-page PDF (with a correct cross-reference table)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def documents_package_exists() -> bool:
    import applications

    return (Path(applications.__file__).parent / "documents" / "__init__.py").exists()


def install_renderer(monkeypatch):
    """The real renderer when applications/documents exists; otherwise a stand-in module whose
    render_official_document returns a small valid PDF. Returns (module, is_real)."""
    if documents_package_exists():
        import applications.documents as documents

        return documents, True
    documents = types.ModuleType("applications.documents")
    documents.render_official_document = lambda document: minimal_pdf(document.application.reference)
    monkeypatch.setitem(sys.modules, "applications.documents", documents)
    return documents, False
