"""What task data may hold: the one definition of a value the engine can store.

Task data goes into a JSON column on SQLite and PostgreSQL and out again through the API,
so a value is storable when both databases and a JSON reader take it back unchanged:
text (no NUL, no lone surrogate: PostgreSQL's JSONB refuses both), whole numbers of at
most 64 bits, finite decimals, true/false, null, lists and objects with text keys (the
same text), nested
at most `MAX_DEPTH` deep; plus the date, time-span and UUID objects SpiffWorkflow's
serializer stores as typed values (scripts may compute with them).

`measure` walks a value once, recursion bounded by the depth limit. It memoizes the size
of every container by identity, so a list whose halves are the same object, nested 60
deep, costs 60 steps to measure -- and is refused, because JSON would write it out 2**60
times. A cycle is refused the same way. The size is in "items and characters" (the unit
of the sandbox's bounds): characters of text, slots of lists, twice the entries of dicts.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from engine.domain.problems import Problem

MAX_DEPTH = 64
MAX_INT_BITS = 63  # a signed 64-bit integer: what every database and JSON reader keeps exact
# Objects SpiffWorkflow's serializer stores as typed values; each counts as this many items.
OBJECT_LEAVES = (datetime, timedelta, UUID)
_OBJECT_SIZE = 40
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_FLAT = frozenset({bool, type(None)})
_SHOWN_STEPS = 8  # of a refused value's path in a message


class NotStorableError(ValueError):
    """A value task data cannot hold. `path` is its JSON pointer inside the walked value
    (`/documents/2/name`); `too_large` tells a size refusal from a type refusal."""

    def __init__(self, reason: str, path: str, *, too_large: bool = False) -> None:
        super().__init__(f"{path or '/'}: {reason}" if path else reason)
        self.reason = reason
        self.path = path
        self.too_large = too_large


def measure(value: Any, limit: int, *, memo: dict[int, int] | None = None) -> int:
    """The size of `value` in items and characters, shared references counted each time.

    `memo` may be passed to share measured containers between calls (task data of
    several names, or several tasks, that hold the same objects). Its keys are `id()`s:
    every value measured with it must stay alive, and unchanged, while it is used.

    Raises:
        NotStorableError: the value holds something task data cannot store, is nested
            deeper than MAX_DEPTH, is cyclic, or is larger than `limit`.
    """
    memo = {} if memo is None else memo
    try:
        return _Fast(limit, memo).top(value)
    except _RefusedError:
        pass
    # Refused: walk again, keeping the path, to say where (the same checks in the same
    # order, so the same first problem; containers measured before it come from `memo`).
    _Walker(limit, memo).size(value, 0, [])
    raise NotStorableError("the value cannot be stored", "")  # pragma: no cover - same checks


def problem_path(key: str, error: NotStorableError) -> str:
    """The JSON pointer of a refused value under the top-level name `key`."""
    return "/" + _escape(key) + error.path


class _RefusedError(Exception):
    """The fast walk found a problem; `_Walker` walks again to locate and word it."""


_CONTAINERS = (dict, list, tuple)


class _Fast:
    """`_Walker` without the path: the same checks in the same order, inlined for the
    common flat values (this walk runs over every step's task data)."""

    __slots__ = ("active", "limit", "memo")

    def __init__(self, limit: int, memo: dict[int, int]) -> None:
        self.limit = limit
        self.memo = memo
        self.active: set[int] = set()

    def top(self, value: Any) -> int:
        if isinstance(value, _CONTAINERS):
            return self.container(value, 0)
        size = _leaf(value)
        if size < 0:
            raise _RefusedError
        return size

    def container(self, value: Any, depth: int) -> int:
        key = id(value)
        known = self.memo.get(key)
        if known is not None:
            return known
        if key in self.active or depth >= MAX_DEPTH:
            raise _RefusedError
        self.active.add(key)
        limit = self.limit
        if isinstance(value, dict):
            total = 2 * len(value)
            if total > limit:
                raise _RefusedError
            items = value.items()
            for name, item in items:
                if type(name) is not str or not (
                    (name.isascii() and "\x00" not in name) or _BAD_TEXT.search(name) is None
                ):
                    raise _RefusedError
                kind = type(item)
                if kind is str:
                    if "\x00" in item or (not item.isascii() and _BAD_TEXT.search(item)):
                        raise _RefusedError
                    total += len(item)
                elif kind is int:
                    if item.bit_length() > MAX_INT_BITS:
                        raise _RefusedError
                    total += 1
                elif kind in _FLAT:
                    total += 1
                elif kind is float:
                    if not math.isfinite(item):
                        raise _RefusedError
                    total += 1
                elif isinstance(item, _CONTAINERS):
                    total += self.container(item, depth + 1)
                else:
                    size = _leaf(item)
                    if size < 0:
                        raise _RefusedError
                    total += size
                if total > limit:
                    raise _RefusedError
        else:
            total = len(value)
            if total > limit:
                raise _RefusedError
            for item in value:
                kind = type(item)
                if kind is str:
                    if "\x00" in item or (not item.isascii() and _BAD_TEXT.search(item)):
                        raise _RefusedError
                    total += len(item)
                elif kind is int:
                    if item.bit_length() > MAX_INT_BITS:
                        raise _RefusedError
                    total += 1
                elif kind in _FLAT:
                    total += 1
                elif kind is float:
                    if not math.isfinite(item):
                        raise _RefusedError
                    total += 1
                elif isinstance(item, _CONTAINERS):
                    total += self.container(item, depth + 1)
                else:
                    size = _leaf(item)
                    if size < 0:
                        raise _RefusedError
                    total += size
                if total > limit:
                    raise _RefusedError
        self.active.discard(key)
        self.memo[key] = total
        return total


def _leaf(value: Any) -> int:
    """The size of a value that is not a container, -1 when it cannot be stored."""
    kind = type(value)
    if kind in _FLAT:
        return 1
    if kind is str:
        return -1 if _BAD_TEXT.search(value) else len(value)
    if kind is int:
        return -1 if value.bit_length() > MAX_INT_BITS else 1
    if kind is float:
        return 1 if math.isfinite(value) else -1
    if isinstance(value, OBJECT_LEAVES):
        return _OBJECT_SIZE
    return -1


class _Walker:
    """The walk that keeps the path: run after `_Fast` refused, to say where and why."""

    __slots__ = ("active", "limit", "memo")

    def __init__(self, limit: int, memo: dict[int, int]) -> None:
        self.limit = limit
        self.memo = memo
        self.active: set[int] = set()

    def size(self, value: Any, depth: int, path: list[str]) -> int:
        kind = type(value)
        if kind in _FLAT:
            return 1
        if kind is str:
            return self._text(value, path)
        if kind is int:
            if value.bit_length() > MAX_INT_BITS:
                raise self._refuse(path, "a whole number larger than 64 bits cannot be stored")
            return 1
        if kind is float:
            if not math.isfinite(value):
                raise self._refuse(path, f"{value} cannot be stored (numbers must be finite)")
            return 1
        if isinstance(value, (dict, list, tuple)):
            return self._container(value, depth, path)
        if isinstance(value, OBJECT_LEAVES):
            return _OBJECT_SIZE
        raise self._refuse(
            path,
            f"a {kind.__name__} value cannot be stored (use text, numbers, true/false, "
            "lists and objects)",
        )

    def _text(self, value: str, path: list[str]) -> int:
        if not value.isascii() or "\x00" in value:
            found = _BAD_TEXT.search(value)
            if found is not None:
                what = "NUL character" if found.group() == "\x00" else "lone surrogate"
                raise self._refuse(path, f"text with a {what} cannot be stored")
        return len(value)

    def _container(self, value: Any, depth: int, path: list[str]) -> int:
        key = id(value)
        known = self.memo.get(key)
        if known is not None:
            return known
        if key in self.active:
            raise self._refuse(path, "a value that contains itself cannot be stored", large=True)
        if depth >= MAX_DEPTH:
            raise self._refuse(path, f"values nested more than {MAX_DEPTH} deep cannot be stored")
        self.active.add(key)
        try:
            total = self._items(value, depth + 1, path)
        finally:
            self.active.discard(key)
        self.memo[key] = total
        return total

    def _items(self, value: Any, depth: int, path: list[str]) -> int:
        if isinstance(value, dict):
            total = 2 * len(value)
            self._check(total, path)
            for name, item in value.items():
                if type(name) is not str:
                    raise self._refuse(
                        path, f"an object key must be text, not {type(name).__name__}"
                    )
                found = _BAD_TEXT.search(name)
                if found is not None:
                    what = "NUL character" if found.group() == "\x00" else "lone surrogate"
                    raise self._refuse(path, f"an object key with a {what} cannot be stored")
                total += self._child(item, depth, path, _escape(name))
                self._check(total, path)
            return total
        total = len(value)
        self._check(total, path)
        for index, item in enumerate(value):
            total += self._child(item, depth, path, str(index))
            self._check(total, path)
        return total

    def _child(self, item: Any, depth: int, path: list[str], step: str) -> int:
        path.append(step)
        size = self.size(item, depth, path)
        path.pop()
        return size

    def _check(self, total: int, path: list[str]) -> None:
        if total > self.limit:
            raise self._refuse(
                path, f"the value is larger than {self.limit} items and characters", large=True
            )

    @staticmethod
    def _refuse(path: list[str], reason: str, *, large: bool = False) -> NotStorableError:
        pointer = "".join("/" + part for part in path[:_SHOWN_STEPS])
        if len(path) > _SHOWN_STEPS:
            pointer += "/..."
        return NotStorableError(reason, pointer, too_large=large)


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def data_problems(data: Any, field: str, limit: int) -> list[Problem]:
    """What is wrong with data given to the engine (an object of storable values), located
    by field path (`data/documents/2`); empty when it is fine."""
    if not isinstance(data, dict):
        return [Problem("must be an object", field=field)]
    try:
        measure(data, limit)
    except NotStorableError as exc:
        reason = exc.reason
        if exc.too_large:
            reason = f"too large ({reason}); attach documents by reference"
        return [Problem(reason, field=field + exc.path)]
    return []
