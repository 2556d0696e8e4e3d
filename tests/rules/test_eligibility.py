"""Eligibility (国办发〔2009〕66号 art. 4, 5, 8; 医保办发〔2021〕43号): every outcome with its reasons and
legal basis, the birthday edge cases, and the reasons as sentences in Chinese and English."""

import dataclasses
import datetime
import inspect
import re

import pytest
from django.utils import translation
from django.utils.html import escape
from hypothesis import given
from hypothesis import strategies as st

from applications.cases import eligibility as portal_eligibility
from applications.cases.eligibility import OUTCOME_TEXT, REASON_TEXT, assess_case, explain, situation_for
from applications.models import DocumentType
from applications.rules import eligibility as rules
from applications.rules.ages import age_on, birthday_in
from applications.rules.eligibility import Outcome, Situation, assess
from tests.factories import InsuredPersonFactory, region, resident_id
from tests.rules.conftest import demo_employer, draft, person, submitted, user
from tests.world import clock_at, login

D = datetime.date
ART4, ART5, ART8 = "国办发〔2009〕66号 第四条", "国办发〔2009〕66号 第五条", "国办发〔2009〕66号 第八条"
MED = "医保办发〔2021〕43号"
JIANGXI, ZHEJIANG, SICHUAN = "36", "33", "51"


def situation(**changes):
    """A man born 1 January 1991 (35 on the application date), hukou in Jiangxi, moving his pension from
    Jiangxi to Zhejiang, contributions paused, nothing else declared."""
    base = Situation(
        scheme="pension",
        sex="M",
        birth_date=D(1991, 1, 1),
        application_date=D(2026, 3, 2),
        hukou_province=JIANGXI,
        transfer_out_province=JIANGXI,
        transfer_in_province=ZHEJIANG,
    )
    return dataclasses.replace(base, **changes)


# A man over 50 with hukou in Sichuan, moving from Jiangxi to Zhejiang (the age rule would apply).
OLDER_MAN = {"birth_date": D(1972, 5, 8), "hukou_province": SICHUAN}


def medical(**changes):
    return situation(scheme="medical", **changes)


