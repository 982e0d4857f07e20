"""Is this a usable form schema? Dialect, meta-schema, references and format names.

A form schema is a JSON object. Its dialect is JSON Schema 2020-12 unless `$schema` names
2019-09 or draft-07. References may point inside the schema (`#/$defs/...`, embedded `$id`s)
or at a reusable field (`permitflow:fields/<name>`); anything else, http(s) and file URLs
above all, is refused: nothing is ever fetched.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from jsonschema import Draft7Validator, Draft201909Validator, Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import specification_with

from forms.regex import pattern_problem
from forms.registry import FIELD_NAMES, FIELD_URI_PREFIX, field_registry, format_checker

DEFAULT_VALIDATOR: type[Validator] = Draft202012Validator
_DIALECTS: dict[str, type[Validator]] = {
    cls.META_SCHEMA["$id"].rstrip("#"): cls
    for cls in (Draft202012Validator, Draft201909Validator, Draft7Validator)
}
_REMOTE_SCHEMES = frozenset({"http", "https", "file", "ftp", "ftps", "data"})
_STANDARD_FORMATS = frozenset({
    "date-time", "date", "time", "duration", "email", "idn-email", "hostname",
    "idn-hostname", "ipv4", "ipv6", "uri", "uri-reference", "iri", "iri-reference", "uuid",
    "uri-template", "json-pointer", "relative-json-pointer", "regex",
})  # fmt: skip


class UnsupportedDialectError(ValueError):
    """`$schema` names a dialect we do not validate with."""


def validator_class(schema: dict[str, Any]) -> type[Validator]:
    """The validator class for the schema's dialect (2020-12 when `$schema` is absent).

    Raises: UnsupportedDialectError.
    """
    if "$schema" not in schema:
        return DEFAULT_VALIDATOR
    dialect = schema["$schema"]
    if isinstance(dialect, str) and dialect.rstrip("#") in _DIALECTS:
        return _DIALECTS[dialect.rstrip("#")]
    raise UnsupportedDialectError(
        f"$schema {dialect!r} is not supported: use "
        "'https://json-schema.org/draft/2020-12/schema' (or 2019-09, draft-07)"
    )


def schema_problems(schema: object) -> list[str]:
    """Messages if `schema` is not a usable JSON Schema (empty list = fine).

    Checks it is an object, its dialect, the dialect's meta-schema (all errors), then, once
    it is well-formed, that every `$ref` resolves offline and every `format` is known.
    """
    if not isinstance(schema, dict):
        return [f"a form schema must be a JSON object, not {_json_type(schema)}"]
    try:
        cls = validator_class(schema)
    except UnsupportedDialectError as error:
        return [str(error)]
    problems = [_describe(e) for e in _meta_validator(cls).iter_errors(schema)]
    if problems:
        return sorted(problems)
    return sorted(
        set(_reference_problems(schema, cls))
        | set(_format_problems(schema, cls))
        | set(_pattern_problems(schema, ""))
    )


def _meta_validator(cls: type[Validator]) -> Validator:
    # An empty Registry never retrieves; jsonschema adds the bundled meta-schemas to it.
    return cls(cls.META_SCHEMA, registry=Registry(), format_checker=cls.FORMAT_CHECKER)


def _describe(error: ValidationError) -> str:
    where = "".join(f"/{part}" for part in error.absolute_path) or "(root)"
    return f"at {where}: {error.message}"


def _json_type(value: object) -> str:
    names = {bool: "a boolean", list: "an array", str: "a string", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "an object")


def _walk(schema: dict[str, Any], cls: type[Validator]) -> Iterator[tuple[Resource, Any, str]]:
    """Every subschema with the resolver and base URI in force where it sits."""
    root = specification_with(cls.META_SCHEMA["$id"]).create_resource(schema)
    resolver = field_registry().resolver_with_root(root)
    stack = [(root, resolver, root.id() or "")]
    while stack:
        resource, resolver, base = stack.pop()
        yield resource, resolver, base
        for sub in resource.subresources():
            sub_base = urljoin(base, sub.id()) if sub.id() else base
            stack.append((sub, resolver.in_subresource(sub), sub_base))


def _reference_problems(schema: dict[str, Any], cls: type[Validator]) -> Iterator[str]:
    for resource, resolver, base in _walk(schema, cls):
        contents = resource.contents
        for keyword in ("$ref", "$dynamicRef"):
            ref = contents.get(keyword) if isinstance(contents, dict) else None
            if isinstance(ref, str):
                problem = _reference_problem(ref, resolver, base)
                if problem:
                    yield f"{keyword} {ref!r}: {problem}"


def _reference_problem(ref: str, resolver: Any, base: str) -> str | None:
    target = base if ref.startswith("#") else urldefrag(urljoin(base, ref))[0]
    try:
        resolver.lookup(ref)
    except Unresolvable:
        if urlsplit(target).scheme in _REMOTE_SCHEMES:
            return (
                "remote references are not allowed (nothing is fetched); use a local "
                f"'#/$defs/...' or a reusable field {FIELD_URI_PREFIX}<name>"
            )
        if target.startswith(FIELD_URI_PREFIX):
            return f"no such reusable field; known: {', '.join(FIELD_NAMES)}"
        return "cannot be resolved"
    return None


def _format_problems(schema: dict[str, Any], cls: type[Validator]) -> Iterator[str]:
    known = _STANDARD_FORMATS | set(format_checker().checkers)
    for resource, _, _ in _walk(schema, cls):
        name = resource.contents.get("format") if isinstance(resource.contents, dict) else None
        if isinstance(name, str) and name not in known:
            yield (
                f"format {name!r} is unknown and would not be checked; ours are "
                f"{', '.join(FIELD_NAMES)}"
            )


# Keywords whose value is a subschema, a list of them, or a mapping of names to them.
_ONE = ("additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
        "unevaluatedItems", "unevaluatedProperties", "additionalItems", "items")  # fmt: skip
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_NAMED = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def _pattern_problems(schema: Any, where: str) -> Iterator[str]:
    """Every `pattern` and `patternProperties` name RE2 cannot run, at its schema path."""
    if not isinstance(schema, dict):
        return
    problem = pattern_problem(schema.get("pattern"))
    if problem:
        yield f"at {where}/pattern: {problem}"
    for name in schema.get("patternProperties") or {}:
        problem = pattern_problem(name)
        if problem:
            yield f"at {where}/patternProperties: {problem}"
    for keyword in _ONE:
        yield from _pattern_problems(schema.get(keyword), f"{where}/{keyword}")
    for keyword in _MANY:
        value = schema.get(keyword)
        for index, sub in enumerate(value if isinstance(value, list) else []):
            yield from _pattern_problems(sub, f"{where}/{keyword}/{index}")
    for keyword in _NAMED:
        value = schema.get(keyword)
        for name, sub in value.items() if isinstance(value, dict) else ():
            yield from _pattern_problems(sub, f"{where}/{keyword}/{name}")
