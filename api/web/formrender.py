"""A step's JSON Schema as accessible HTML form fields, and the posted form back as data.

Server-side, so the page works without JavaScript under a strict CSP. Each input is named
by the JSON pointer of its value (`/applicant/address/city`), which is also where the
`forms` validator reports errors, so every message lands beside its field. Objects become
fieldsets, arrays of objects repeatable rows (a button adds one; empty rows are dropped),
arrays of choices checkbox groups, enums selects, booleans checkboxes; anything the
renderer cannot lay out (`oneOf`, free objects) is a JSON text area.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from forms import FIELD_URI_PREFIX, field_schemas

MISSING: Any = object()
_NUMERIC_FORMATS = {"nik", "npwp", "nib", "nitku", "postal_code", "rupiah"}
_INPUT_TYPES = {"date": "date", "email": "email", "uri": "url", "phone": "tel"}


@dataclass
class Field:
    """One rendered field (or group of fields) of a form."""

    path: str
    kind: str  # text, textarea, number, checkbox, select, group, rows, choices, json
    label: str
    hint: str = ""
    required: bool = False
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    error: str = ""
    input_type: str = "text"
    inputmode: str = ""

    @property
    def id(self) -> str:
        """An HTML id derived from the path."""
        return "f" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path or "-root")


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """`schema` with a reusable-field or local `$ref` merged in (local keys win)."""
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    target: Any = None
    if ref.startswith(FIELD_URI_PREFIX):
        target = field_schemas().get(ref[len(FIELD_URI_PREFIX) :])
    elif ref.startswith("#/"):
        target = root
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
    if not isinstance(target, dict):
        return {k: v for k, v in schema.items() if k != "$ref"}
    return {**resolve(target, root), **{k: v for k, v in schema.items() if k != "$ref"}}


def kind_of(schema: dict[str, Any]) -> str:
    """Which widget a (resolved) schema gets."""
    kind = "json"
    type_ = schema.get("type")
    if "enum" in schema:
        kind = "select"
    elif schema.get("const") is True or type_ == "boolean":
        kind = "checkbox"
    elif type_ == "object" or "properties" in schema:
        kind = "group" if "properties" in schema else "json"
    elif type_ == "array":
        items = _items(schema)
        kind = "choices" if "enum" in items else "rows"
    elif type_ in ("integer", "number"):
        kind = "number"
    elif type_ == "string":
        long = int(schema.get("maxLength") or 0) > 300 and not schema.get("pattern")
        kind = "textarea" if long and not schema.get("format") else "text"
    return kind


class Builder:
    """Builds the field tree of one schema with values, errors and labels in one language."""

    def __init__(
        self,
        root: dict[str, Any],
        *,
        lang: str,
        errors: dict[str, str] | None = None,
        extra_rows: dict[str, int] | None = None,
        hints: dict[str, str] | None = None,
    ) -> None:
        self.root, self.lang = root, lang
        self.errors = errors or {}
        self.extra_rows = extra_rows or {}
        self.hints = hints or {}
        self.used: set[str] = set()

    def form(self, data: Any) -> Field:
        """The whole form as one group."""
        return self.build(self.root, "", data, label="", required=True)

    def build(
        self, schema: dict[str, Any], path: str, value: Any, label: str, required: bool
    ) -> Field:
        """The field for `schema` at `path` holding `value`."""
        schema = resolve(schema, self.root)
        kind = kind_of(schema)
        node = Field(
            path=path,
            kind=kind,
            label=str(schema.get("title") or label),
            hint=self._hint(schema),
            required=required,
            value=None if value is MISSING else value,
            error=self._error(path),
        )
        getattr(self, f"_{kind}")(node, schema, value)
        return node

    def _hint(self, schema: dict[str, Any]) -> str:
        text = str(schema.get("description") or "")
        if " / " in text:  # the reusable fields say it in both languages, "id / en"
            first, _, second = text.partition(" / ")
            text = first if self.lang == "id" else second
        fmt = str(schema.get("format") or "")
        extra = self.hints.get(fmt, "")
        return f"{text} {extra}".strip() if extra not in text else text

    def _error(self, path: str) -> str:
        if path in self.errors:
            self.used.add(path)
            return self.errors[path]
        return ""

    def _group(self, node: Field, schema: dict[str, Any], value: Any) -> None:
        values = value if isinstance(value, dict) else {}
        required = set(schema.get("required") or [])
        for name, sub in (schema.get("properties") or {}).items():
            child_path = f"{node.path}/{_escape(name)}"
            node.children.append(
                self.build(sub, child_path, values.get(name, MISSING), name, name in required)
            )

    def _rows(self, node: Field, schema: dict[str, Any], value: Any) -> None:
        items = _items(schema)
        rows = list(value) if isinstance(value, list) else []
        count = max(len(rows), int(schema.get("minItems") or 0), 1) + self.extra_rows.get(
            node.path, 0
        )
        for i in range(count):
            row_value = rows[i] if i < len(rows) else MISSING
            label = f"{items.get('title') or node.label} {i + 1}"
            node.children.append(self.build(items, f"{node.path}/{i}", row_value, label, False))

    def _choices(self, node: Field, schema: dict[str, Any], value: Any) -> None:
        node.options = [(_text(v), _text(v)) for v in schema["items"]["enum"]]
        node.value = [_text(v) for v in value] if isinstance(value, list) else []

    def _select(self, node: Field, schema: dict[str, Any], value: Any) -> None:
        node.options = [(_text(v), _text(v)) for v in schema["enum"]]
        node.value = "" if value is MISSING else _text(value)

    def _checkbox(self, node: Field, schema: dict[str, Any], value: Any) -> None:
        node.value = value is True

    def _number(self, node: Field, schema: dict[str, Any], value: Any) -> None:
        integer = schema.get("type") == "integer" or schema.get("format") == "rupiah"
        node.inputmode = "numeric" if integer else "decimal"
        node.value = "" if value is MISSING else str(value)

    def _text(self, node: Field, schema: dict[str, Any], value: Any) -> None:
        fmt = str(schema.get("format") or "")
        node.input_type = _INPUT_TYPES.get(fmt, "text")
        node.inputmode = "numeric" if fmt in _NUMERIC_FORMATS else ""
        node.value = "" if value is MISSING else str(value)

    _textarea = _text

    def _json(self, node: Field, schema: dict[str, Any], value: Any) -> None:
        node.value = "" if value is MISSING else json.dumps(value, ensure_ascii=False, indent=1)


def parse(schema: dict[str, Any], form: MultiDict[str, str]) -> dict[str, Any]:
    """The data a posted form holds, typed by the schema (empty optional fields left out).

    Text that does not read as its type is kept as text, so the validator names the field.
    """
    value = _parse(schema, schema, "", form, True)
    return value if isinstance(value, dict) else {}


def _parse(
    schema: dict[str, Any],
    root: dict[str, Any],
    path: str,
    form: MultiDict[str, str],
    required: bool,
) -> Any:
    schema = resolve(schema, root)
    kind = kind_of(schema)
    if kind == "group":
        return _parse_group(schema, root, path, form, required)
    if kind == "rows":
        return _parse_rows(schema, root, path, form)
    if kind == "choices":
        chosen = form.getlist(path)
        values = [v for v in schema["items"]["enum"] if _text(v) in chosen]
        return values or MISSING
    if kind == "checkbox":
        return path in form
    raw = form.get(path, "").strip()
    if not raw:
        return MISSING
    if kind == "select":
        return next((v for v in schema["enum"] if _text(v) == raw), raw)
    if kind == "number":
        return _number(raw, schema)
    if kind == "json":
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _parse_group(
    schema: dict[str, Any],
    root: dict[str, Any],
    path: str,
    form: MultiDict[str, str],
    required: bool,
) -> Any:
    out = {}
    needed = set(schema.get("required") or [])
    for name, sub in (schema.get("properties") or {}).items():
        value = _parse(sub, root, f"{path}/{_escape(name)}", form, name in needed)
        if value is not MISSING:
            out[name] = value
    return out if required or _meaningful(out) else MISSING


def _parse_rows(
    schema: dict[str, Any], root: dict[str, Any], path: str, form: MultiDict[str, str]
) -> Any:
    items = _items(schema)
    indexes = sorted(
        {int(m[1]) for key in form if (m := re.match(re.escape(path) + r"/(\d+)(/|$)", key))}
    )
    rows = [_parse(items, root, f"{path}/{i}", form, False) for i in indexes]
    rows = [r for r in rows if r is not MISSING and r != {}]
    return rows or MISSING


def _meaningful(value: Any) -> bool:
    """Whether a parsed value holds anything typed (an unticked box or empty group does not)."""
    if isinstance(value, dict):
        return any(_meaningful(v) for v in value.values())
    return value is not False and value != []


def _number(raw: str, schema: dict[str, Any]) -> Any:
    text = raw.replace(" ", "")
    integer = schema.get("type") == "integer" or schema.get("format") == "rupiah"
    if integer or "," in text:  # Indonesian writing: 2.700.000 and 8,5
        text = text.replace(".", "").replace(",", ".")
    try:
        number = float(text) if not integer else int(text)
    except ValueError:
        return raw
    return (
        int(number)
        if isinstance(number, float) and number.is_integer() and "." not in text
        else number
    )


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) or value is None else str(value)


def _items(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of an array's items (one schema for all; tuple forms are not rendered)."""
    items = schema.get("items")
    return items if isinstance(items, dict) else {}
