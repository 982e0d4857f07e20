"""The IKM of Permenpan-RB 14/2017 equals a hand computation (issue #15 item 3)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.domain import skm

# Four respondents; columns are the nine elements U1..U9 in the regulation's order.
SHEET = [
    # U1 U2 U3 U4 U5 U6 U7 U8 U9
    (4, 3, 2, 4, 3, 3, 4, 2, 3),
    (3, 3, 3, 4, 3, 4, 4, 2, 3),
    (3, 3, 4, 4, 4, 3, 3, 3, 3),
    (4, 3, 3, 4, 4, 4, 3, 3, 4),
]


def responses(sheet=SHEET):
    return [dict(zip(skm.ELEMENT_KEYS, row, strict=True)) for row in sheet]


def test_the_index_equals_the_hand_computation() -> None:
    # By hand: element averages 3.5, 3, 3, 4, 3.5, 3.5, 3.5, 2.5, 3.25; their sum 29.75;
    # times the weight 1/9 = 3.30555...; times 25 = 82.6388... -> 82.64, category B (Baik).
    result = skm.ikm(responses())
    assert result.respondents == 4
    assert [result.element_averages[k] for k in skm.ELEMENT_KEYS] == [
        Decimal(v) for v in ("3.50", "3.00", "3.00", "4.00", "3.50", "3.50", "3.50", "2.50", "3.25")
    ]
    assert result.index == Decimal("82.64")
    assert (result.category, result.label_id) == ("B", "Baik")
    assert result.as_dict()["ikm"] == "82.64"


@pytest.mark.parametrize(
    ("value", "category"),
    [("100.00", "A"), ("88.31", "A"), ("88.30", "B"), ("76.61", "B"), ("76.60", "C"),
     ("65.00", "C"), ("64.99", "D"), ("25.00", "D")],
)
def test_the_regulations_intervals(value: str, category: str) -> None:
    assert skm.category_of(Decimal(value))[0] == category


def test_all_fours_is_100_and_all_ones_is_25() -> None:
    assert skm.ikm(responses([(4,) * 9])).index == Decimal("100.00")
    assert skm.ikm(responses([(1,) * 9] * 3)).index == Decimal("25.00")
    assert skm.ikm([]).index is None and skm.ikm([]).category is None


def test_answers_are_checked_element_by_element() -> None:
    good = dict(zip(skm.ELEMENT_KEYS, (4,) * 9, strict=True))
    assert skm.check_answers(good) == []
    assert skm.check_answers({**good, "fee": 5}) == ["fee: give a score from 1 to 4"]
    assert skm.check_answers({**good, "fee": True}) == ["fee: give a score from 1 to 4"]
    assert skm.check_answers({**good, "parking": 3}) == ["parking: not an element of the survey"]
    missing = dict(good)
    del missing["time"]
    assert skm.check_answers(missing) == ["time: give a score from 1 to 4"]
