"""HTML templates to PDF with WeasyPrint, safely and fast.

- WeasyPrint is imported inside the functions: importing it costs ~0.5 s (Pango, fontconfig, cffi), which
  web processes that never render should not pay. `PortalURLFetcher` is therefore built on first use
  (module `__getattr__`), as a real subclass of `weasyprint.urls.URLFetcher`.
- One FontConfiguration per process (`font_configuration`): a new one per render made memory swing by
  ~200 MiB and was slower (../shared/notes.md).
- HarfBuzz-Subset is required (`require_harfbuzz_subset`): without it WeasyPrint subsets fonts with
  fontTools and a Chinese page takes ~9 s instead of ~0.1 s.
- Every URL a document refers to goes through `PortalURLFetcher`, which serves only the project's own
  static/fonts/ and static/documents/ files and refuses everything else (see its docstring).
"""

import logging
import os
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)

STATIC_DIR = Path(settings.BASE_DIR) / "static"
FONTS_DIR = STATIC_DIR / "fonts"
ASSETS_DIR = STATIC_DIR / "documents"
# Relative URLs in the templates (the stylesheet) resolve against this; forms.css finds ../fonts/.
BASE_URL = ASSETS_DIR.resolve().as_uri() + "/"
BUNDLED_FONT = FONTS_DIR / "NotoSansSC-Regular-GB2312.otf"