# (id, situation, outcome, [(reason code, basis, params)], [advice codes with params])
CASES = [
    # Pension: the relationship and the funds move.
    (
        "young man moving out of his hukou province",
        situation(),
        Outcome.TRANSFER,
        [("under_age_limit", ART5, {"age": 35, "limit": 50})],
        [],
    ),
    (
        "man of 53 returning to his hukou province",
        situation(birth_date=D(1972, 5, 8), hukou_province=ZHEJIANG),
        Outcome.TRANSFER,
        [("returning_to_hukou", ART5, {})],
        [],
    ),
    (
        "man of 53 with an approved job transfer",
        situation(**OLDER_MAN, approved_job_transfer=True),
        Outcome.TRANSFER,
        [("job_transfer", ART5, {})],
        [],
    ),
    (
        "man of 53 moving inside one province (not his hukou province)",
        situation(**OLDER_MAN, transfer_out_province=ZHEJIANG),
        Outcome.TRANSFER,
        [("same_province", ART5, {})],
        [],
    ),
    (
        "woman of 25 inside one province",
        situation(sex="F", birth_date=D(2001, 1, 1), transfer_out_province=ZHEJIANG),
        Outcome.TRANSFER,
        [("same_province", ART5, {})],
        [],
    ),
    # Pension: the age rule opens a temporary account.
    (
        "man of 53 moving to a province that is not his hukou province",
        situation(**OLDER_MAN),
        Outcome.TEMPORARY_ACCOUNT,
        [("age_rule", ART5, {"age": 53, "limit": 50})],
        [],
    ),
    (
        "woman of 45 moving to a province that is not her hukou province",
        situation(sex="F", birth_date=D(1980, 7, 1)),
        Outcome.TEMPORARY_ACCOUNT,
        [("age_rule", ART5, {"age": 45, "limit": 40})],
        [],
    ),
    (
        "man of 45 is below the men's limit of 50",
        situation(birth_date=D(1980, 7, 1)),
        Outcome.TRANSFER,
        [("under_age_limit", ART5, {"age": 45, "limit": 50})],
        [],
    ),
    (
        "man of 53 without hukou (foreign permanent resident): the age rule applies",
        situation(birth_date=D(1972, 5, 8), hukou_province=None),
        Outcome.TEMPORARY_ACCOUNT,
        [("age_rule", ART5, {"age": 53, "limit": 50})],
        [],
    ),
    (
        "woman of 30 without hukou",
        situation(sex="F", birth_date=D(1995, 6, 1), hukou_province=None),
        Outcome.TRANSFER,
        [("under_age_limit", ART5, {"age": 30, "limit": 40})],
        [],
    ),
    (
        "a pension transfer is not held up by a hospital stay",
        situation(in_hospital=True),
        Outcome.TRANSFER,
        [("under_age_limit", ART5, {"age": 35, "limit": 50})],
        [],
    ),
    # Pension: not possible now, with what to do first.
    ("retired", situation(retired=True), Outcome.NOT_NOW, [("retired", ART4, {})], []),
    (
        "not paused",
        situation(contributions_paused=False),
        Outcome.NOT_NOW,
        [("not_paused", ART8, {})],
        [],
    ),
    ("arrears", situation(arrears=True), Outcome.NOT_NOW, [("arrears", ART8, {})], []),
    (
        "unfinished transfer",
        situation(unfinished_transfer=True),
        Outcome.NOT_NOW,
        [("unfinished_transfer", ART8, {})],
        [],
    ),
    (
        "every precondition missing at once: every reason is listed",
        situation(
            **OLDER_MAN, retired=True, contributions_paused=False, arrears=True, unfinished_transfer=True
        ),
        Outcome.NOT_NOW,
        [
            ("retired", ART4, {}),
            ("not_paused", ART8, {}),
            ("arrears", ART8, {}),
            ("unfinished_transfer", ART8, {}),
        ],
        [],
    ),
    (
        "arrears block even a move back to the hukou province",
        situation(transfer_in_province=JIANGXI, transfer_out_province=ZHEJIANG, arrears=True),
        Outcome.NOT_NOW,
        [("arrears", ART8, {})],
        [],
    ),
    # Medical insurance.
    (
        "medical: the employee account moves",
        medical(),
        Outcome.TRANSFER,
        [("employee_account_moves", MED, {})],
        [],
    ),
    (
        "medical: no age rule for a man of 53 outside his hukou province",
        medical(**OLDER_MAN),
        Outcome.TRANSFER,
        [("employee_account_moves", MED, {})],
        [],
    ),
    (
        "medical: employee to resident, the account balance moves",
        medical(new_medical_kind="resident"),
        Outcome.TRANSFER,
        [("employee_account_moves", MED, {})],
        [],
    ),
    (
        "medical: resident to employee, the relationship moves",
        medical(old_medical_kind="resident"),
        Outcome.TRANSFER,
        [("relationship_moves", MED, {})],
        [],
    ),
    (
        "medical: retirees do not transfer",
        medical(retired=True),
        Outcome.NOT_NOW,
        [("retired", MED, {})],
        [],
    ),
    ("medical: in hospital", medical(in_hospital=True), Outcome.NOT_NOW, [("in_hospital", MED, {})], []),
    ("medical: arrears", medical(arrears=True), Outcome.NOT_NOW, [("arrears", MED, {})], []),
    (
        "medical: not paused",
        medical(contributions_paused=False),
        Outcome.NOT_NOW,
        [("not_paused", MED, {})],
        [],
    ),
    (
        "medical: unfinished transfer",
        medical(unfinished_transfer=True),
        Outcome.NOT_NOW,
        [("unfinished_transfer", MED, {})],
        [],
    ),
    (
        "medical: resident to resident from next year's enrolment",
        medical(old_medical_kind="resident", new_medical_kind="resident"),
        Outcome.NEXT_YEAR,
        [("resident_next_year", MED, {})],
        [],
    ),
    (
        "medical: a gap of 1 month can be back-paid",
        medical(gap_months=1),
        Outcome.TRANSFER,
        [("employee_account_moves", MED, {})],
        [("gap_back_pay", {"months": 1})],
    ),
    (
        "medical: a gap of exactly 3 months can still be back-paid",
        medical(gap_months=3),
        Outcome.TRANSFER,
        [("employee_account_moves", MED, {})],
        [("gap_back_pay", {"months": 3})],
    ),
    (
        "medical: a gap of 4 months means a waiting period",
        medical(gap_months=4),
        Outcome.TRANSFER,
        [("employee_account_moves", MED, {})],
        [("gap_waiting_period", {"months": 4})],
    ),
    (
        "medical: resident to resident with a gap of 7 months",
        medical(old_medical_kind="resident", new_medical_kind="resident", gap_months=7),
        Outcome.NEXT_YEAR,
        [("resident_next_year", MED, {})],
        [("gap_waiting_period", {"months": 7})],
    ),
    (
        "medical: no gap, no advice",
        medical(gap_months=0),
        Outcome.TRANSFER,
        [("employee_account_moves", MED, {})],
        [],
    ),
]


