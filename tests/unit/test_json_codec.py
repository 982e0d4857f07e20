"""The JSON columns' codec: orjson's speed, the standard library's answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any

import pytest

from engine.domain import json_codec


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


@dataclass
class Point:
    x: int


PLAIN: list[Any] = [
    {"a": [1, -2, 2.5, 1e-7, 1e16, -0.0, None, True, False], "b": {"c": ""}},
    {"text": "é ümlaut \u2028 \u0000 \U0001f600", "big": 2**63 - 1, "neg": -(2**63)},
    [],
    "plain",
    123456789.12345679,
]


@pytest.mark.parametrize("value", PLAIN)
def test_plain_values_read_back_as_the_standard_library_reads_them(value: Any) -> None:
    written = json_codec.dumps(value)
    assert json.loads(written) == value
    assert json_codec.loads(written) == json.loads(json.dumps(value))
    assert json_codec.loads(written.encode()) == json_codec.loads(memoryview(written.encode()))


# What orjson refuses or would write its own way is written as the standard library writes it.
FALLBACK: list[Any] = [
    {1: "x", None: "y", 2.5: "z"},  # keys that are not text
    {"n": 2**70},  # beyond 64 bits
    {"s": "lone \ud800 surrogate"},
    {"c": Colour.RED, "l": Level.HIGH},  # subclasses of str and int
]


@pytest.mark.parametrize("value", FALLBACK)
def test_what_orjson_refuses_is_written_by_the_standard_library(value: Any) -> None:
    assert json_codec.dumps(value) == json.dumps(value, separators=(",", ":"))


@pytest.mark.parametrize("value", [datetime(2026, 1, 1, tzinfo=UTC), Point(1), {1, 2}])
def test_what_the_standard_library_refuses_is_still_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        json_codec.dumps({"v": value})


@pytest.mark.parametrize("text", ['{"v": NaN}', '"\\ud800"', "[1e400]"])
def test_what_orjson_cannot_read_is_read_by_the_standard_library(text: str) -> None:
    assert repr(json_codec.loads(text)) == repr(json.loads(text))


def test_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(ValueError):
        json_codec.loads("{not json")
