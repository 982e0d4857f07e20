"""Issue #11 cause 9: every text format is matched whole, the same way in Python and OpenAPI."""

from __future__ import annotations

import re

import pytest

from engine.domain import formats
from engine.domain.diff import parse_ref
from engine.domain.durations import parse_sla
from engine.domain.errors import InvalidInputError
from engine.services.regions import _check_region

ALL = [value for value in vars(formats).values() if isinstance(value, formats.Format)]


@pytest.mark.parametrize("fmt", ALL, ids=[f.name for f in ALL])
def test_no_format_accepts_a_trailing_newline(fmt: formats.Format) -> None:
    samples = {
        "region code": "3273", "role": "front-office", "model key": "pbg",
        "payment reference": "BJB-0001", "tracking code": "PF-ABCD-EFGH-JKMN-PQRS",
        "model version reference": "3273/pbg@1", "SLA": "P3D", "non-blank text": "alasan",
        "local time": "07:30",
    }
    good = samples[fmt.name]
    assert fmt.matches(good)
    # what `re.match` with `^...$` accepts, fullmatch does not
    assert re.match(fmt.pattern, good + "\n")
    assert not fmt.matches(good + "\n") or fmt.name == "non-blank text"
    assert not fmt.matches(None) and not fmt.matches(b"3273")


def test_digits_are_ascii_digits() -> None:
    assert not formats.REGION_CODE.matches("٣٢٧٣")
    with pytest.raises(ValueError):
        parse_sla("P٣D")


def test_the_engine_checks_are_whole_matches() -> None:
    with pytest.raises(InvalidInputError):
        _check_region("9778\n", "Kab. Baru", "Asia/Jakarta")
    with pytest.raises(InvalidInputError):
        parse_ref("3273/pbg@1\n")
    assert parse_ref("3273/pbg@12") == {"region": "3273", "key": "pbg", "version": 12}
    with pytest.raises(ValueError):
        parse_sla("P3D\nP4D")


def test_an_unanchored_pattern_is_refused() -> None:
    with pytest.raises(ValueError):
        formats.Format("x", "[0-9]+", "digits")
