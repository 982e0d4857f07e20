"""Conservative translation of simple FEEL conditions, as Camunda 8 (Zeebe) Modeler writes them.

`=approved` -> `approved`; `=amount > 1000000 and not(rejected)` -> the same in Python, with
FEEL's single `=` equality turned into `==`. Only these rewrites happen, outside string
literals: `=` -> `==` (not inside `!=`, `<=`, `>=`), `true/false/null` -> `True/False/None`;
`and`, `or`, `not(...)`, comparisons and arithmetic are already Python. Anything else (paths
like `a.b`, functions, ranges, `in`, lists) is left as it is, so the result fails the
simple-Python check and the analyst is asked for a Python condition instead of a guess.
"""

from __future__ import annotations

import re

_STRING = re.compile(r'("(?:[^"\\]|\\.)*")')  # FEEL strings are double-quoted only
_REWRITES = (
    (re.compile(r"(?<![!<>=])=(?!=)"), " == "),
    (re.compile(r"\btrue\b"), "True"),
    (re.compile(r"\bfalse\b"), "False"),
    (re.compile(r"\bnull\b"), "None"),
)


def feel_to_python(text: str) -> str | None:
    """The Python for an `=...` condition, or None when `text` is not FEEL at all.

    The result is not guaranteed to be valid Python; the caller checks it.
    """
    text = text.strip()
    if not text.startswith("=") or text.startswith("=="):
        return None
    parts = _STRING.split(text[1:])
    return "".join(
        part if index % 2 else _rewrite(part) for index, part in enumerate(parts)
    ).strip()


def _rewrite(code: str) -> str:
    if "'" in code:  # not a FEEL string: leave the text to fail the check
        return code
    for pattern, replacement in _REWRITES:
        code = pattern.sub(replacement, code)
    return re.sub(r"\s+", " ", code)
