"""PortalURLFetcher serves the forms' own fonts and stylesheets and nothing else, and the renderer's
process-wide set-up (HarfBuzz-Subset, one FontConfiguration) holds."""

import logging
import os
import socket

import pytest

from applications.documents import renderer
from applications.documents.renderer import ASSETS_DIR, BUNDLED_FONT, ForbiddenURL, html_to_pdf

from .pdfcheck import attachments_of, decoded_streams, fonts_of, squash, text_of

STYLESHEET = ASSETS_DIR / "forms.css"


@pytest.fixture
def fetcher():
    return renderer.url_fetcher()


def test_it_is_a_weasyprint_url_fetcher(fetcher):
    from weasyprint.urls import URLFetcher

    assert isinstance(fetcher, URLFetcher)
    assert isinstance(fetcher, renderer.PortalURLFetcher)


def test_it_serves_the_bundled_font(fetcher):
    response = fetcher.fetch(BUNDLED_FONT.as_uri())
    assert response.read()[:4] == b"OTTO"  # an OpenType font with CFF outlines, not WOFF2
    assert response.content_type == "font/otf"


def test_it_serves_the_forms_stylesheet_as_css(fetcher):
    response = fetcher.fetch(STYLESHEET.as_uri())
    assert response.content_type == "text/css"  # WeasyPrint ignores a <link> stylesheet of another type
    assert b"@font-face" in response.read()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "https://127.0.0.1:9/x",
        "https://example.invalid/font.otf",
        "ftp://127.0.0.1:9/x",
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "file://otherhost/etc/passwd",
        "data:text/plain;base64,cm9vdDp4OjA6MA==",
        "/etc/passwd",
        "forms.css",  # relative: WeasyPrint always resolves against the base URL first
    ],
)
def test_it_refuses_everything_outside_the_allow_list(fetcher, url):
    with pytest.raises(ForbiddenURL):
        fetcher.fetch(url)


@pytest.mark.parametrize(
    "suffix",
    [
        "/../../../../../../etc/passwd",
        "/../../manage.py",
        "/../../transfer_portal/settings.py",
        "/%2e%2e/%2e%2e/manage.py",
        "/../fonts/../../.env.example",
        "/forms.css%00.otf",
    ],
)
def test_dot_dot_cannot_escape_static(fetcher, suffix):
    with pytest.raises(ForbiddenURL):
        fetcher.fetch(ASSETS_DIR.as_uri() + suffix)


def test_other_static_files_are_not_served(fetcher):
    """Only static/fonts/ and static/documents/: not the portal's own stylesheets or scripts."""
    with pytest.raises(ForbiddenURL):
        fetcher.fetch((ASSETS_DIR.parent / "css" / "portal.css").as_uri())
    with pytest.raises(ForbiddenURL):
        fetcher.fetch((ASSETS_DIR.parent / "fonts" / "LICENSE-OFL.txt").as_uri())  # not an asset type


def test_a_symbolic_link_cannot_escape(tmp_path, monkeypatch):
    assets = tmp_path / "documents"
    assets.mkdir()
    (assets / "evil.css").symlink_to("/etc/passwd")
    (assets / "good.css").write_text("p { color: black }")
    monkeypatch.setattr(renderer, "ASSETS_DIR", assets)
    fetcher = renderer.url_fetcher()
    with pytest.raises(ForbiddenURL):
        fetcher.fetch((assets / "evil.css").as_uri())
    assert fetcher.fetch((assets / "good.css").as_uri()).read() == b"p { color: black }"


def test_redirect_and_network_handlers_are_never_used(fetcher):
    # The urllib opener interface goes through the same checks.
    with pytest.raises(ForbiddenURL):
        fetcher.open("http://127.0.0.1:9/redirect-to-file")


