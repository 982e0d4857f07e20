"""Validate task data against a form schema and report every error by field path.

`FormValidator.validate` returns all errors (not just the first), each as a `FieldError`
whose `field` is a JSON pointer into the submitted data, sorted by field. Format checking is
on, with our formats (`forms.registry`). Data that JSON cannot carry (NaN, a set, a non-text
key, a value that contains itself) is reported at its path instead of crashing the check.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from forms.fast_check import Check, compile_check
from forms.messages import indonesian
from forms.registry import field_registry, format_checker, format_message
from forms.schemas import schema_problems, validator_class

_MAX_DEPTH = 200


@dataclass(frozen=True)
class FieldError:
    """One problem with submitted data: where (JSON pointer, "" = root) and what."""

    field: str
    message: str


class FormSchemaError(ValueError):
    """The form schema itself is unusable; `problems` lists why (see `schema_problems`)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class FormValidator:
    """Validates task data against a form schema; caches compiled validators by a key.

    The key must identify the schema's content (e.g. `3273/pbg@2/registration.json`);
    without one, the schema's canonical JSON is the key. Safe to share between threads.
    """

    def __init__(self, *, max_cached: int = 512) -> None:
        self._cache: OrderedDict[str, tuple[Validator, Check | None]] = OrderedDict()
        self._max_cached = max_cached
        self._lock = threading.Lock()

    def validate(
        self,
        schema: dict[str, Any],
        data: object,
        *,
        cache_key: str | None = None,
        lang: str = "en",
    ) -> list[FieldError]:
        """Every error of `data` against `schema`, sorted by field (empty list = valid);
        messages in English, or in Bahasa Indonesia with `lang="id"`.

        Raises: FormSchemaError if the schema is not usable.
        """
        validator, fast = self._compiled(schema, cache_key)
        problems: list[FieldError] = []
        clean = _jsonish(data, [], problems, set())
        if not problems and fast is not None and _passes(fast, clean):
            return []  # valid: nothing to say, and jsonschema would find nothing
        bad = [p.field for p in problems]
        errors = [
            error
            for error in (_field_error(e, lang) for e in validator.iter_errors(clean))
            if not any(_within(error.field, pointer) for pointer in bad)
        ]
        return sorted(set(problems + errors), key=lambda e: (e.field, e.message))

    def _compiled(
        self, schema: dict[str, Any], cache_key: str | None
    ) -> tuple[Validator, Check | None]:
        key = cache_key if cache_key is not None else _fingerprint(schema)
        with self._lock:
            if key is not None and key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        compiled = _compile(schema)
        if key is not None:
            with self._lock:
                self._cache[key] = compiled
                while len(self._cache) > self._max_cached:
                    self._cache.popitem(last=False)
        return compiled


def _compile(schema: dict[str, Any]) -> tuple[Validator, Check | None]:
    """jsonschema's validator, and the fast check of the valid case when the schema allows
    one (`forms.fast_check`)."""
    problems = schema_problems(schema)
    if problems:
        raise FormSchemaError(problems)
    cls = validator_class(schema)
    checker = format_checker()
    validator = cls(schema, registry=field_registry(), format_checker=checker)
    return validator, compile_check(schema, checker)


def _passes(fast: Check, data: Any) -> bool:
    """The fast check's yes; anything else (no, or an exception) is jsonschema's to say."""
    try:
        return fast(data)
    except Exception:  # jsonschema then runs, and raises or reports as before
        return False


def _fingerprint(schema: object) -> str | None:
    try:
        return json.dumps(schema, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return None  # not JSON: checked (and refused) on every call, never cached


def _field_error(error: ValidationError, lang: str = "en") -> FieldError:
    pointer = _pointer(error.absolute_path)
    if error.validator == "required":
        # Point at the missing property itself, which is where a form shows the error.
        missing = [name for name in error.validator_value if _is_missing(error, name)]
        if missing:
            pointer = f"{pointer}/{_escape(missing[0])}"
    message = error.message
    if lang == "id":
        message = indonesian(error)
    elif error.validator == "format":
        message = format_message(str(error.validator_value), error.instance) or message
    return FieldError(pointer, message)


def _is_missing(error: ValidationError, name: object) -> bool:
    return isinstance(name, str) and error.message == f"{name!r} is a required property"


def _pointer(parts: Any) -> str:
    return "".join(f"/{_escape(str(part))}" for part in parts)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _within(field: str, pointer: str) -> bool:
    return field == pointer or field.startswith(pointer + "/")


def _jsonish(value: object, path: list[object], problems: list[FieldError], seen: set[int]) -> Any:
    """A JSON-only copy of `value`; what JSON cannot carry is reported and becomes None.
    `path`: the keys and indices down to `value` (made a pointer only for a problem)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        problems.append(FieldError(_at(path), f"{value!r} is not a number JSON can carry"))
        return None
    if not isinstance(value, dict | list):
        problems.append(FieldError(_at(path), f"a {type(value).__name__} is not a JSON value"))
        return None
    if id(value) in seen or len(seen) >= _MAX_DEPTH:
        problems.append(FieldError(_at(path), "the value contains itself or is nested too deeply"))
        return None
    seen.add(id(value))
    try:
        if isinstance(value, list):
            return _jsonish_list(value, path, problems, seen)
        return _jsonish_object(value, path, problems, seen)
    finally:
        seen.discard(id(value))


def _jsonish_list(
    value: list[Any], path: list[object], problems: list[FieldError], seen: set[int]
) -> list[Any]:
    clean = []
    for index, item in enumerate(value):
        path.append(index)
        clean.append(_jsonish(item, path, problems, seen))
        path.pop()
    return clean


def _jsonish_object(
    value: dict[Any, Any], path: list[object], problems: list[FieldError], seen: set[int]
) -> dict[str, Any]:
    clean = {}
    for key, item in value.items():
        path.append(key)
        if isinstance(key, str):
            clean[key] = _jsonish(item, path, problems, seen)
        else:
            problems.append(FieldError(_at(path), f"key {key!r} is not text"))
        path.pop()
    return clean


def _at(path: list[object]) -> str:
    return "".join(f"/{_escape(str(part))}" for part in path)
