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

from engine.modeling.juel import rewrite_outside_strings

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
    if "'" in _STRING.sub("", text):  # FEEL has no single-quoted strings: left to fail
        return text[1:].strip()
    return rewrite_outside_strings(text[1:], _STRING, _REWRITES)
