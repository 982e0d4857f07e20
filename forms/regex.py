"""Regular expressions from form schemas run in linear time (RE2), never Python's `re`.

A form's `pattern` is written by an analyst and matched against what an officer or an
applicant types: with Python's backtracking engine `^(a+)+$` against 30 `a`s and a `b`
takes minutes, in the request. jsonschema 4 calls `re.search` for `pattern`,
`patternProperties` and the property bookkeeping of `additionalProperties` and
`unevaluatedProperties`; it has no hook for the regex engine, so `install()` points the
`re` those modules use at `LINEAR_RE`, whose `search` is RE2's (a module-global swap in
one place, checked by `tests/unit/forms/test_forms_regex.py`). RE2 has no backreferences
or lookaround: a form using them is refused at upload (`pattern_problem`), naming the
form and the field. The `regex` format (a value that must itself be a regular
expression) is checked by compiling the value with RE2, which cannot recurse or overflow.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import re2

_log = logging.getLogger(__name__)
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported to the analyst, not to stderr
_OPTIONS.max_mem = 8 << 20  # RE2's own default: its automaton, not the text, is bounded
MAX_PATTERN_CHARS = 10_000


class PatternError(ValueError):
    """RE2 cannot compile the pattern."""


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"longer than {MAX_PATTERN_CHARS} characters")
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise PatternError(str(detail)) from None


def pattern_problem(pattern: object) -> str | None:
    """Why `pattern` cannot be used in a form (None when it can)."""
    if not isinstance(pattern, str):
        return None  # the meta-schema reports a pattern that is not text
    try:
        _compiled(pattern)
    except PatternError as exc:
        return (
            f"the regular expression {pattern[:80]!r} cannot be used ({exc}); forms use "
            "RE2 syntax: no backreferences or lookaround"
        )
    return None


def search(pattern: str, string: str) -> Any:
    """`re.search` in linear time. A pattern RE2 refuses (only in a form stored before
    this check existed) matches nothing: the value is refused, never matched slowly."""
    try:
        return _compiled(pattern).search(string)
    except PatternError:
        _log.warning("form pattern %r cannot be compiled by RE2; treated as no match", pattern)
        return None


def is_regex(value: object) -> bool:
    """The `regex` format: a value of another type passes (`type` reports it)."""
    if not isinstance(value, str):
        return True
    try:
        _compiled(value)
    except PatternError:
        return False
    return True


class _LinearRe:
    """What jsonschema's keyword modules use of `re`: `search` only."""

    search = staticmethod(search)


LINEAR_RE = _LinearRe()


def install() -> None:
    """Make jsonschema's pattern keywords use RE2 (idempotent)."""
    from jsonschema import _keywords, _legacy_keywords, _utils

    for module in (_keywords, _legacy_keywords, _utils):
        module.re = LINEAR_RE
