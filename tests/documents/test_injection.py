"""What a user types is shown as text on the official forms: never fetched, never attached.

Each payload goes into every user-typed field (name, address, employer name, reason, legal basis,
remittance reference, agent name), each field with its own marker so that the test sees every field
on the document that shows it.
"""

import logging

import pytest

from applications.documents import render_official_document, template_for
from applications.documents.context import document_context
from applications.documents.renderer import render_html
from applications.models import DocumentKind, Employer, InsuredPerson, TransferApplication
from tests.samples import sample_documents

from .pdfcheck import attachments_of, decoded_streams, squash, text_of

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<link rel=attachment href=file:///etc/passwd>",
    "<img src=http://127.0.0.1:9/x>",
    "file:///etc/passwd",
]

# field: (marker, the sample_case option, the documents that show it)
FIELDS = {
    "name": ("N", "name", list(DocumentKind.values)),
    "address": ("A", "address", [DocumentKind.APPLICATION_FORM]),
    "employer name": (
        "E",
        "employer_name",
        [DocumentKind.APPLICATION_FORM, DocumentKind.INFORMATION_FORM, DocumentKind.CONTINUATION_NOTICE],
    ),
    "reason": ("R", "reason", [DocumentKind.WRITTEN_EXPLANATION]),
    "legal basis": ("L", "legal_basis", [DocumentKind.WRITTEN_EXPLANATION]),
    "remittance reference": ("M", "remittance_reference", [DocumentKind.FUND_TRANSFER_RECORD]),
    "agent name": ("G", "agent_name", [DocumentKind.APPLICATION_FORM]),
}


def max_length(option):
    """How much the field behind a sample_case option holds (what a form lets a user type)."""
    if option in ("name", "address"):
        return InsuredPerson._meta.get_field(option).max_length
    if option == "employer_name":
        return Employer._meta.get_field("name").max_length
    return TransferApplication._meta.get_field(option).max_length


def typed_values(payload):
    """Each field's value: marker + payload, when the field can hold it (a form enforces max_length)."""
    values = {}
    for label, (marker, option, _kinds) in FIELDS.items():
        value = f"{marker}:{payload}"
        limit = max_length(option)
        if limit is None or len(value) <= limit:
            values[label] = value
    return values


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_every_user_field_show_as_text_and_nothing_is_attached(payload):
    values = typed_values(payload)
    # The remittance reference holds 40 characters: the 45-character <link> payload cannot be typed there.
    assert set(values) >= set(FIELDS) - {"remittance reference"}
    documents = sample_documents(**{FIELDS[label][1]: value for label, value in values.items()}, seed=7)
    for kind, document in documents.items():
        html = render_html(template_for(kind), document_context(document))
        pdf = render_official_document(document)
        text = squash(text_of(pdf))
        for label, value in values.items():
            if kind in FIELDS[label][2]:
                assert squash(value) in text, (kind, label)
        # Escaped, never markup:
        assert "<img src=http" not in html and "<link rel=attachment" not in html
        if "<" in payload:
            assert squash(payload.replace("<", "&lt;").replace(">", "&gt;")) in squash(html)
        assert attachments_of(pdf) == [], kind
        assert b"root:x:0:0" not in pdf
        assert b"root:x:0:0" not in decoded_streams(pdf), kind
        assert html.count("<link") == 1  # only the form's own stylesheet


def test_control_characters_and_long_unbroken_input_do_not_break_a_form():
    """A stray control character used to garble the whole PDF's text layer; a long unbroken string
    wraps inside its cell."""
    documents = sample_documents(
        name="张\x01伟\x0b",  # NUL cannot reach the database (Django forms refuse it)
        address="x" * 200,
        reason="第一行\n第二行\r\n" + "长" * 400,
        seed=8,
    )
    application = squash(text_of(render_official_document(documents[DocumentKind.APPLICATION_FORM])))
    assert "张伟" in application
    assert "x" * 200 in application
    explanation = text_of(render_official_document(documents[DocumentKind.WRITTEN_EXPLANATION]))
    assert "张伟" in squash(explanation)
    assert "第一行\n第二行" in explanation
    assert "长" * 400 in squash(explanation)


def test_a_bidi_override_cannot_make_a_name_read_backwards():
    documents = sample_documents(name="张\u202e伟", address="甲\u202e乙丙丁", seed=9)
    text = squash(text_of(render_official_document(documents[DocumentKind.APPLICATION_FORM])))
    assert "张伟" in text and "甲乙丙丁" in text
    assert "伟张" not in text and "丁丙乙" not in text


def test_a_character_no_font_has_is_marked_and_the_rest_stays_readable(caplog):
    """𠀀 (CJK Extension B) and private-use characters are in neither font: 〓 stands in for them."""
    documents = sample_documents(name="张𠀀伟", address="杭州\ue000路", seed=10)
    with caplog.at_level(logging.WARNING, logger="applications.documents.text"):
        pdf = render_official_document(documents[DocumentKind.APPLICATION_FORM])
    text = squash(text_of(pdf))
    assert "张〓伟" in text and "杭州〓路" in text
    assert "申请表" in text  # the rest of the text layer is intact
    assert "U+20000" in caplog.text and "张" not in caplog.text
