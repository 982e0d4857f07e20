"""A schema's `dump`, compiled once from its fields: the same dict, without marshmallow's
per-field machinery on every request.

marshmallow's `Schema.dump` walks every field of every nested object through
`Field.serialize` (accessor, default handling, `_serialize`): for a step's answer with
its ready tasks that is most of the time the response takes after the service returns.
`CompiledDump` builds, on a schema's first `dump`, one plain function per field from the
schema's own declared fields, and answers with it. What it builds is exactly what
marshmallow would return, key for key and type for type (so the JSON text is the same
byte for byte; `tests/test_fast_dump.py` compares both over real answers):

- only the field classes listed in `_plain` get a direct path, and only for the value
  types they return unchanged (a `str` to `String`, an `int` to `Integer`, ...); any other
  value, and any other field, goes through the field's own `_serialize`/`serialize`;
- a schema with dump hooks or its own `get_attribute` is dumped by marshmallow as before,
  and so is a field with a dotted `attribute` or a `dump_default`.

The schema stays the single description of the answer: the OpenAPI document is built
from its fields, which this does not touch.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP

Serializer = Callable[[Any], Any]
Dumper = Callable[[Any], dict[str, Any]]


class CompiledDump(Schema):
    """A Schema whose `dump` runs a function compiled from its fields (per item for many)."""

    _compiled: Dumper | None = None

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        many = self.many if many is None else bool(many)
        if many and obj is None:
            return super().dump(obj, many=True)
        dumper = self._compiled
        if dumper is None:
            dumper = self._compiled = compile_dumper(self)
        if many:
            return [dumper(item) for item in obj]
        return dumper(obj)


def compile_dumper(schema: Schema) -> Dumper:
    """A function answering `schema.dump(obj)` for one object (marshmallow's own when the
    schema is one this module does not compile)."""
    if not _compilable(schema):
        return lambda obj: Schema.dump(schema, obj, many=False)
    plan: list[tuple[str, str, str, Serializer | None, fields.Field[Any]]] = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        attribute = field.attribute if field.attribute is not None else name
        direct = field._CHECK_ATTRIBUTE and field.dump_default is missing and "." not in attribute
        plan.append((key, name, attribute, _plain(field) if direct else None, field))
    accessor = schema.get_attribute
    # For objects read by attribute (the views): the value types a field gives back as they
    # are, checked here rather than in a call of the field's serializer.
    steps = [(key, name, attribute, serialize, field, _passing(field) if serialize else None)
             for key, name, attribute, serialize, field in plan]

    def dump_mapping(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, name, attribute, serialize, field in plan:
            if serialize is None:  # marshmallow's own way for this field
                value = field.serialize(name, obj, accessor=accessor)
                if value is not missing:
                    out[key] = value
                continue
            value = _item(obj, attribute)
            if value is not missing:
                out[key] = serialize(value)
        return out

    def dump(obj: Any) -> dict[str, Any]:
        if hasattr(obj, "__getitem__"):
            return dump_mapping(obj)
        out: dict[str, Any] = {}
        for key, name, attribute, serialize, field, kept in steps:
            if serialize is None:  # marshmallow's own way for this field
                value = field.serialize(name, obj, accessor=accessor)
                if value is not missing:
                    out[key] = value
                continue
            value = getattr(obj, attribute, missing)  # marshmallow's read without __getitem__
            if value is missing:
                continue
            if kept is not None and (value is None or type(value) is kept):
                out[key] = value  # what `serialize` answers for it
            else:
                out[key] = serialize(value)
        return out

    return dump


def _item(obj: Any, key: str) -> Any:
    """marshmallow's `_get_value_for_key` for an object with `__getitem__`."""
    try:
        return obj[key]
    except (KeyError, IndexError, TypeError, AttributeError):
        return getattr(obj, key, missing)


def _compilable(schema: Schema) -> bool:
    hooks = schema._hooks
    return (
        not hooks[PRE_DUMP]
        and not hooks[POST_DUMP]
        and type(schema).get_attribute is Schema.get_attribute
        and schema.dict_class is dict
    )


def _passing(field: fields.Field[Any]) -> type | None:
    """The one type whose values (and None) the field's `_plain` serializer gives back
    unchanged, for the field classes that have one."""
    kind = type(field)
    if kind is fields.String:
        return str
    if kind is fields.Integer and not field.as_string:  # type: ignore[attr-defined]
        return int
    if kind is fields.Boolean:
        return bool
    if kind is fields.Float and not field.as_string:  # type: ignore[attr-defined]
        return float
    return None


def _plain(field: fields.Field[Any]) -> Serializer | None:
    """A direct path for the field classes whose output a type check decides."""
    kind = type(field)
    fallback = field._serialize
    name = field.name

    def passing(kept: type) -> Serializer:
        def serialize(value: Any) -> Any:
            if value is None or type(value) is kept:
                return value
            return fallback(value, name, None)

        return serialize

    kept = _passing(field)
    if kept is not None:
        return passing(kept)
    if kind is fields.UUID:
        def uuid_text(value: Any) -> Any:
            if type(value) is uuid.UUID:
                return str(value)
            return fallback(value, name, None)

        return uuid_text
    if kind in (fields.DateTime, fields.AwareDateTime, fields.NaiveDateTime):
        return _datetime(field)
    if (isinstance(field, fields.Dict) and kind is fields.Dict
            and field.key_field is None and field.value_field is None):
        def mapping(value: Any) -> Any:
            if type(value) is dict:
                return dict(value)
            return fallback(value, name, None)

        return mapping
    if kind is fields.List:
        return _list(field)
    if kind is fields.Nested:
        return _nested(field)
    return None


def _datetime(field: fields.Field[Any]) -> Serializer | None:
    form = field.format or field.DEFAULT_FORMAT  # type: ignore[attr-defined]
    if field.SERIALIZATION_FUNCS.get(form) is not dt.datetime.isoformat:  # type: ignore[attr-defined]
        return None
    fallback, name = field._serialize, field.name

    def iso(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is dt.datetime:
            return value.isoformat()
        return fallback(value, name, None)

    return iso


def _list(field: fields.Field[Any]) -> Serializer | None:
    each = _plain(field.inner)  # type: ignore[attr-defined]
    if each is None:  # an inner field that may read the object: marshmallow's way
        return None

    def many(value: Any) -> Any:
        if value is None:
            return None
        return [each(item) for item in value]

    return many


def _nested(field: fields.Field[Any]) -> Serializer:
    nested = field.schema  # type: ignore[attr-defined]
    if nested.many or field.many:  # type: ignore[attr-defined]
        return lambda value: None if value is None else nested.dump(value, many=True)
    dumper = compile_dumper(nested)
    return lambda value: None if value is None else dumper(value)
