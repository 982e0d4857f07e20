"""A body schema's `load`, answered without marshmallow when the answer is plain.

`POST /tasks/{id}/complete` (the step) takes `{"data": {...}}`: a schema of one `Dict`
field. marshmallow's `load` of it (error store, hooks, per-field `deserialize`, the
validators' walks) cost more than the rest of reading the request. For a schema made only
of `fields.Dict` fields that type neither keys nor values (no validators, no hooks, plain
names), a body that is a dict whose every key names such a field and whose every value is
a dict loads to exactly `{name: dict(value)}` for the given fields and each missing field's
`load_default`, in the schema's field order: what marshmallow returns (the same keys, the
same order, a copy of each mapping). Any other body (an unknown key, a value not a dict, a
missing required field) goes to marshmallow, which then answers or raises as before, so
the errors are its own. `tests/api/test_fast_load.py` compares both over many bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, missing
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

# The plain answer for a body, or None: "ask marshmallow".
FastLoad = Callable[[Any], dict[str, Any] | None]


def fast_loader(schema: Schema) -> FastLoad | None:
    """A function loading what `schema.load` would load from the bodies it is sure of, or
    None when `schema` is not one this module answers for."""
    if schema.many or schema.partial or type(schema).load is not Schema.load:
        return None
    hooks = schema._hooks  # marshmallow's resolved hook table
    if any(hooks.get(tag) for tag in (PRE_LOAD, POST_LOAD, VALIDATES, VALIDATES_SCHEMA)):
        return None
    plan: list[tuple[str, str, bool, Any]] = []  # (body key, answer key, required, default)
    for name, field in schema.load_fields.items():
        if not _plain_dict(field):
            return None
        attribute = field.attribute or name
        if "." in attribute:
            return None  # marshmallow nests dotted attributes
        key = field.data_key if field.data_key is not None else name
        plan.append((key, attribute, bool(field.required), field.load_default))
    keys = frozenset(key for key, _, _, _ in plan)
    if len(keys) != len(plan):
        return None

    def load(data: Any) -> dict[str, Any] | None:
        if type(data) is not dict or not keys.issuperset(data):
            return None  # not a mapping, or an unknown key: marshmallow's answer
        result: dict[str, Any] = {}
        for key, attribute, required, default in plan:
            if key in data:
                value = data[key]
                if type(value) is not dict:
                    return None  # null, a list, text...: marshmallow's error
                result[attribute] = dict(value)
            elif required:
                return None  # marshmallow's "Missing data for required field."
            elif default is not missing:
                result[attribute] = default() if callable(default) else default
        return result

    return load


def _plain_dict(field: fields.Field[Any]) -> bool:
    return (
        type(field) is fields.Dict
        and field.key_field is None
        and field.value_field is None
        and not field.validators
        and not field.pre_load
        and not field.post_load
        and field.mapping_type is dict
    )
