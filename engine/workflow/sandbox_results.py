"""What a script may leave in task data, and what an expression may hand back.

Checked after every run: SpiffWorkflow must be able to save what a script stores, and no
function, module or generator may leave the sandbox through a result.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from engine.workflow.sandbox_limits import ScriptError, ScriptLimitExceededError

# What SpiffWorkflow's serializer (SPIFF_CONFIG registry + JSON) can store in task data.
STORABLE = (str, int, float, type(None), datetime, timedelta, UUID)
# What an expression may hand back to SpiffWorkflow (a condition, a collection, a timer text).
RETURNABLE = (*STORABLE, date, time, bytes, range)
# Exact types that end a walk at once (text is counted, so it is not among them).
_FLAT_STORABLE = frozenset({int, bool, float, type(None), datetime, timedelta, UUID})
_FLAT_RETURNABLE = _FLAT_STORABLE | {date, time, range}


def check_result(value: Any, limit: int, *, storable: bool, name: str = "the result") -> None:
    """Refuse a value that task data cannot hold (or SpiffWorkflow should not be handed).

    One walk without recursion: shared references count each time they occur, so a
    structure built by self-nesting, or a cycle, ends the walk at `limit`.

    Raises:
        ScriptError: a function, generator, module or other foreign value.
        ScriptLimitExceededError: more than `limit` items and characters.
    """
    leaves = STORABLE if storable else RETURNABLE
    flat = _FLAT_STORABLE if storable else _FLAT_RETURNABLE
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in flat:
            continue
        if kind is str or kind is bytes:
            total += len(item)
        elif kind is list or kind is tuple or (not storable and kind in (set, frozenset)):
            total += len(item)
            if not flat.issuperset(map(type, item)):  # a list of plain numbers needs no walk
                stack.extend(item)
        elif isinstance(item, dict):
            total += 2 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif not isinstance(item, leaves) or isinstance(item, (str, bytes)):
            raise ScriptError(
                f"{name} holds a {kind.__name__} value, which task data "
                "cannot store (use text, numbers, lists and dicts)"
            )
        if total > limit:
            raise ScriptLimitExceededError(f"{name} is larger than {limit} items and characters")
