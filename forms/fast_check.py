"""A compiled yes/no check of data against the common form schemas, for the valid case.

jsonschema interprets a schema anew on every call, building a validator object for each
subschema it enters: some 160 us for one PBG form. Most submitted data is valid, and then
nothing needs saying. `compile_check` turns a 2020-12 form schema that uses only the
keywords below (with the same primitives jsonschema uses: its type semantics, `equal`,
`uniq`, RE2's `search`, the form's `FormatChecker`) into a function that answers True only
when the data is valid. Anything it does not know -- another keyword, another dialect, a
`$ref` other than a reusable field or a local `#/...` pointer, a recursive reference --
gives no check at all, and the form is always validated by jsonschema. A False (or any
exception) also goes to jsonschema, which finds and words the errors.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema._utils import equal, uniq

from forms import regex
from forms.registry import FIELD_URI_PREFIX, field_schemas

Check = Callable[[Any], bool]

# Keywords that never make data invalid (annotations, and containers only reached by $ref).
_ANNOTATIONS = frozenset({
    "$schema", "$comment", "$defs", "definitions", "title", "description", "default",
    "examples", "readOnly", "writeOnly", "deprecated",
})  # fmt: skip
_DIALECT = Draft202012Validator.META_SCHEMA["$id"].rstrip("#")


class _UnsupportedError(Exception):
    """The schema uses something this module does not check: jsonschema does it all."""


def compile_check(schema: Any, checker: FormatChecker) -> Check | None:
    """A function of the data that is True only if `schema` finds no error in it; None
    when the schema uses anything not covered here."""
    if not isinstance(schema, dict):
        return None
    dialect = schema.get("$schema", _DIALECT)
    if not isinstance(dialect, str) or dialect.rstrip("#") != _DIALECT:
        return None
    try:
        return _Compiler(checker).resource(schema)
    except (_UnsupportedError, RecursionError):
        return None


def _is_integer(value: Any) -> bool:  # as jsonschema's 2020-12 type checker
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int)


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Number)


TYPES: dict[str, Check] = {
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "integer": _is_integer,
    "null": lambda v: v is None,
    "number": _is_number,
    "object": lambda v: isinstance(v, dict),
    "string": lambda v: isinstance(v, str),
}


class _Compiler:
    def __init__(self, checker: FormatChecker) -> None:
        self.checker = checker
        self.entering: set[int] = set()  # subschemas being compiled: a cycle is unsupported

    def resource(self, root: dict[str, Any]) -> Check:
        """A schema document (the form, or a reusable field): `$id` allowed at its top."""
        return self.schema(root, root, top=True)

    def schema(self, schema: Any, root: dict[str, Any], top: bool = False) -> Check:
        if schema is True:
            return lambda _: True
        if schema is False:
            return lambda _: False
        if not isinstance(schema, dict) or id(schema) in self.entering:
            raise _UnsupportedError
        self.entering.add(id(schema))
        found = [
            self.keyword(name, value, schema, root)
            for name, value in schema.items()
            if name not in _ANNOTATIONS and not (top and name == "$id")
        ]
        self.entering.discard(id(schema))
        checks = [check for check in found if check is not None]
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:  # the common shapes, without a generator per call
            first, second = checks
            return lambda value: first(value) and second(value)
        if len(checks) == 3:
            first, second, third = checks
            return lambda value: first(value) and second(value) and third(value)
        return lambda value: all(check(value) for check in checks)

    def keyword(
        self, name: str, value: Any, schema: dict[str, Any], root: dict[str, Any]
    ) -> Check | None:
        if name in ("then", "else"):
            return None  # checked under `if`; without one, jsonschema ignores them
        if name not in _KEYWORDS:
            raise _UnsupportedError
        check: Check = getattr(self, _KEYWORDS[name])(value, schema, root)
        return check

    def kw_ref(self, ref: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        if not isinstance(ref, str):
            raise _UnsupportedError
        if ref.startswith(FIELD_URI_PREFIX) and ref[len(FIELD_URI_PREFIX) :] in field_schemas():
            return self.resource(field_schemas()[ref[len(FIELD_URI_PREFIX) :]])
        if ref.startswith("#/") and "%" not in ref and "~" not in ref:
            target: Any = root
            for part in ref[2:].split("/"):
                if not isinstance(target, dict) or part not in target:
                    raise _UnsupportedError
                target = target[part]
            return self.schema(target, root)
        raise _UnsupportedError

    def kw_type(self, names: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        names = [names] if isinstance(names, str) else names
        if not isinstance(names, list) or not all(n in TYPES for n in names):
            raise _UnsupportedError
        tests = [TYPES[n] for n in names]
        if len(tests) == 1:
            return tests[0]
        return lambda v: any(test(v) for test in tests)

    def kw_properties(self, props: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        if not isinstance(props, dict):
            raise _UnsupportedError
        pairs = [(name, self.schema(sub, root)) for name, sub in props.items()]

        def properties(value: Any) -> bool:
            if isinstance(value, dict):
                for name, check in pairs:
                    if name in value and not check(value[name]):
                        return False
            return True

        return properties

    def kw_required(self, names: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        if not isinstance(names, list):
            raise _UnsupportedError
        return lambda v: not isinstance(v, dict) or all(n in v for n in names)

    def kw_additional_properties(
        self, extra: Any, schema: dict[str, Any], root: dict[str, Any]
    ) -> Check:
        if "patternProperties" in schema:
            raise _UnsupportedError
        known = frozenset(schema.get("properties") or ())
        check = self.schema(extra, root)

        def additional(value: Any) -> bool:
            if isinstance(value, dict):
                for name in value:
                    if name not in known and not check(value[name]):
                        return False
            return True

        return additional

    def kw_enum(self, options: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        if not isinstance(options, list):
            raise _UnsupportedError
        return lambda v: any(equal(option, v) for option in options)

    def kw_const(self, const: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        return lambda v: equal(const, v)

    def kw_format(self, name: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        conforms = self.checker.conforms
        return lambda v: conforms(v, name)

    def kw_pattern(self, pattern: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        if not isinstance(pattern, str):
            raise _UnsupportedError
        search = regex.search  # RE2, linear time, as jsonschema's (`forms.regex`)
        return lambda v: not isinstance(v, str) or search(pattern, v) is not None

    def kw_min_length(self, n: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        bound = _bound(n)
        return lambda v: not isinstance(v, str) or len(v) >= bound

    def kw_max_length(self, n: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        bound = _bound(n)
        return lambda v: not isinstance(v, str) or len(v) <= bound

    def kw_min_items(self, n: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        bound = _bound(n)
        return lambda v: not isinstance(v, list) or len(v) >= bound

    def kw_max_items(self, n: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        bound = _bound(n)
        return lambda v: not isinstance(v, list) or len(v) <= bound

    def kw_minimum(self, n: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        limit = _limit(n)
        return lambda v: not _is_number(v) or v >= limit

    def kw_maximum(self, n: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        limit = _limit(n)
        return lambda v: not _is_number(v) or v <= limit

    def kw_exclusive_minimum(self, n: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        limit = _limit(n)
        return lambda v: not _is_number(v) or v > limit

    def kw_exclusive_maximum(self, n: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        limit = _limit(n)
        return lambda v: not _is_number(v) or v < limit

    def kw_unique_items(self, unique: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        if not unique:
            return lambda _: True
        return lambda v: not isinstance(v, list) or bool(uniq(v))

    def kw_items(self, items: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        if "prefixItems" in schema:
            raise _UnsupportedError
        check = self.schema(items, root)
        return lambda v: not isinstance(v, list) or all(check(item) for item in v)

    def kw_if(self, condition: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        test = self.schema(condition, root)
        then = self.schema(schema["then"], root) if "then" in schema else None
        other = self.schema(schema["else"], root) if "else" in schema else None

        def branch(value: Any) -> bool:
            chosen = then if test(value) else other
            return chosen is None or chosen(value)

        return branch

    def kw_not(self, sub: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        check = self.schema(sub, root)
        return lambda v: not check(v)

    def kw_all_of(self, subs: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        checks = self._many(subs, root)
        return lambda v: all(check(v) for check in checks)

    def kw_any_of(self, subs: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        checks = self._many(subs, root)
        return lambda v: any(check(v) for check in checks)

    def kw_one_of(self, subs: Any, schema: dict[str, Any], root: dict[str, Any]) -> Check:
        checks = self._many(subs, root)
        return lambda v: sum(1 for check in checks if check(v)) == 1

    def _many(self, subs: Any, root: dict[str, Any]) -> list[Check]:
        if not isinstance(subs, list) or not subs:
            raise _UnsupportedError
        return [self.schema(sub, root) for sub in subs]


_KEYWORDS: dict[str, str] = {
    "$ref": "kw_ref",
    "type": "kw_type",
    "properties": "kw_properties",
    "required": "kw_required",
    "additionalProperties": "kw_additional_properties",
    "enum": "kw_enum",
    "const": "kw_const",
    "format": "kw_format",
    "pattern": "kw_pattern",
    "minLength": "kw_min_length",
    "maxLength": "kw_max_length",
    "minItems": "kw_min_items",
    "maxItems": "kw_max_items",
    "minimum": "kw_minimum",
    "maximum": "kw_maximum",
    "exclusiveMinimum": "kw_exclusive_minimum",
    "exclusiveMaximum": "kw_exclusive_maximum",
    "uniqueItems": "kw_unique_items",
    "items": "kw_items",
    "if": "kw_if",
    "not": "kw_not",
    "allOf": "kw_all_of",
    "anyOf": "kw_any_of",
    "oneOf": "kw_one_of",
}


def _bound(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise _UnsupportedError
    return n


def _limit(n: Any) -> int | float:
    if isinstance(n, bool) or not isinstance(n, int | float):
        raise _UnsupportedError
    return n
