"""Where the pension will be claimed (国办发〔2009〕66号 art. 6).

1. The hukou place, if the basic pension relationship is there;
2. else the current place, if it has at least 10 years of contributions;
3. else the last place with at least 10 years;
4. else the relationship and the funds are collected to the hukou place, which pays.
"""

from dataclasses import dataclass

TEN_YEARS = 120  # months


@dataclass(frozen=True)
class Advice:
    place: str
    rule: int  # which of the four rules decided
    months_there: int


def benefit_place(history, hukou_place: str) -> Advice:
    """`history`: (place, months) in the order the person worked there; the last is the current place."""
    months: dict[str, int] = {}
    for place, count in history:
        months[place] = months.get(place, 0) + count
    current = history[-1][0] if history else hukou_place
    if current == hukou_place:
        return Advice(hukou_place, 1, months.get(hukou_place, 0))
    if months.get(current, 0) >= TEN_YEARS:
        return Advice(current, 2, months[current])
    for place, _count in reversed(history):
        if months[place] >= TEN_YEARS:
            return Advice(place, 3, months[place])
    return Advice(hukou_place, 4, months.get(hukou_place, 0))
