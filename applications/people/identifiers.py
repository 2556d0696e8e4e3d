"""Identifier checks: resident ID (GB 11643-1999), other identity documents, and the unified social
credit code of employers (GB 32100-2015).

Each check raises a ValidationError whose message names the problem in the user's language.
The address code of a resident ID is where the ID was first issued, not the hukou: it must exist in
the region table (current or retired), but it is never compared with the birth year. python-stdnum's
cn.ric check does that comparison and rejects real IDs, so it is not used here (domain.md section 5).
"""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc

RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK_CHARS = "10X98765432"

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class ResidentId:
    number: str
    address_code: str
    birth_date: datetime.date
    sex: str  # "M" or "F": the sequence code is odd for men, even for women


def resident_id_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK_CHARS[total % 11]


def _birth_date(digits: str, field_label) -> datetime.date:
    try:
        born = datetime.date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise ValidationError(
            _("The birth date %(date)s in the %(label)s is not a real date."),
            code="birth_date",
            params={"date": digits, "label": field_label},
        ) from None
    if born > datetime.date.today() or born.year < 1900:
        raise ValidationError(
            _("The birth date %(date)s in the %(label)s is not possible."),
            code="birth_date",
            params={"date": digits, "label": field_label},
        )
    return born


def check_resident_id(number: str, region_exists) -> ResidentId:
    """Check an 18-character resident ID; `region_exists(code)` says whether a division code is known."""
    label = _("ID number")
    if len(number) != 18:
        raise ValidationError(
            _("A resident ID number has 18 characters; this one has %(count)d."),
            code="length",
            params={"count": len(number)},
        )
    if number[17] == "x":
        raise ValidationError(_("The last character X must be an upper-case X."), code="lowercase_x")
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValidationError(
            _("A resident ID number has 17 digits followed by a digit or X."), code="format"
        )
    if resident_id_check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("The check character of this ID number is wrong; please check every digit."), code="checksum"
        )
    born = _birth_date(number[6:14], label)
    if not region_exists(number[:6]):
        raise ValidationError(
            _("The address code %(code)s at the start of the ID number is not a known division code."),
            code="address_code",
            params={"code": number[:6]},
        )
    return ResidentId(number, number[:6], born, "M" if int(number[16]) % 2 else "F")


def check_hk_macau_permit(number: str) -> None:
    """港澳居民来往内地通行证: H (Hong Kong) or M (Macau) and 8 digits (older permits: 10)."""
    if not re.fullmatch(r"[HM]\d{8}(\d{2})?", number):
        raise ValidationError(
            _(
                "A Mainland Travel Permit for Hong Kong and Macao Residents is H or M followed by 8 or 10 digits."
            ),
            code="format",
        )


def check_taiwan_permit(number: str) -> None:
    """台湾居民来往大陆通行证: 8 digits (permits since 2015), older ones 10 digits."""
    if not re.fullmatch(r"\d{8}|\d{10}", number):
        raise ValidationError(
            _("A Mainland Travel Permit for Taiwan Residents has 8 digits (older permits: 10)."),
            code="format",
        )


def check_foreign_permanent_residence(number: str) -> None:
    """外国人永久居留身份证: the 2017 card has 3 letters (nationality) and 12 digits; the 2023 card has
    18 characters starting with 9 and the GB 11643 check character."""
    if re.fullmatch(r"[A-Z]{3}\d{12}", number):
        return
    if re.fullmatch(r"9\d{16}[\dX]", number):
        if resident_id_check_char(number[:17]) != number[17]:
            raise ValidationError(
                _("The check character of this ID number is wrong; please check every digit."),
                code="checksum",
            )
        _birth_date(number[6:14], _("permanent residence ID number"))
        return
    raise ValidationError(
        _(
            "A Foreign Permanent Resident ID Card number is 3 letters and 12 digits, "
            "or 18 characters starting with 9."
        ),
        code="format",
    )


def check_uscc(code: str) -> None:
    """Check an 18-character unified social credit code (统一社会信用代码, GB 32100-2015). The check
    character is computed by python-stdnum's cn.uscc. Its `validate` is not used: it demands digits in
    the first two places, where GB 32100-2015 lets the registration authority and the type be letters
    (e.g. Y, "other authorities"), so it would refuse real codes."""
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(count)d."),
            code="length",
            params={"count": len(code)},
        )
    bad = [char for char in code if char not in USCC_ALPHABET]
    if bad:
        raise ValidationError(
            _("The character %(char)s cannot appear in a unified social credit code."),
            code="format",
            params={"char": bad[0]},
        )
    if uscc.calc_check_digit(code[:17]) != code[17]:
        raise ValidationError(
            _(
                "The check character of this unified social credit code is wrong; please check every character."
            ),
            code="checksum",
        )


def mask_document_number(number: str) -> str:
    """Show the first 3 and last 4 characters only, as lists and exports must."""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


# Document numbers as the identifiers module checks them: resident ID (and the old 15-digit one), the
# Hong Kong/Macao and Taiwan permits, and the foreign permanent residence card. A search that looks like
# one is matched against the full number only, never by parts.
DOCUMENT_NUMBER = re.compile(r"\d{17}[\dX]|\d{15}|[HM]\d{8}(\d{2})?|\d{8}|\d{10}|[A-Z]{3}\d{12}")


def looks_like_document_number(text: str) -> bool:
    return bool(DOCUMENT_NUMBER.fullmatch(text.strip().upper()))
