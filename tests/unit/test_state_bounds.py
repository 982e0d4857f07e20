"""`check_task_data` walks only what a task holds of its own, and still refuses every bad
value any task holds: a value it skips is its parent's own object, or a list or dict of
the same type holding exactly the parent's objects, and the parent is measured too."""

from __future__ import annotations

import math
import random
import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from engine.domain.storable import NotStorableError, measure
from engine.workflow.state_bounds import StateNotStorableError, _own, check_task_data


class _Text(str):
    pass


class _List(list):  # type: ignore[type-arg]
    pass


def _workflow(*datas: dict[Any, Any], scope: dict[str, Any] | None = None) -> Any:
    """A chain of tasks, each the parent of the next, holding `datas`."""
    tasks: dict[uuid.UUID, Any] = {}
    parent = None
    for data in datas:
        task = SimpleNamespace(id=uuid.uuid4(), _parent=parent, data=data)
        tasks[task.id] = task
        parent = task.id
    return SimpleNamespace(tasks=tasks, data=scope or {}, subprocesses={})


def _passes(workflow: Any) -> bool:
    try:
        check_task_data(workflow, 10**6)
    except StateNotStorableError:
        return False
    return True


def test_what_a_child_shares_with_its_parent_is_not_its_own() -> None:
    nested = {"deep": [1, 2]}
    parent = {"same": nested, "copy": [nested, "x"], "dict": {"k": nested}, "n": 5}
    child = {"same": nested, "copy": list(parent["copy"]), "dict": dict(parent["dict"]), "n": 5}
    assert _own(child, parent) == {}
    assert _own(parent, parent) == {}


@pytest.mark.parametrize(
    "change",
    [
        "replaced item",
        "extra item",
        "tuple for list",
        "list subclass",
        "text subclass key",
        "other key",
        "other value in dict",
        "new name",
        "non-text name",
    ],
)
def test_anything_else_is_its_own_and_walked(change: str) -> None:
    nested = {"deep": [1, 2]}
    parent: dict[Any, Any] = {"copy": [nested, "x"], "dict": {"k": nested}}
    child: dict[Any, Any] = {"copy": list(parent["copy"]), "dict": dict(parent["dict"])}
    bad = math.nan
    if change == "replaced item":
        child["copy"][1] = bad
    elif change == "extra item":
        child["copy"].append(bad)
    elif change == "tuple for list":
        child["copy"] = (nested, "x", bad)
    elif change == "list subclass":
        child["copy"] = _List([nested, "x"])
    elif change == "text subclass key":
        child["dict"] = {_Text("k"): nested}
    elif change == "other key":
        child["dict"] = {"j": nested}
    elif change == "other value in dict":
        child["dict"] = {"k": {"deep": [1, bad]}}
    elif change == "new name":
        child["fresh"] = [bad]
    else:
        child[1] = "x"
    assert _own(child, parent), change
    ok_parent = _passes(_workflow(parent))
    full = _full_check(parent, child)
    assert ok_parent and _passes(_workflow(parent, child)) == full


def _full_check(*datas: dict[Any, Any]) -> bool:
    """The reference: every task's whole data measured on its own."""
    try:
        for data in datas:
            measure(data, 10**6)
    except NotStorableError:
        return False
    return True


def test_a_bad_value_in_a_shared_object_is_found_through_the_task_that_holds_it() -> None:
    shared = ["ok"]
    root = {"a": {"b": shared}}
    finished = {"a": dict(root["a"])}  # SpiffWorkflow's shallow copy: b is the same list
    ready = {"a": dict(finished["a"]), "note": "x"}
    shared.append("\x00")  # a script changed it in place through `ready`, then dropped `a`
    del ready["a"]
    with pytest.raises(StateNotStorableError) as refused:
        check_task_data(_workflow(root, finished, ready), 10**6)
    assert "/a/b/1" in str(refused.value)


BAD = [math.nan, math.inf, 2**64, "\x00", "\udc00", b"x", {1, 2}]


def _leaf(rng: random.Random) -> Any:
    return rng.choice(BAD) if rng.random() < 0.15 else rng.choice([None, "new", 7, 1.5])


def _twin(value: Any) -> Any:
    """A value equal to `value` (==) but of another type, which is not storable: what an
    equality test, instead of identity, would let through."""
    if isinstance(value, float) and value.is_integer():
        return int(value)  # float(2**64) == 2**64, and 2**64 is too large
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


def _derive(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """A child's value made from the parent's: the same object, a shallow copy, a copy
    with one item changed (sometimes to a bad value, or a bad twin), or something new."""
    roll = rng.random()
    if roll < 0.3:
        return value
    if isinstance(value, list) and roll < 0.7:
        copy = list(value)
        if copy and rng.random() < 0.5:
            index = rng.randrange(len(copy))
            copy[index] = _derive(rng, copy[index], depth + 1)
        elif rng.random() < 0.3:
            copy.append(_leaf(rng))
        return copy if rng.random() < 0.9 else tuple(copy)
    if isinstance(value, dict) and roll < 0.7:
        copy = dict(value)
        if copy and rng.random() < 0.5:
            key = rng.choice(list(copy))
            copy[key] = _derive(rng, copy[key], depth + 1)
        return copy
    if roll < 0.8:
        return _twin(value)
    return rng.choice([_leaf(rng), [_leaf(rng)], {"n": [1, _leaf(rng)]}])


@pytest.mark.parametrize("seed", range(30))
def test_a_chain_of_derived_data_passes_exactly_when_each_task_data_would(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        shared = [1, "two", {"three": [3]}]
        datas = [{"a": {"b": shared, "c": [shared]}, "d": "text", "e": [1, float(2**64)]}]
        for _ in range(rng.randrange(1, 5)):
            parent = datas[-1]
            datas.append({name: _derive(rng, value) for name, value in parent.items()})
        if rng.random() < 0.3:  # something changed in place, seen by every task holding it
            shared.append(_leaf(rng))
        assert _passes(_workflow(*datas)) == _full_check(*datas)
