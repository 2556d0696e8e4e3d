"""Resident IDs (GB 11643-1999), other identity documents and unified social credit codes (GB 32100-2015)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from agencies.models import Region
from agencies.reference import read_regions
from applications.models import DocumentType, Employer, InsuredPerson
from applications.models.people import check_document_number, region_exists
from applications.people.identifiers import (
    USCC_ALPHABET,
    check_foreign_permanent_residence,
    check_hk_macau_permit,
    check_resident_id,
    check_taiwan_permit,
    check_uscc,
    mask_document_number,
    resident_id_check_char,
)
from tests.conftest import is_chinese
from tests.factories import EmployerFactory, InsuredPersonFactory, resident_id, with_check_char

VALID_IDS = {
    "360426199101010071": ("M", datetime.date(1991, 1, 1)),
    "120103198806018241": ("F", datetime.date(1988, 6, 1)),
    "33010619850106005X": ("M", datetime.date(1985, 1, 6)),
}
VALID_USCCS = ["91110108551385082Q", "91110000600037341L"]
ID_ALPHABET = "0123456789X"

# The same snapshot the region table is loaded from, for tests that need no database.
KNOWN_CODES = frozenset(row["code"] for row in read_regions())


def known_code(code):
    return code in KNOWN_CODES


def error_code(check, *args):
    with pytest.raises(ValidationError) as caught:
        check(*args)
    return caught.value.code


def english_message(check, *args):
    with translation.override("en"):
        with pytest.raises(ValidationError) as caught:
            check(*args)
        return caught.value.messages[0]  # messages are lazy: render them while English is active


def single_character_changes(number, alphabet):
    for position, original in enumerate(number):
        for replacement in alphabet:
            if replacement != original:
                yield number[:position] + replacement + number[position + 1 :]


# --- resident IDs -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("number", VALID_IDS)
def test_valid_resident_ids_are_accepted_with_sex_and_birth_date(number):
    parsed = check_document_number(DocumentType.RESIDENT_ID, number)
    assert (parsed.sex, parsed.birth_date) == VALID_IDS[number]
    assert parsed.address_code == number[:6]


@pytest.mark.django_db
@pytest.mark.parametrize("number", VALID_IDS)
def test_every_single_character_change_of_a_valid_id_is_rejected(number):
    accepted = []
    for changed in single_character_changes(number, ID_ALPHABET):
        try:
            check_resident_id(changed, region_exists)
        except ValidationError:
            continue
        accepted.append(changed)
    assert accepted == []


def test_wrong_check_character_is_named():
    assert error_code(check_resident_id, "360426199101010072", known_code) == "checksum"
    assert "check character" in english_message(check_resident_id, "360426199101010072", known_code)


def test_impossible_birth_date_is_named():
    number = with_check_char("11010119900230001")  # right check character: only the date is wrong
    assert error_code(check_resident_id, number, known_code) == "birth_date"
    assert "19900230" in english_message(check_resident_id, number, known_code)


def test_future_birth_date_is_rejected():
    next_year = datetime.date.today() + datetime.timedelta(days=366)
    number = resident_id("110101", next_year, 12)
    assert error_code(check_resident_id, number, known_code) == "birth_date"


def test_lower_case_x_is_named():
    assert error_code(check_resident_id, "33010619850106005x", known_code) == "lowercase_x"
    assert "upper-case X" in english_message(check_resident_id, "33010619850106005x", known_code)


def test_unknown_address_code_with_a_correct_check_character_is_named():
    number = resident_id("999999", datetime.date(1990, 1, 1), 11)
    assert error_code(check_resident_id, number, known_code) == "address_code"
    assert "999999" in english_message(check_resident_id, number, known_code)


@pytest.mark.parametrize("number", ["36042619910101007", "3604261991010100711", ""])
def test_wrong_length_is_named(number):
    assert error_code(check_resident_id, number, known_code) == "length"
    assert f"this one has {len(number)}" in english_message(check_resident_id, number, known_code)


@pytest.mark.parametrize("number", ["36042619910101007A", "3604261991O101007X", "36042619910101007 "])
def test_other_characters_are_rejected(number):
    assert error_code(check_resident_id, number, known_code) == "format"


@pytest.mark.django_db
def test_retired_address_code_is_accepted():
    assert Region.objects.get(code="330103").current is False  # 下城区, merged into 拱墅区 in 2021
    number = resident_id("330103", datetime.date(1965, 4, 20), 26)
    parsed = check_document_number(DocumentType.RESIDENT_ID, number)
    assert (parsed.sex, parsed.birth_date) == ("F", datetime.date(1965, 4, 20))


@pytest.mark.django_db
def test_address_code_created_after_the_birth_year_is_accepted():
    # 余杭区 (330110) was created in 2001; the code is where the ID was issued, not where its holder
    # was born. python-stdnum compares the two and wrongly rejects the number, so it is not used.
    assert Region.objects.get(code="330110").first_seen == "200112"
    number = resident_id("330110", datetime.date(1972, 5, 8), 65)
    assert check_document_number(DocumentType.RESIDENT_ID, number).birth_date == datetime.date(1972, 5, 8)
    assert not ric.is_valid(number)


def stdnum_ric_check_char(first17):
    # python-stdnum's calc_check_digit takes the whole number and ignores its last character.
    return ric.calc_check_digit(first17 + "0")


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_resident_id_check_character_agrees_with_python_stdnum(first17):
    assert resident_id_check_char(first17) == stdnum_ric_check_char(first17)


@given(
    address=st.sampled_from(["110101", "330106", "330103", "360426", "120103", "460400", "650102"]),
    birth=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date.today()),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_ids_completed_by_python_stdnum_are_accepted_with_derived_fields(address, birth, sequence):
    first17 = f"{address}{birth:%Y%m%d}{sequence:03d}"
    parsed = check_resident_id(first17 + stdnum_ric_check_char(first17), known_code)
    assert parsed.birth_date == birth
    assert parsed.sex == ("M" if sequence % 2 else "F")


BAD_NUMBERS = {
    "checksum": (check_resident_id, "360426199101010072"),
    "birth_date": (check_resident_id, with_check_char("11010119900230001")),
    "lowercase_x": (check_resident_id, "33010619850106005x"),
    "address_code": (check_resident_id, with_check_char("99999919900101011")),
    "length": (check_resident_id, "36042619910101007"),
    "uscc checksum": (check_uscc, "91110108551385082R"),
    "uscc format": (check_uscc, "9111010855138508IQ"),
}


@pytest.mark.parametrize("problem", BAD_NUMBERS)
def test_every_identifier_error_is_translated_into_chinese(chinese_catalogue, problem):
    check, number = BAD_NUMBERS[problem]
    args = (number, known_code) if check is check_resident_id else (number,)
    with translation.override("en"):
        with pytest.raises(ValidationError) as caught:
            check(*args)
        msgid = str(caught.value.message)  # the message before its parameters are filled in
    assert is_chinese(chinese_catalogue.gettext(msgid)), msgid


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_identifier_errors_are_rendered_in_the_active_language(language):
    with translation.override(language):
        with pytest.raises(ValidationError) as caught:
            check_resident_id("360426199101010072", known_code)
        assert caught.value.messages == [
            translation.gettext("The check character of this ID number is wrong; please check every digit.")
        ]


# --- other identity documents -----------------------------------------------------------------------

FOREIGN_2023 = "911840198503150016"  # 9 + 2 province + 3 nationality (840: USA) + birth date + seq + check


@pytest.mark.parametrize(
    ("document_type", "number"),
    [
        (DocumentType.HK_MACAU_PERMIT, "H12345678"),
        (DocumentType.HK_MACAU_PERMIT, "M1234567801"),
        (DocumentType.TAIWAN_PERMIT, "12345678"),
        (DocumentType.TAIWAN_PERMIT, "1234567890"),
        (DocumentType.FOREIGN_PERMANENT_RESIDENCE, "USA123456789012"),
        (DocumentType.FOREIGN_PERMANENT_RESIDENCE, FOREIGN_2023),
    ],
)
def test_permit_formats_are_accepted(document_type, number):
    assert check_document_number(document_type, number) is None  # no sex or birth date to derive


@pytest.mark.parametrize(
    ("check", "number"),
    [
        (check_hk_macau_permit, "H1234567"),
        (check_hk_macau_permit, "h12345678"),
        (check_hk_macau_permit, "A12345678"),
        (check_hk_macau_permit, "H123456789"),
        (check_taiwan_permit, "1234567"),
        (check_taiwan_permit, "123456789"),
        (check_taiwan_permit, "T12345678"),
        (check_foreign_permanent_residence, "usa123456789012"),
        (check_foreign_permanent_residence, "USA12345678901"),
        (check_foreign_permanent_residence, "360426199101010071"),
        (check_foreign_permanent_residence, FOREIGN_2023[:-1] + "5"),
    ],
)
def test_permit_formats_are_rejected(check, number):
    with pytest.raises(ValidationError):
        check(number)


def test_foreign_residence_card_check_character_is_verified():
    assert FOREIGN_2023[-1] == resident_id_check_char(FOREIGN_2023[:17])
    assert error_code(check_foreign_permanent_residence, FOREIGN_2023[:-1] + "5") == "checksum"


# --- unified social credit codes --------------------------------------------------------------------


@pytest.mark.parametrize("code", VALID_USCCS)
def test_valid_credit_codes_are_accepted(code):
    check_uscc(code)


@pytest.mark.parametrize("code", VALID_USCCS)
def test_every_single_character_change_of_a_credit_code_is_rejected(code):
    accepted = []
    for changed in single_character_changes(code, USCC_ALPHABET):
        try:
            check_uscc(changed)
        except ValidationError:
            continue
        accepted.append(changed)
    assert accepted == []


def test_credit_code_errors_name_the_problem():
    assert error_code(check_uscc, "91110108551385082R") == "checksum"
    assert "check character" in english_message(check_uscc, "91110108551385082R")
    assert error_code(check_uscc, "91110108551385082") == "length"
    assert error_code(check_uscc, "9111010855138508IQ") == "format"  # I is not in the alphabet
    assert "I" in english_message(check_uscc, "9111010855138508IQ")
    assert error_code(check_uscc, "91110108551385082q") == "format"


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17), st.sampled_from(USCC_ALPHABET))
def test_credit_code_check_agrees_with_python_stdnum(first17, last):
    expected = uscc.calc_check_digit(first17)
    if last == expected:
        check_uscc(first17 + last)
    else:
        with pytest.raises(ValidationError):
            check_uscc(first17 + last)


@pytest.mark.django_db
def test_employer_with_a_wrong_credit_code_does_not_validate():
    employer = EmployerFactory.build(uscc="91110108551385082R")
    with pytest.raises(ValidationError) as caught:
        employer.full_clean()
    assert "uscc" in caught.value.message_dict
    assert Employer.objects.count() == 0


# --- the model ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sex_and_birth_date_always_follow_the_resident_id():
    person = InsuredPersonFactory(
        document_number="120103198806018241", sex="M", birth_date=datetime.date(2000, 1, 1)
    )
    person.refresh_from_db()
    assert (person.sex, person.birth_date) == ("F", datetime.date(1988, 6, 1))


@pytest.mark.django_db
def test_model_validation_attaches_identifier_errors_to_the_number():
    person = InsuredPersonFactory.build(document_number="360426199101010072")
    with pytest.raises(ValidationError) as caught:
        person.full_clean()
    assert caught.value.error_dict["document_number"][0].code == "checksum"


@pytest.mark.django_db
def test_a_document_number_is_registered_once():
    InsuredPersonFactory(document_number="360426199101010071")
    duplicate = InsuredPersonFactory.build(document_number="360426199101010071")
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        duplicate.full_clean()
    assert "already registered" in str(caught.value)
    assert InsuredPerson.objects.count() == 1


# --- masking ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("360426199101010071", "360***********0071"),
        ("33010619850106005X", "330***********005X"),
        ("USA123456789012", "USA********9012"),
        ("H12345678", "H12**5678"),
        ("1234567", "*******"),
        ("", ""),
    ],
)
def test_mask_document_number(number, masked):
    assert mask_document_number(number) == masked


@given(st.text(alphabet=ID_ALPHABET, min_size=8, max_size=18))
def test_masking_hides_the_middle_and_keeps_the_length(number):
    masked = mask_document_number(number)
    assert len(masked) == len(number)
    assert masked[3:-4] == "*" * (len(number) - 7)
