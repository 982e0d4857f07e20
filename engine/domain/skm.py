"""The public satisfaction index (IKM) of Permenpan-RB 14/2017, on plain values.

Nine elements (unsur), each scored 1-4 by a respondent. The index of a unit is the sum of
the element averages times the weight 1/9 (every element weighs the same), converted to
0-100 by multiplying by 25; the quality category (mutu pelayanan) comes from the converted
value's interval. One definition, used by the tracking page, the catalogue and the reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

# The nine elements (U1-U9), in the regulation's order, with their citizen-facing text.
ELEMENTS: tuple[tuple[str, str, str], ...] = (
    ("requirements", "Persyaratan", "Requirements"),
    ("procedure", "Sistem, mekanisme, dan prosedur", "System, mechanism and procedure"),
    ("time", "Waktu penyelesaian", "Time to complete"),
    ("fee", "Biaya/tarif", "Fee"),
    ("product", "Produk spesifikasi jenis pelayanan", "The product delivered"),
    ("competence", "Kompetensi pelaksana", "Officers' competence"),
    ("behaviour", "Perilaku pelaksana", "Officers' conduct"),
    ("complaints", "Penanganan pengaduan, saran dan masukan", "Handling of complaints"),
    ("facilities", "Sarana dan prasarana", "Facilities"),
)
ELEMENT_KEYS = tuple(key for key, _, _ in ELEMENTS)
WEIGHT = Fraction(1, len(ELEMENTS))  # nilai penimbang: 1/9 each
SCORES = (1, 2, 3, 4)

# Converted index (0-100 scale) -> (category, Indonesian, English); lower bounds inclusive.
_CATEGORIES = (
    (Decimal("88.31"), "A", "Sangat baik", "Very good"),
    (Decimal("76.61"), "B", "Baik", "Good"),
    (Decimal("65.00"), "C", "Kurang baik", "Poor"),
    (Decimal("25.00"), "D", "Tidak baik", "Bad"),
)


@dataclass(frozen=True, slots=True)
class Index:
    """An IKM: respondents, the average per element, the converted index and category."""

    respondents: int
    element_averages: dict[str, Decimal]
    index: Decimal | None  # 25.00-100.00, two decimals (half up)
    category: str | None
    label_id: str | None
    label_en: str | None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (decimals as text keep their two places exactly)."""
        return {
            "respondents": self.respondents,
            "element_averages": {k: str(v) for k, v in self.element_averages.items()},
            "ikm": str(self.index) if self.index is not None else None,
            "category": self.category,
            "label": {"id": self.label_id, "en": self.label_en} if self.category else None,
        }


def check_answers(answers: Mapping[str, object]) -> list[str]:
    """What is wrong with one respondent's answers: each of the nine elements, 1-4."""
    problems = [f"{key}: give a score from 1 to 4" for key in ELEMENT_KEYS
                if type(answers.get(key)) is not int or answers[key] not in SCORES]
    problems += [f"{key}: not an element of the survey" for key in answers
                 if key not in ELEMENT_KEYS]
    return problems


def ikm(responses: Iterable[Mapping[str, int]]) -> Index:
    """The index over `responses` (each maps every element to a score 1-4), computed exactly:
    IKM = sum over elements of (element average x 1/9), x 25."""
    rows = list(responses)
    if not rows:
        return Index(0, {}, None, None, None, None)
    averages = {k: Fraction(sum(r[k] for r in rows), len(rows)) for k in ELEMENT_KEYS}
    converted = sum((avg * WEIGHT for avg in averages.values()), Fraction(0)) * 25
    value = _two_places(converted)
    category, label_id, label_en = category_of(value)
    return Index(
        len(rows),
        {k: _two_places(v) for k, v in averages.items()},
        value,
        category,
        label_id,
        label_en,
    )


def category_of(value: Decimal) -> tuple[str, str, str]:
    """The quality category of a converted index (A: 88.31-100, B: 76.61-88.30,
    C: 65.00-76.60, D: 25.00-64.99)."""
    for lower, category, label_id, label_en in _CATEGORIES:
        if value >= lower:
            return category, label_id, label_en
    return _CATEGORIES[-1][1:]


def _two_places(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
