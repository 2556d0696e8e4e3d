"""Making typed text safe to set on an official form.

Measured on WeasyPrint 70 (tests/documents/test_injection.py):
- one character that no font has (a control character such as U+000B, a private-use character, a
  CJK Extension B character such as 𠀀 that Noto Sans CJK lacks) is drawn as .notdef and garbles the
  text layer of the whole PDF: nothing can be searched or copied any more, and a character missing from
  every font can also cost seconds of layout (WeasyPrint issue #2811);
- a bidirectional override (U+202E) visibly reverses the text after it: 张伟 could be made to read as
  another name on an official document.

So controls, format characters (bidi overrides, zero-width characters) and surrogates are removed, and a
character that neither font of forms.css has is replaced by 〓 (the geta mark, the traditional sign for a
character the type case lacks), with a warning in the log. Line breaks are kept.
"""

import functools
import logging
import unicodedata
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

PLACEHOLDER = "〓"
BUNDLED_FONT = Path(settings.BASE_DIR) / "static" / "fonts" / "NotoSansSC-Regular-GB2312.otf"
# The second family of forms.css, from Debian's fonts-noto-cjk (also installed in the image).
SYSTEM_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SYSTEM_FACE = "NotoSansCJKsc-Regular"
REMOVED_CATEGORIES = {"Cc", "Cf", "Cs"}  # controls, format characters, lone surrogates


def _cmap_of(path: Path, postscript_name: str | None = None) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() in (".ttc", ".otc"):
        collection = TTCollection(str(path), lazy=True)
        fonts = collection.fonts
    else:
        collection = None
        fonts = [TTFont(str(path), lazy=True)]
    try:
        for font in fonts:
            if postscript_name and font["name"].getDebugName(6) != postscript_name:
                continue
            # Numbered glyph names: reading the CFF charset for 65,535 names would cost ~20 MB more.
            font.setGlyphOrder([f"g{index}" for index in range(font["maxp"].numGlyphs)])
            return frozenset(font.getBestCmap())
        return frozenset()
    finally:
        if collection is not None:
            collection.close()
        else:
            fonts[0].close()


@functools.cache
def covered_codepoints() -> frozenset[int]:
    """What the fonts of forms.css can draw: the bundled subset, then the full system font."""
    codepoints = _cmap_of(BUNDLED_FONT)
    if SYSTEM_FONT.exists():
        codepoints |= _cmap_of(SYSTEM_FONT, SYSTEM_FACE)
    else:
        logger.warning("%s is missing (Debian fonts-noto-cjk): rare characters will show as 〓", SYSTEM_FONT)
    return codepoints


def clean_text(value: str) -> str:
    """`value` as it can be set: controls and format characters removed, characters no font has
    replaced by 〓, line breaks normalised to \\n and tabs to spaces."""
    covered = covered_codepoints()
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    cleaned = []
    missing = set()
    for char in value:
        if char == "\n" or (ord(char) in covered and unicodedata.category(char) not in REMOVED_CATEGORIES):
            cleaned.append(char)
        elif unicodedata.category(char) in REMOVED_CATEGORIES:
            continue
        else:
            cleaned.append(PLACEHOLDER)
            missing.add(char)
    if missing:
        # The code points only, never the text: it is personal data.
        logger.warning(
            "characters no form font has were printed as %s: %s",
            PLACEHOLDER,
            " ".join(sorted(f"U+{ord(char):04X}" for char in missing)),
        )
    return "".join(cleaned)


def clean_context(value):
    """Every string in a (nested) template context, cleaned."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {key: clean_context(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(clean_context(item) for item in value)
    return value
