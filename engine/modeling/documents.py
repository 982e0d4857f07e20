"""The JSON files of a model package: form schemas and the optional service standard."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.domain.problems import Problem

SchemaCheck = Callable[[object], Sequence[str]]
MAX_JSON_BYTES = 1024 * 1024


def read_forms(
    files: Mapping[str, bytes], schema_problems: SchemaCheck
) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """Parse every form file; each must be a JSON object that is a valid JSON Schema."""
    forms: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for name in sorted(files):
        path = f"forms/{name}"
        schema, found = _json_object(files[name], path, "a form")
        if schema is not None:
            found += [
                Problem(f"{path} is not a valid JSON Schema: {message}", file=path)
                for message in _schema_messages(schema_problems, schema)
            ]
        if schema is not None and not found:
            forms[name] = schema
        problems += found
    return forms, problems


def _schema_messages(schema_problems: SchemaCheck, schema: dict[str, Any]) -> list[str]:
    try:
        return list(schema_problems(schema))
    except Exception as exc:  # e.g. RecursionError on a pathological schema: still a reply
        return [f"the schema could not be checked ({type(exc).__name__})"]


def read_standard(data: bytes | None) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The service standard (`standard.json`), which must be a JSON object when present."""
    if data is None:
        return None, []
    return _json_object(data, "standard.json", "the service standard")


def _json_object(data: bytes, path: str, what: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    if len(data) > MAX_JSON_BYTES:
        return None, [
            Problem(f"{path} is {len(data):,} bytes; the limit is {MAX_JSON_BYTES:,}", file=path)
        ]
    try:
        value = json.loads(data)  # bytes: json detects UTF-8/16/32 itself
    except json.JSONDecodeError as exc:
        return None, [
            Problem(
                f"{path} is not valid JSON: {exc.msg} (column {exc.colno})",
                line=exc.lineno,
                file=path,
            )
        ]
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        return None, [Problem(f"{path} cannot be read as JSON: {exc}", file=path)]
    if not isinstance(value, dict):
        found = type(value).__name__
        return None, [
            Problem(f"{path} must hold a JSON object for {what}, not a {found}", file=path)
        ]
    return value, []