@pytest.mark.parametrize(
    ("situation_", "outcome", "reasons", "advice"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_outcome_and_reasons(situation_, outcome, reasons, advice):
    result = assess(situation_)
    assert result.outcome == outcome
    assert [(r.code, r.basis, r.params) for r in result.reasons] == reasons
    assert [(a.code, a.params) for a in result.advice] == advice
    assert all(a.basis == MED for a in result.advice)


# The birthday itself: a person reaches an age on the birthday (周岁).
AGE_EDGES = [
    (
        "woman turning 40 on the application date",
        "F",
        D(1986, 3, 2),
        D(2026, 3, 2),
        Outcome.TEMPORARY_ACCOUNT,
        40,
    ),
    ("woman the day before her 40th birthday", "F", D(1986, 3, 2), D(2026, 3, 1), Outcome.TRANSFER, 39),
    (
        "man turning 50 on the application date",
        "M",
        D(1976, 3, 2),
        D(2026, 3, 2),
        Outcome.TEMPORARY_ACCOUNT,
        50,
    ),
    ("man the day before his 50th birthday", "M", D(1976, 3, 2), D(2026, 3, 1), Outcome.TRANSFER, 49),
    # Born 29 February: in a common year the birthday is 28 February (民法典 art. 202).
    (
        "man born 29 Feb 1976 on 28 Feb 2026",
        "M",
        D(1976, 2, 29),
        D(2026, 2, 28),
        Outcome.TEMPORARY_ACCOUNT,
        50,
    ),
    ("man born 29 Feb 1976 on 27 Feb 2026", "M", D(1976, 2, 29), D(2026, 2, 27), Outcome.TRANSFER, 49),
    (
        "woman born 29 Feb 1988 on 28 Feb 2028 (leap year)",
        "F",
        D(1988, 2, 29),
        D(2028, 2, 28),
        Outcome.TRANSFER,
        39,
    ),
    (
        "woman born 29 Feb 1988 on 29 Feb 2028 (leap year)",
        "F",
        D(1988, 2, 29),
        D(2028, 2, 29),
        Outcome.TEMPORARY_ACCOUNT,
        40,
    ),
]


@pytest.mark.parametrize(
    ("sex", "born", "on", "outcome", "age"), [c[1:] for c in AGE_EDGES], ids=[c[0] for c in AGE_EDGES]
)
def test_the_age_rule_on_and_around_the_birthday(sex, born, on, outcome, age):
    result = assess(situation(sex=sex, birth_date=born, application_date=on))
    assert result.outcome == outcome
    (reason,) = result.reasons
    assert reason.params == {"age": age, "limit": 40 if sex == "F" else 50}


def test_a_29_february_birthday_falls_on_28_february_in_common_years_only():
    born = D(1976, 2, 29)
    assert birthday_in(2026, born) == D(2026, 2, 28)
    assert birthday_in(2027, born) == D(2027, 2, 28)
    assert birthday_in(2028, born) == D(2028, 2, 29)
    assert age_on(born, D(2028, 2, 28)) == 51  # in a leap year he waits for the 29th
    assert age_on(born, D(2028, 2, 29)) == 52
    assert age_on(born, D(2026, 3, 1)) == 50


@given(
    born=st.dates(min_value=D(1930, 1, 1), max_value=D(2010, 12, 31)),
    years=st.integers(min_value=1, max_value=80),
)
def test_a_person_reaches_each_age_on_the_birthday_and_not_the_day_before(born, years):
    birthday = birthday_in(born.year + years, born)
    assert age_on(born, birthday) == years
    assert age_on(born, birthday - datetime.timedelta(days=1)) == years - 1


def test_the_table_covers_every_reason_code_and_every_code_has_a_text():
    source = inspect.getsource(rules)
    codes_in_rules = set(re.findall(r'Reason\(\s*"([a-z_]+)"', source))
    used = {code for c in CASES for code, *_ in c[3]} | {code for c in CASES for code, _params in c[4]}
    assert codes_in_rules == used
    assert codes_in_rules <= set(REASON_TEXT)
    assert set(OUTCOME_TEXT) == set(Outcome)


def has_chinese(text):
    return re.search(r"[\u4e00-\u9fff]", text) is not None


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("situation_", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_every_outcome_renders_with_its_basis_and_filled_placeholders(situation_, language):
    result = assess(situation_)
    with translation.override(language):
        explained = explain(result)
        headline = str(explained["headline"])
        lines = explained["reasons"] + explained["advice"]
    with translation.override("en"):
        english = [str(REASON_TEXT[r.code]) % r.params for r in (*result.reasons, *result.advice)]
    assert headline
    assert len(lines) == len(result.reasons) + len(result.advice)
    for (text, basis), reason, in_english in zip(
        lines, (*result.reasons, *result.advice), english, strict=True
    ):
        assert "%(" not in text and "%s" not in text
        for value in reason.params.values():
            assert str(value) in text
        assert basis == reason.basis
        if language == "en":
            assert text == in_english
        elif text != in_english:
            # Once the Chinese catalogue carries the sentence, it must be Chinese.
            assert has_chinese(text)


def test_declarations_a_case_stores_are_the_situation_fields():
    fields = {f.name for f in dataclasses.fields(Situation)}
    assert set(portal_eligibility.DECLARATION_FIELDS) <= fields


# On a case: the person, the agencies and the declarations come from the case; the page shows the result.


def wu_zhe_case():
    """吴喆 (man, born 8 May 1972, hukou Chengdu) moves his pension from Jiujiang to Hangzhou; HR filed."""
    return draft(person(name="吴喆"), filed_by=user("hr.hangzhou"), employer=demo_employer())


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_world")
def test_the_situation_of_a_case_comes_from_the_person_the_agencies_and_the_declarations():
    case = wu_zhe_case()
    case.declarations = {**case.declarations, "gap_months": 2, "not_a_declaration": True}
    found = situation_for(case, on=D(2026, 6, 1))
    assert (found.sex, found.birth_date, found.hukou_province) == ("M", D(1972, 5, 8), SICHUAN)
    assert (found.transfer_out_province, found.transfer_in_province) == (JIANGXI, ZHEJIANG)
    assert (found.scheme, found.application_date, found.gap_months) == ("pension", D(2026, 6, 1), 2)
    assert assess_case(case, on=D(2026, 6, 1)).reasons[0].params == {"age": 54, "limit": 50}


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_world")
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_case_page_shows_the_outcome_its_reasons_and_their_basis(client, language):
    with clock_at(D(2026, 6, 1)):
        case = submitted(wu_zhe_case())
    assert case.temporary_account
    client.cookies["django_language"] = language
    page = login(client, "clerk.hangzhou").get(f"/cases/{case.reference}/").content.decode()
    with translation.override(language):
        headline = str(OUTCOME_TEXT[Outcome.TEMPORARY_ACCOUNT])
        reason = str(REASON_TEXT["age_rule"]) % {"age": 54, "limit": 50}
    assert escape(headline) in page
    assert escape(reason) in page
    assert ART5 in page
    if language == "en":
        assert "You are 54, at or above 50" in page


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_world")
def test_the_clerk_sees_the_outcome_of_the_day_of_submission_in_china():
    """A woman turning 40 submits at 07:30 Beijing time on her birthday (still the day before in UTC): she
    is 40 when she submits, and the transfer-in clerk's re-run on the case page says the same."""
    born = D(1986, 3, 2)
    her = InsuredPersonFactory(
        with_login=True,
        name="周敏",
        document_number=resident_id("330106", born, 42),
        hukou_region=region("510100"),
    )
    with clock_at(D(2026, 3, 2), hour=7, minute=30):
        case = submitted(draft(her))
    assert case.temporary_account
    case.refresh_from_db()
    result = assess_case(case)
    assert result.outcome == Outcome.TEMPORARY_ACCOUNT
    assert result.reasons[0].params == {"age": 40, "limit": 40}


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_world")
def test_a_foreign_permanent_resident_without_hukou_falls_under_the_age_rule():
    foreigner = InsuredPersonFactory(
        with_login=True,
        name="John Smith",
        document_type=DocumentType.FOREIGN_PERMANENT_RESIDENCE,
        document_number="USA330170010112",
        sex="M",
        birth_date=D(1970, 1, 1),
        hukou_region=None,
    )
    case = draft(foreigner)
    assert situation_for(case, on=D(2026, 6, 1)).hukou_province is None
    result = assess_case(case, on=D(2026, 6, 1))
    assert result.outcome == Outcome.TEMPORARY_ACCOUNT
    assert result.reasons[0].params == {"age": 56, "limit": 50}
