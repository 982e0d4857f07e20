"""Reusable field schemas and formats: the offline `referencing.Registry` and the `FormatChecker`.

An analyst writes either style, both checked the same way:

    {"$ref": "permitflow:fields/nik"}            # the field schema (type, format, title)
    {"type": "string", "format": "nik"}          # the format alone

Fields: `nik`, `npwp`, `nib`, `nitku`, `phone`, `postal_code`, `address`, `rupiah`, `document`
(see `forms/fields/*.json` and `forms.identifiers`). Every field name is also a format name.

The registry holds only these fields and never retrieves anything: a `$ref` to any other
absolute URI (http, https, file, ...) is unresolvable, never fetched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from forms import identifiers, regex

FIELD_URI_PREFIX = "permitflow:fields/"

_TEXT_FORMATS: dict[str, tuple[str, Callable[[str], str | None]]] = {
    "nik": ("NIK", identifiers.nik_problem),
    "npwp": ("NPWP", identifiers.npwp_problem),
    "nib": ("NIB", identifiers.nib_problem),
    "nitku": ("NITKU", identifiers.nitku_problem),
    "phone": ("Indonesian phone number", identifiers.phone_problem),
    "postal_code": ("postal code", identifiers.postal_code_problem),
}
_OBJECT_FORMATS = {"address": "address", "document": "document reference"}

FIELD_NAMES: tuple[str, ...] = tuple(sorted([*_TEXT_FORMATS, *_OBJECT_FORMATS, "rupiah"]))


def field_uri(name: str) -> str:
    """The `$ref` URI of a reusable field, e.g. `permitflow:fields/nik`."""
    return FIELD_URI_PREFIX + name


@cache
def field_schemas() -> dict[str, dict[str, Any]]:
    """The reusable field schemas by name, as shipped in `forms/fields/`.

    Treat the result as read-only: it is shared.
    """
    folder = resources.files("forms.fields")
    return {name: json.loads((folder / f"{name}.json").read_text("utf-8")) for name in FIELD_NAMES}


@cache
def field_registry() -> Registry:
    """A registry with every reusable field under its URI; it cannot retrieve anything else."""
    pairs = [(field_uri(name), Resource.from_contents(s)) for name, s in field_schemas().items()]
    return Registry().with_resources(pairs).crawl()


@cache
def format_checker() -> FormatChecker:
    """Standard formats plus ours. Shared: do not register more checks on it."""
    checker = FormatChecker()
    for name, (_, problem) in _TEXT_FORMATS.items():
        checker.checks(name)(_text_check(problem))
    checker.checks("rupiah")(_is_rupiah)
    checker.checks("regex")(regex.is_regex)  # jsonschema's compiles with `re`: RecursionError
    for name in _OBJECT_FORMATS:
        checker.checks(name)(_object_check(name))
    return checker


def format_message(format_name: str, instance: object) -> str | None:
    """A plain-English message for a failed check of one of our formats (None for others)."""
    if format_name in _TEXT_FORMATS and isinstance(instance, str):
        label, problem = _TEXT_FORMATS[format_name]
        return f"{instance!r} is not a valid {label} ({problem(instance)})"
    if format_name == "rupiah" and isinstance(instance, int | float):
        reason = identifiers.rupiah_problem(instance)
        return f"{instance!r} is not a valid rupiah amount ({reason})"
    if format_name == "regex" and isinstance(instance, str):
        return "not a regular expression in RE2 syntax (no backreferences or lookaround)"
    if format_name in _OBJECT_FORMATS:
        error = best_match(_field_validator(format_name).iter_errors(instance))
        detail = f" ({error.message})" if error is not None else ""
        return f"not a valid {_OBJECT_FORMATS[format_name]}{detail}"
    return None


def _text_check(problem: Callable[[str], str | None]) -> Callable[[object], bool]:
    # As JSON Schema formats do, a value of another type passes: `type` reports it.
    return lambda value: not isinstance(value, str) or problem(value) is None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_rupiah(value: object) -> bool:
    return not _is_number(value) or identifiers.rupiah_problem(value) is None  # type: ignore[arg-type]


def _object_check(name: str) -> Callable[[object], bool]:
    return lambda value: not isinstance(value, dict) or _field_validator(name).is_valid(value)


@cache
def _field_validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(
        field_schemas()[name], registry=field_registry(), format_checker=format_checker()
    )
