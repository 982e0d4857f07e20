"""Conservative translation of simple JUEL conditions, as Camunda Modeler writes them.

`${approved}` -> `approved`; `${amount > 100 && ok}` -> `amount > 100 and ok`. Only these
rewrites happen, outside string literals: `&&` -> `and`, `||` -> `or`, `!x` -> `not x`,
`true/false/null` -> `True/False/None`; comparison operators stay as they are. Anything
else (`eq`, `empty`, method calls, nested `${}`) is left alone, so the result fails the
Python check and the analyst is asked for a Python condition instead of getting a guess.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

# `#{...}` (deferred evaluation) means the same as `${...}` in a Camunda 7 condition.
_JUEL = re.compile(r"^[$#]\{(?P<body>[^{}]*)\}$", re.DOTALL)
_STRING = re.compile(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")
_REWRITES = (
    (re.compile(r"&&"), " and "),
    (re.compile(r"\|\|"), " or "),
    (re.compile(r"!(?!=)"), " not "),
    (re.compile(r"\btrue\b"), "True"),
    (re.compile(r"\bfalse\b"), "False"),
    (re.compile(r"\bnull\b"), "None"),
)


def juel_to_python(text: str) -> str | None:
    """The Python for a `${...}` (or `#{...}`) condition, or None when `text` is not JUEL at all.

    The result is not guaranteed to be valid Python; the caller checks it.
    """
    match = _JUEL.fullmatch(text.strip())
    if match is None:
        return None
    return rewrite_outside_strings(match["body"], _STRING, _REWRITES)


# What a "simple" condition may contain once translated: names, constants, comparisons,
# and/or/not, arithmetic. No attribute access or calls: `${a.b}` and `${x.size()}` mean
# Java beans and methods, which task data (plain dicts) does not have.
_SIMPLE_NODES = (
    ast.Expression,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Compare,
    ast.BoolOp,
    ast.UnaryOp,
    ast.BinOp,
    ast.cmpop,
    ast.boolop,
    ast.unaryop,
    ast.operator,
)


def is_simple(python: str) -> bool:
    """Whether a translated condition uses only what `juel_to_python` means to translate."""
    try:
        tree = ast.parse(python, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return all(isinstance(node, _SIMPLE_NODES) for node in ast.walk(tree))


def rewrite_outside_strings(
    text: str, strings: re.Pattern[str], rewrites: Sequence[tuple[re.Pattern[str], str]]
) -> str:
    """`text` with `rewrites` applied to its code, never inside its string literals."""
    # re.split with a capturing group alternates code, string, code, string, ...
    parts = strings.split(text)
    return "".join(
        part if index % 2 else _rewrite(part, rewrites) for index, part in enumerate(parts)
    ).strip()


def _rewrite(code: str, rewrites: Sequence[tuple[re.Pattern[str], str]]) -> str:
    for pattern, replacement in rewrites:
        code = pattern.sub(replacement, code)
    return re.sub(r"\s+", " ", code)