# What the fetcher may serve, by extension; anything else in the allowed folders is refused too.
CONTENT_TYPES = {
    ".css": "text/css",
    ".otf": "font/otf",
    ".ttf": "font/ttf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}

_process_lock = threading.Lock()
_font_config = None
_font_config_pid = None
_harfbuzz_checked_pid = None
# WeasyPrint's FontConfiguration (Pango, fontconfig) is not meant to be shared between threads; one
# process renders one document at a time (Celery prefork runs one task per process anyway).
_render_lock = threading.Lock()


class ForbiddenURL(ValueError):
    """A document referred to something outside the allow-list. WeasyPrint logs it and goes on."""


def allowed_directories():
    return tuple(os.path.realpath(directory) for directory in (FONTS_DIR, ASSETS_DIR))


def resolve_allowed(url: str) -> Path:
    """The real path of a file: URL inside the allow-list, or ForbiddenURL.

    Only `file:` URLs naming a regular file below static/fonts/ or static/documents/, after resolving
    `..`, percent-escapes and symbolic links (realpath), with a known asset extension.
    """
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise ForbiddenURL(f"malformed URL refused: {url[:200]!r}") from error
    scheme = parts.scheme.lower()
    if scheme != "file":
        # http(s) and ftp would reach the network (SSRF, tracking); data: would let injected markup
        # attach or draw arbitrary bytes in an official document, and nothing of ours needs it.
        raise ForbiddenURL(f"{scheme or 'relative'} URL refused: {url[:200]!r}")
    if parts.netloc not in ("", "localhost"):
        raise ForbiddenURL(f"file URL on another host refused: {url[:200]!r}")
    try:
        real = os.path.realpath(url2pathname(unquote(parts.path)))
    except (ValueError, OSError) as error:  # e.g. an embedded NUL
        raise ForbiddenURL(f"file URL refused: {url[:200]!r}") from error
    if not any(real.startswith(directory + os.sep) for directory in allowed_directories()):
        raise ForbiddenURL(f"file outside the document assets refused: {url[:200]!r}")
    if Path(real).suffix.lower() not in CONTENT_TYPES or not os.path.isfile(real):
        raise ForbiddenURL(f"not a document asset: {url[:200]!r}")
    return Path(real)


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class PortalURLFetcher(URLFetcher):
        """Serves the project's own fonts, stylesheets and images; refuses everything else.

        Refused: http, https, ftp and every other scheme; data: URLs; file: URLs outside static/fonts/
        and static/documents/ (checked on the real path, so `..` and symbolic links cannot escape);
        redirects (nothing here follows one: no network handler is ever used). A refusal raises
        ForbiddenURL, which WeasyPrint logs and skips: the image is not drawn, the attachment is not
        attached, the render goes on.
        """

        def __init__(self, **kwargs):
            kwargs.update(allowed_protocols=("file",), allow_redirects=False, fail_on_errors=False)
            super().__init__(**kwargs)

        def fetch(self, url, headers=None):
            path = resolve_allowed(url)
            content_type = CONTENT_TYPES[path.suffix.lower()]
            return URLFetcherResponse(
                path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
            )

        def open(self, url, data=None, timeout=None):
            # urllib's opener interface, should anything call it: the same checks, never a handler.
            return self.fetch(getattr(url, "full_url", url))

    PortalURLFetcher.__module__ = __name__
    PortalURLFetcher.__qualname__ = "PortalURLFetcher"
    return PortalURLFetcher


_fetcher_class_cache = None


def __getattr__(name):
    """`renderer.PortalURLFetcher` imports WeasyPrint on first use, not when this module is imported."""
    global _fetcher_class_cache
    if name == "PortalURLFetcher":
        if _fetcher_class_cache is None:
            _fetcher_class_cache = _fetcher_class()
        return _fetcher_class_cache
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def url_fetcher():
    """A fresh fetcher per render (urllib openers keep per-request state)."""
    return __getattr__("PortalURLFetcher")()


def require_harfbuzz_subset():
    """Raise RuntimeError unless WeasyPrint loaded HarfBuzz-Subset (>= 4.1, what it needs to use it)."""
    from weasyprint.text import ffi

    if getattr(ffi, "harfbuzz_subset", None) is None:
        raise RuntimeError(
            "WeasyPrint could not load HarfBuzz-Subset (libharfbuzz-subset.so.0), so every Chinese page "
            "would take seconds to render. Install the Debian package libharfbuzz-subset0 "
            "(scripts/debian-packages does) and restart the worker."
        )
    if not ffi.harfbuzz.hb_version_atleast(4, 1, 0):
        raise RuntimeError(
            "HarfBuzz is older than 4.1.0, the first version whose HarfBuzz-Subset WeasyPrint uses: install "
            "a newer libharfbuzz-subset0 (Debian 12 has 6.0)."
        )


def font_configuration():
    """The process's one weasyprint FontConfiguration (made on first use, again after a fork)."""
    global _font_config, _font_config_pid
    pid = os.getpid()
    if _font_config is not None and _font_config_pid == pid:
        return _font_config
    with _process_lock:
        if _font_config is None or _font_config_pid != pid:
            from weasyprint.text.fonts import FontConfiguration

            if _font_config is not None:
                # Inherited through fork: its temporary font folder belongs to the parent, whose
                # FontConfiguration would lose its fonts if this copy's __del__ removed the folder.
                _font_config._folder = None
            _font_config = FontConfiguration()
            _font_config_pid = pid
    return _font_config


def _check_once():
    global _harfbuzz_checked_pid
    if _harfbuzz_checked_pid != os.getpid():
        require_harfbuzz_subset()
        progress = logging.getLogger("weasyprint.progress")
        if progress.level == logging.NOTSET:
            # Seven INFO lines per render ("Step 1 - Fetching and parsing HTML", ...) unless LOGGING
            # says otherwise; refusals and other problems come from the "weasyprint" logger.
            progress.setLevel(logging.WARNING)
        _harfbuzz_checked_pid = os.getpid()


def render_html(template_name, context) -> str:
    # The forms are Chinese official documents whatever language the request or task runs in.
    with translation.override("zh-hans"):
        return render_to_string(template_name, context)


def html_to_pdf(html: str, stylesheets=None) -> bytes:
    """PDF bytes of an HTML string whose relative URLs resolve inside static/documents/."""
    from weasyprint import HTML

    _check_once()
    config = font_configuration()
    with _render_lock:
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=url_fetcher())
        return document.write_pdf(font_config=config, stylesheets=stylesheets)


def render_to_pdf(template_name, context) -> tuple[str, bytes]:
    """Render a template to HTML and that HTML to PDF; returns both (tests read the HTML)."""
    html = render_html(template_name, context)
    return html, html_to_pdf(html)
