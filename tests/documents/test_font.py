"""The bundled font (scripts/make_font_subset) has what the forms need and its licence beside it."""

from fontTools.ttLib import TTFont

from applications.documents.renderer import BUNDLED_FONT


def gb2312_hanzi():
    for row in range(16, 88):
        for cell in range(1, 95):
            try:
                yield bytes([0xA0 + row, 0xA0 + cell]).decode("gb2312")
            except UnicodeDecodeError:
                continue


def test_the_subset_covers_gb2312_ascii_and_form_punctuation():
    font = TTFont(BUNDLED_FONT, lazy=True)
    cmap = font.getBestCmap()
    hanzi = list(gb2312_hanzi())
    assert len(hanzi) == 6763
    assert all(ord(char) in cmap for char in hanzi)
    assert all(code in cmap for code in range(0x20, 0x7F))
    assert all(ord(char) in cmap for char in "，。、；：？！（）《》【】“”—…·　０１２３４５６７８９〔〕〓¥")
    assert ord("喆") not in cmap  # rare name characters come from the system font


def test_the_subset_is_a_renamed_otf_with_its_licence():
    assert BUNDLED_FONT.read_bytes()[:4] == b"OTTO"  # CFF OpenType, not WOFF2
    font = TTFont(BUNDLED_FONT, lazy=True)
    assert font["name"].getDebugName(1) == "Noto Sans SC GB2312"
    assert "Open Font License" in font["name"].getDebugName(13)
    licence = BUNDLED_FONT.parent / "LICENSE-OFL.txt"
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence.read_text()
    assert BUNDLED_FONT.stat().st_size < 2_000_000
