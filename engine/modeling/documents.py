"""The JSON files of a model package: form schemas and the optional service standard."""

from __future__ import annotations

import json
import re
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
    standard, problems = _json_object(data, "standard.json", "the service standard")
    if standard is not None:
        problems += _requirement_problems(standard) + _archive_problems(standard)
    return (standard if not problems else None), problems


REQUIREMENT_CODE = re.compile(r"[a-z0-9_]{1,64}")


def _requirement_problems(standard: dict[str, Any]) -> list[Problem]:
    """The requirements applicants upload documents for: a requirement written as an object
    with a `code` is uploadable, and its code must be a unique lowercase word (it is part of
    the upload's address); one written as plain text is listed, not uploaded for."""
    requirements = standard.get("requirements")
    if not isinstance(requirements, list):
        return []
    problems, seen = [], set()
    for i, item in enumerate(requirements):
        if not isinstance(item, dict) or "code" not in item:
            continue
        code = item["code"]
        if not isinstance(code, str) or not REQUIREMENT_CODE.fullmatch(code):
            problems.append(Problem(
                "a requirement's code is lowercase letters, digits and _ (at most 64)",
                field=f"requirements/{i}/code", file="standard.json",
            ))
        elif code in seen:
            problems.append(Problem(f"requirement code {code!r} appears twice",
                                    field=f"requirements/{i}/code", file="standard.json"))
        seen.add(code)
    return problems


def _archive_problems(standard: dict[str, Any]) -> list[Problem]:
    """The archive rule: how many years documents are kept after the application ends."""
    archive = standard.get("archive")
    if archive is None:
        return []
    years = archive.get("retention_years") if isinstance(archive, dict) else None
    if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 100:
        return [Problem("archive.retention_years must be a whole number of years, 1-100",
                        field="archive/retention_years", file="standard.json")]
    return []


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
