"""Where the pension will be claimed (国办发〔2009〕66号 art. 6): the four rules in order, each with a
case, and properties over arbitrary contribution histories."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from applications.rules.benefit_place import benefit_place

HANGZHOU, JIUJIANG, CHENGDU, SHENZHEN, WUHAN = "330100", "360400", "510100", "440300", "420100"


@pytest.mark.parametrize(
    ("history", "hukou", "place", "rule", "months"),
    [
        # 1. The relationship is at the hukou place (the current place is the hukou place): paid there,
        #    however few years it has.
        ([(SHENZHEN, 200), (CHENGDU, 24)], CHENGDU, CHENGDU, 1, 24),
        # 2. Else the current place if it has 10 years or more.
        ([(JIUJIANG, 60), (HANGZHOU, 120)], CHENGDU, HANGZHOU, 2, 120),
        # ... counted over every stint there, not only the last one.
        ([(HANGZHOU, 60), (JIUJIANG, 12), (HANGZHOU, 60)], CHENGDU, HANGZHOU, 2, 120),
        # 3. Else the last place with 10 years or more (not the first, not the longest).
        ([(WUHAN, 200), (SHENZHEN, 130), (HANGZHOU, 50)], CHENGDU, SHENZHEN, 3, 130),
        (
            [(SHENZHEN, 130), (WUHAN, 60), (SHENZHEN, 10), (JIUJIANG, 125), (HANGZHOU, 119)],
            CHENGDU,
            JIUJIANG,
            3,
            125,
        ),
        # 4. Else everything is collected to the hukou place, which pays.
        ([(JIUJIANG, 119), (HANGZHOU, 119)], CHENGDU, CHENGDU, 4, 0),
        ([(CHENGDU, 100), (HANGZHOU, 100)], CHENGDU, CHENGDU, 4, 100),
    ],
    ids=[
        "1 hukou place",
        "2 current place with 10 years",
        "2 current place over two stints",
        "3 last place with 10 years",
        "3 the later of two qualifying places",
        "4 collected to the hukou place",
        "4 hukou place with earlier years",
    ],
)
def test_the_four_rules(history, hukou, place, rule, months):
    advice = benefit_place(history, hukou)
    assert (advice.place, advice.rule, advice.months_there) == (place, rule, months)


def test_one_month_short_of_ten_years_is_not_enough():
    assert benefit_place([(JIUJIANG, 200), (HANGZHOU, 119)], CHENGDU).place == JIUJIANG
    assert benefit_place([(JIUJIANG, 200), (HANGZHOU, 120)], CHENGDU).place == HANGZHOU


PLACES = [HANGZHOU, JIUJIANG, CHENGDU, SHENZHEN, WUHAN]
histories = st.lists(st.tuples(st.sampled_from(PLACES), st.integers(1, 240)), max_size=12)


@settings(max_examples=200, deadline=None)
@given(histories, st.sampled_from(PLACES))
def test_the_place_is_always_in_the_history_or_the_hukou_place(history, hukou):
    advice = benefit_place(history, hukou)
    assert advice.place in {place for place, _months in history} | {hukou}
    assert advice.rule in (1, 2, 3, 4)


@settings(max_examples=200, deadline=None)
@given(histories, st.sampled_from(PLACES))
def test_the_rules_apply_in_order(history, hukou):
    totals = {}
    for place, months in history:
        totals[place] = totals.get(place, 0) + months
    current = history[-1][0] if history else hukou
    qualifying = [place for place, _months in history if totals[place] >= 120]
    advice = benefit_place(history, hukou)
    if current == hukou:
        assert (advice.rule, advice.place) == (1, hukou)
    elif totals[current] >= 120:
        assert (advice.rule, advice.place) == (2, current)
    elif qualifying:
        assert (advice.rule, advice.place) == (3, qualifying[-1])
    else:
        assert (advice.rule, advice.place) == (4, hukou)
    assert advice.months_there == totals.get(advice.place, 0)
    if advice.rule in (2, 3):
        assert advice.months_there >= 120
