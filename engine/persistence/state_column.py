"""The type of `applications.state`: JSON that takes a pre-encoded document as it is.

The runtime serializes a workflow state once per step (engine/workflow/serialization.py)
and hands over an `EncodedJson`, a dict carrying its JSON text: this type binds that text
instead of encoding the dict a second time (orjson, 0.06 ms for 130 KB, but also the
dict-to-text work the driver would repeat). Any other value -- a plain dict from an older
writer or a test -- is encoded by the column's JSON serializer as before.

PostgreSQL stores the document as `text` (migration 0023): the engine writes and reads it
whole and never queries inside it, and a `json` column parses every value written to
check it (0.04 ms per write of a 13 KB state, 0.25 ms of a 130 KB one, measured). The text
is always the JSON codec's output, and it is read back through the same codec, so the
column holds and gives back what it did as `json`. SQLite stores JSON as text either way
and keeps SQLAlchemy's `JSON` type; any other driver re-encodes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from engine.domain import json_codec
from engine.domain.encoded_json import EncodedJson


class StateJson(TypeDecorator[Any]):
    """`JSON` whose bind passes an `EncodedJson`'s text through unencoded; `text` on
    PostgreSQL, encoded and decoded by the engine's JSON codec."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(JSON())

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "postgresql":
            dumps = _serializer(dialect)

            def as_text(value: Any) -> Any:
                return value.text if type(value) is EncodedJson else dumps(value)

            return as_text
        encode = super().bind_processor(dialect)
        as_is = dialect.name == "sqlite"

        def process(value: Any) -> Any:
            if as_is and type(value) is EncodedJson:
                return value.text
            return encode(value) if encode is not None else value

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name == "postgresql":
            loads = _deserializer(dialect)

            def from_text(value: Any) -> Any:
                # Not text: a `json` column before migration 0023, decoded by the driver.
                return loads(value) if isinstance(value, str) else value

            return from_text
        return super().result_processor(dialect, coltype)


def _serializer(dialect: Dialect) -> Callable[[Any], str]:
    given: Callable[[Any], str] | None = getattr(dialect, "_json_serializer", None)
    return given or json_codec.dumps


def _deserializer(dialect: Dialect) -> Callable[[str], Any]:
    given: Callable[[str], Any] | None = getattr(dialect, "_json_deserializer", None)
    return given or json_codec.loads
