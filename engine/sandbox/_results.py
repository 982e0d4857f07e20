"""What a script may leave in task data, and what an expression may hand back.

Checked after every run: the engine must be able to save what a script stores
(`engine.domain.storable` says what that is), and no function, module or generator may
leave the sandbox through a result.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from engine.domain.storable import NotStorableError, measure, problem_path
from engine.sandbox._limits import ScriptError, ScriptLimitExceededError

# What an expression may hand back to SpiffWorkflow (a condition, a collection, a timer text).
RETURNABLE = (str, int, float, type(None), datetime, timedelta, UUID, date, time, bytes, range)
# Exact types that end a walk at once (text is counted, so it is not among them).
_FLAT_RETURNABLE = frozenset(
    {int, bool, float, type(None), datetime, timedelta, UUID, date, time, range}
)


def drop_unstorable(data: dict[str, Any], limit: int) -> ScriptError | None:
    """Remove from `data` every value task data cannot store (or larger than `limit`);
    return the refusal of the first one, None when all are fine.

    Shared references are measured once (memoized) but counted each time they occur, so a
    list whose halves are the same object, nested deep, is refused in a few steps.
    """
    memo: dict[int, int] = {}
    first: ScriptError | None = None
    for name in list(data):
        try:
            measure(data[name], limit, memo=memo)
        except NotStorableError as exc:
            del data[name]
            if first is None:
                kind = ScriptLimitExceededError if exc.too_large else ScriptError
                first = kind(f"task data {problem_path(name, exc)}: {exc.reason}")
    return first


def check_result(value: Any, limit: int, name: str = "the result") -> None:
    """Refuse an expression result SpiffWorkflow should not be handed.

    One walk without recursion: shared references count each time they occur, so a
    structure built by self-nesting, or a cycle, ends the walk at `limit`.

    Raises:
        ScriptError: a function, generator, module or other foreign value.
        ScriptLimitExceededError: more than `limit` items and characters.
    """
    leaves, flat = RETURNABLE, _FLAT_RETURNABLE
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in flat:
            continue
        if kind is str or kind is bytes:
            total += len(item)
        elif kind in (list, tuple, set, frozenset):
            total += len(item)
            if not flat.issuperset(map(type, item)):  # a list of plain numbers needs no walk
                stack.extend(item)
        elif isinstance(item, dict):
            total += 2 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif not isinstance(item, leaves) or isinstance(item, (str, bytes)):
            raise ScriptError(
                f"{name} holds a {kind.__name__} value, which an expression may not "
                "hand back (use text, numbers, lists and dicts)"
            )
        if total > limit:
            raise ScriptLimitExceededError(f"{name} is larger than {limit} items and characters")
