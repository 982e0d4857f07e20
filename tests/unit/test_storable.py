"""`storable.measure`: the fast walk answers exactly as the walk that keeps the path.

`measure` walks without a path (`_Fast`) and walks again with one (`_Walker`) only to
word a refusal; every refusal and every size must be the one the path-keeping walk
gives on its own, for good values and for each kind of bad one.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

import pytest

from engine.domain import storable
from engine.domain.storable import NotStorableError, measure


class _Level(IntEnum):
    LOW = 1


BAD_LEAVES: list[Any] = [
    math.nan,
    math.inf,
    -math.inf,
    2**63,
    -(2**64),
    "a\x00b",
    "\ud800",
    "x\udfff",
    b"bytes",
    {1, 2},
    _Level.LOW,
    object(),
    1.5j,
]
GOOD_LEAVES: list[Any] = [
    None,
    True,
    False,
    0,
    2**63 - 1,
    -(2**63),
    1.25,
    "",
    "plain",
    "Bandung \u00e9 \U0001f600",  # non-ASCII and a proper surrogate-free emoji
    datetime(2026, 1, 2, tzinfo=UTC),
    timedelta(days=3),
    uuid.UUID(int=7),
]


def _reference(value: Any, limit: int) -> tuple[str, Any]:
    """What the path-keeping walk alone says: ("size", n) or the refusal's fields."""
    try:
        return "size", storable._Walker(limit, {}).size(value, 0, [])
    except NotStorableError as exc:
        return "refused", (exc.reason, exc.path, exc.too_large)


def _fast(value: Any, limit: int) -> tuple[str, Any]:
    try:
        return "size", measure(value, limit)
    except NotStorableError as exc:
        return "refused", (exc.reason, exc.path, exc.too_large)


def _random_value(rng: random.Random, depth: int, bad: float) -> Any:
    roll = rng.random()
    if depth > 5 or roll < 0.45:
        pool = BAD_LEAVES if rng.random() < bad else GOOD_LEAVES
        return rng.choice(pool)
    size = rng.randrange(0, 6)
    if roll < 0.7:
        keys = [rng.choice(["a", "b/c", "d~e", "f", "\u00e9", "g\x00"]) for _ in range(size)]
        if rng.random() < bad:
            keys.append(rng.choice([1, ("t",), None]))  # type: ignore[arg-type]
        return {k: _random_value(rng, depth + 1, bad) for k in keys}
    items = [_random_value(rng, depth + 1, bad) for _ in range(size)]
    return tuple(items) if roll < 0.78 else items


@pytest.mark.parametrize("seed", range(40))
def test_the_fast_walk_answers_as_the_path_keeping_walk(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        value = _random_value(rng, 0, bad=rng.choice([0.0, 0.02, 0.2]))
        limit = rng.choice([10**6, 40, 12])
        assert _fast(value, limit) == _reference(value, limit), value


@pytest.mark.parametrize("leaf", BAD_LEAVES, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("shape", ["top", "dict", "list", "tuple", "deep"])
def test_each_bad_leaf_is_refused_wherever_it_sits(leaf: Any, shape: str) -> None:
    value = {
        "top": leaf,
        "dict": {"ok": 1, "x": leaf},
        "list": ["ok", leaf],
        "tuple": ("ok", leaf),
        "deep": {"a": [{"b": ("c", [leaf])}]},
    }[shape]
    with pytest.raises(NotStorableError) as refused:
        measure(value, 10**6)
    assert (("refused", _as_fields(refused.value))) == _reference(value, 10**6)


def _as_fields(exc: NotStorableError) -> tuple[str, str, bool]:
    return exc.reason, exc.path, exc.too_large


def test_structures_the_fast_walk_must_refuse() -> None:
    cyclic: list[Any] = [1]
    cyclic.append({"again": cyclic})
    deep: Any = "x"
    for _ in range(storable.MAX_DEPTH + 1):
        deep = [deep]
    halves: Any = []
    for _ in range(60):
        halves = [halves, halves]
    for value in (cyclic, deep, halves, OrderedDict(a=[cyclic]), {"a": 1, 2: "b"}):
        assert _fast(value, 10**6) == _reference(value, 10**6)
        assert _fast(value, 10**6)[0] == "refused"


def test_a_memo_shared_between_calls_gives_the_same_sizes() -> None:
    shared = {"a": ["x" * 10, 2]}
    one, two = {"one": shared}, {"two": shared, "three": shared}  # alive: ids are the keys
    memo: dict[int, int] = {}
    first, second = measure(one, 10**6, memo=memo), measure(two, 10**6, memo=memo)
    assert (first, second) == (measure(one, 10**6), 2 * 2 + 2 * measure(shared, 99))
    again = dict(two)
    with pytest.raises(NotStorableError) as refused:  # a memoized size still counts
        measure(again, second - 1, memo=memo)
    assert refused.value.too_large


def test_measuring_shared_halves_visits_each_list_once(monkeypatch) -> None:
    visits = 0
    original = storable._Fast.container

    def counting(self, value, depth):  # type: ignore[no-untyped-def]
        nonlocal visits
        visits += 1
        return original(self, value, depth)

    monkeypatch.setattr(storable._Fast, "container", counting)
    x: list = []
    for _ in range(60):
        x = [x, x]
    with pytest.raises(NotStorableError) as refused:
        measure(x, 10**6)
    assert refused.value.too_large
    assert visits < 200  # 2**60 without the memo


@pytest.mark.parametrize(
    ("key", "what"),
    [("a\x00", "NUL character"), ("\ud800", "lone surrogate"), ("x\udfff", "lone surrogate")],
)
def test_a_key_is_text_held_to_the_same_rules(key: str, what: str) -> None:
    with pytest.raises(NotStorableError) as refused:
        measure({"ok": [{"fine": 1, key: 2}]}, 10**6)
    assert (refused.value.reason, refused.value.path) == (
        f"an object key with a {what} cannot be stored",
        "/ok/0",
    )
    assert measure({"é \U0001f600": 1}, 10**6) == 3