@pytest.fixture
def listener():
    """A TCP port on the loopback that records whether anything connected to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    yield server
    server.close()


def connected(server) -> bool:
    try:
        connection, _address = server.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


def test_injected_markup_fetches_nothing_attaches_nothing_and_still_renders(listener, caplog):
    """Should markup ever get past autoescaping, the fetcher still stops it: no request leaves, no file
    is attached, and the document renders."""
    port = listener.getsockname()[1]
    html = f"""<!DOCTYPE html><html lang="zh-Hans"><head><link rel="stylesheet" href="forms.css">
      <link rel="attachment" href="file:///etc/passwd">
      <link rel="stylesheet" href="http://127.0.0.1:{port}/evil.css">
      <link rel="attachment" href="http://127.0.0.1:{port}/redirect">
      <link rel="attachment" href="data:text/plain;base64,cm9vdDp4OjA6MA==">
      <link rel="attachment" href="../../manage.py"></head>
      <body><p>参保人员 张伟</p>
      <img src="http://127.0.0.1:{port}/x"><img src="https://127.0.0.1:{port}/y"><img src="file:///etc/passwd">
      <a rel="attachment" href="file:///etc/passwd">附件</a>
      <div style="background: url(http://127.0.0.1:{port}/bg)"></div>
      <p style="font-family: x">x</p></body></html>"""
    with caplog.at_level(logging.ERROR, logger="weasyprint"):
        pdf = html_to_pdf(html)
    assert "张伟" in squash(text_of(pdf))
    assert attachments_of(pdf) == []
    assert not connected(listener)
    assert b"root:x:0:0" not in pdf
    assert b"root:x:0:0" not in decoded_streams(pdf)
    assert b"DJANGO_SETTINGS_MODULE" not in decoded_streams(pdf)
    assert "refused" in caplog.text  # WeasyPrint logged the refusals and went on


def test_the_attachment_check_would_notice_an_attachment():
    """The negative assertions above are not vacuous: an allowed file does get attached."""
    pdf = html_to_pdf('<html><head><link rel="attachment" href="forms.css"></head><body>x</body></html>')
    assert attachments_of(pdf)
    assert b"@font-face" in decoded_streams(pdf)


def test_harfbuzz_subset_is_loaded_here():
    renderer.require_harfbuzz_subset()


def test_missing_harfbuzz_subset_is_a_clear_error(monkeypatch):
    from weasyprint.text import ffi

    monkeypatch.setattr(ffi, "harfbuzz_subset", None)
    with pytest.raises(RuntimeError, match="libharfbuzz-subset0"):
        renderer.require_harfbuzz_subset()


def test_one_font_configuration_per_process():
    first = renderer.font_configuration()
    assert renderer.font_configuration() is first


def test_a_forked_process_makes_its_own_font_configuration_and_leaves_the_parents(monkeypatch):
    parent = renderer.font_configuration()
    html_to_pdf('<html><head><link rel="stylesheet" href="forms.css"></head><body>中文</body></html>')
    folder = parent._folder
    assert folder is not None and folder.exists()
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as seen from a child after fork
    child = renderer.font_configuration()
    assert child is not parent
    assert folder.exists()  # the parent's fonts are still there for the parent
    monkeypatch.undo()
    renderer._font_config, renderer._font_config_pid = parent, os.getpid()
    parent._folder = folder


def test_the_bundled_font_is_used_and_embedded():
    pdf = html_to_pdf(
        '<html><head><link rel="stylesheet" href="forms.css"></head><body>社会保险</body></html>'
    )
    fonts = fonts_of(pdf)
    assert list(fonts) and all("Noto-Sans-SC-GB2312" in name for name in fonts)
    assert all(files for files in fonts.values())


def test_too_old_harfbuzz_is_a_clear_error(monkeypatch):
    from types import SimpleNamespace

    from weasyprint.text import ffi

    monkeypatch.setattr(ffi, "harfbuzz", SimpleNamespace(hb_version_atleast=lambda *version: False))
    with pytest.raises(RuntimeError, match="4.1.0"):
        renderer.require_harfbuzz_subset()
