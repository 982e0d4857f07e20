"""Writing a step's own rows without the ORM's unit-of-work machinery.

Why: a plain step writes three rows (the application's UPDATE, the completed task's UPDATE,
the next task's INSERT). The ORM's flush of them cost 0.79 ms of a 3.4 ms SQLite step, of
which the SQL was 0.1 ms: the rest is the unit of work sorting mappers, collecting
history and building statements per flush (issue #16, cProfile and timers).

What: at every flush (a commit's, or an autoflush before a query) where every pending
change is an update of an application or task row or an insert of a task row (the shape
of almost every step), `write_pending` writes them itself, with statements compiled once
per table, column set and dialect (the SQL text, casts included, the ORM would send) and
run as driver SQL; then it marks the records clean with the call the ORM's own flush ends
with. It follows the ORM's rules: only columns whose value changed are set; the row
version is checked and bumped as `version_id_col` does (a stale write raises
`StaleDataError`, which the unit of work turns into a 409; the live-workflow cache keys on
that version); an insert binds what the ORM would (a JSON column set to None stores JSON
null, one never set stores SQL NULL, a scalar column default fills what is left).
Anything else pending (other tables, deletes, a new application, SQL expressions as
values, server defaults) leaves the whole flush to the ORM, untouched.
tests/service/test_fast_flush.py checks the rows are the same as the ORM writes.

SQLAlchemy internals used, only here: `Session._register_persistent` (what a flush calls
to make records persistent and clean) and the mapper's `version_id_generator`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import Column, Table, bindparam, insert, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.state import InstanceState
from sqlalchemy.sql.elements import ClauseElement

from engine.domain.encoded_json import EncodedJson
from engine.persistence.tables import ApplicationRecord, TaskRecord

# Records whose updates are written here; of these, only task rows are inserted here (a
# new application is written by the ORM: its audit columns take server defaults).
_UPDATED = (ApplicationRecord, TaskRecord)
_INSERTED = (TaskRecord,)

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Statement:
    sql: str
    names: tuple[str, ...] | None  # positional drivers: the parameters' order
    processors: dict[str, _Processor]  # bind name -> the column type's bind processor


class _OrmMustFlushError(Exception):
    """This flush is not one the fast path writes exactly as the ORM would."""


class StepSession(Session):
    """The engine's session: its flush first runs `before_write` (the unit of work chains
    its audit events onto the applications' rows), then writes a step's own rows with
    `write_pending` when it can, else lets the ORM flush as usual."""

    before_write: Callable[[Session], None] | None = None

    def flush(self, objects: Sequence[Any] | None = None) -> None:
        if self.before_write is not None:
            self.before_write(self)
        if objects is None and write_pending(self):
            return
        super().flush(objects)


def write_pending(session: Session) -> bool:
    """Write the session's pending changes if they are all of the step's shape; True when
    done (nothing is left to flush), False when the ORM must flush (nothing was written).

    Raises: StaleDataError when an application or task row changed since it was read.
    """
    if session.deleted:
        return False
    try:
        inserts = [_insert_of(obj) for obj in session.new]
        updates = [_update_of(obj) for obj in session.dirty]
    except _OrmMustFlushError:
        return False
    if not inserts and not updates:
        return False
    conn = session.connection()
    # The ORM's order: applications before tasks, a table's updates (by key) before its
    # inserts (in the order added); rows of one statement shape go in one executemany.
    updates.sort(key=_update_order)
    inserts.sort(key=lambda w: w.state.insert_order or 0)
    pending = [w for w in updates + inserts if w.columns]  # equal values: nothing to write
    for _, group in groupby(pending, key=_shape):
        writes = list(group)
        statement = _compiled(writes[0], conn.dialect)
        if writes[0].version is None:
            params = [_bound(statement, w.params) for w in writes]
            conn.exec_driver_sql(statement.sql, params if len(params) > 1 else params[0])
            continue
        for write in writes:  # each version checked on its own
            result = conn.exec_driver_sql(statement.sql, _bound(statement, write.params))
            if result.rowcount != 1:
                raise StaleDataError(
                    f"UPDATE of {write.table.name} row {write.params['pk']} matched "
                    f"{result.rowcount} rows: it changed since it was read"
                )
    for write in updates + inserts:
        write.state.dict.update(write.after)
    session._register_persistent({w.state for w in updates + inserts})
    return True


@dataclass(slots=True)
class _Write:
    state: InstanceState[Any]
    table: Table
    kind: str  # "insert" or "update"
    columns: tuple[str, ...]  # the columns it sets, in the table's order
    params: dict[str, Any]
    after: dict[str, Any]  # values the record takes once written (defaults, new version)
    version: Column[Any] | None = None  # an update's version column, checked and bumped


def _shape(write: _Write) -> tuple[str, str, tuple[str, ...], bool]:
    return (write.table.name, write.kind, write.columns, write.version is not None)


def _update_order(write: _Write) -> tuple[int, str]:
    return (0 if write.table is _APPLICATIONS else 1, str(write.params["pk"]))


def _insert_of(obj: object) -> _Write:
    if type(obj) not in _INSERTED:
        raise _OrmMustFlushError
    state: InstanceState[Any] = obj._sa_instance_state  # type: ignore[attr-defined]
    mapper, values = state.mapper, state.dict
    if mapper.version_id_col is not None or _relationship_set(mapper, values):
        raise _OrmMustFlushError
    params: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, column in _columns(mapper).items():
        value = values.get(key)
        if isinstance(value, ClauseElement):
            raise _OrmMustFlushError
        if value is not None or (key in values and column.type.should_evaluate_none):
            params[column.key] = value
        elif column.server_default is not None:
            raise _OrmMustFlushError
        elif column.default is not None:
            if not column.default.is_scalar:
                raise _OrmMustFlushError
            params[column.key] = after[key] = column.default.arg
        elif column.primary_key:
            raise _OrmMustFlushError  # generated keys stay with the ORM
        elif not column.type.should_evaluate_none:
            params[column.key] = None
        # else: a JSON column never set stays out of the INSERT (SQL NULL, as the ORM does)
    table = _table(obj)
    return _Write(state, table, "insert", _in_table_order(table, params), params, after)


def _update_of(obj: object) -> _Write:
    if type(obj) not in _UPDATED:
        raise _OrmMustFlushError
    state: InstanceState[Any] = obj._sa_instance_state  # type: ignore[attr-defined]
    mapper, values = state.mapper, state.dict
    columns = _columns(mapper)
    params: dict[str, Any] = {}
    for key, old in state.committed_state.items():
        column = columns.get(key)
        if column is None or column.primary_key or key not in values:
            raise _OrmMustFlushError  # a relationship, a key change, an expired attribute
        new = values[key]
        if isinstance(new, ClauseElement):
            raise _OrmMustFlushError
        # A state the runtime just encoded is a new document: written without comparing
        # it with the one read (the ORM compares: up to 0.3 ms for a 130 KB state).
        if (old is not NO_VALUE and type(new) is not EncodedJson
                and state.manager[key].impl.is_equal(new, old) is True):
            continue
        params[column.key] = new
    after: dict[str, Any] = {}
    version: Any = mapper.version_id_col if params else None
    if version is not None:
        generate = mapper.version_id_generator
        if version.key in params or not callable(generate):
            raise _OrmMustFlushError
        current = values[version.key]
        after[version.key] = params[version.key] = generate(current)
        params["_version"] = current
    table = _table(obj)
    columns_set = _in_table_order(table, params)
    params["pk"] = values[_primary_key(mapper)]
    return _Write(state, table, "update", columns_set, params, after, version)


def _in_table_order(table: Table, params: dict[str, Any]) -> tuple[str, ...]:
    return tuple(c.key for c in table.columns if c.key in params)


def _bound(statement: _Statement, params: dict[str, Any]) -> Any:
    processed = {
        name: (process(params[name]) if process is not None else params[name])
        for name, process in statement.processors.items()
    }
    if statement.names is None:
        return processed
    return tuple(processed[name] for name in statement.names)


_APPLICATIONS: Table = ApplicationRecord.__table__  # type: ignore[assignment]
_CACHE: dict[tuple[str, str, tuple[str, ...], bool, str], _Statement] = {}
_COLUMNS: dict[type, dict[str, Any]] = {}


def _table(obj: object) -> Table:
    table: Table = type(obj).__table__  # type: ignore[attr-defined]
    return table


def _columns(mapper: Mapper[Any]) -> dict[str, Any]:
    """Attribute key -> column, of a record mapped on one table.

    Raises: _OrmMustFlushError for a mapping the ORM writes with more than the values set
    (a column's onupdate, a computed column, inheritance): those stay with the ORM.
    """
    found = _COLUMNS.get(mapper.class_)
    if found is None:
        found = {prop.key: prop.columns[0] for prop in mapper.column_attrs}
        plain = mapper.inherits is None and len(mapper.tables) == 1 and all(
            c.onupdate is None and c.server_onupdate is None and c.computed is None
            and len(mapper.get_property(k).columns) == 1
            for k, c in found.items()
        )
        found = _COLUMNS[mapper.class_] = found if plain else {}
    if not found:
        raise _OrmMustFlushError
    return found


def _primary_key(mapper: Mapper[Any]) -> str:
    (key,) = mapper.primary_key
    return mapper.get_property_by_column(key).key


def _relationship_set(mapper: Mapper[Any], values: dict[str, Any]) -> bool:
    return any(rel.key in values for rel in mapper.relationships)


def _compiled(write: _Write, dialect: Dialect) -> _Statement:
    """The statement for this table, kind and column set, compiled once per dialect."""
    table, version = write.table, write.version
    key = (table.name, write.kind, write.columns, version is not None, dialect.name)
    found = _CACHE.get(key)
    if found is not None:
        return found
    types = {c.key: c.type for c in table.columns}
    if write.kind == "insert":
        statement: Any = insert(table)
    else:
        (pk,) = table.primary_key.columns
        statement = update(table).where(pk == bindparam("pk", type_=pk.type))
        types["pk"] = pk.type
        if version is not None:
            statement = statement.where(version == bindparam("_version", type_=version.type))
            types["_version"] = version.type
    # As the ORM compiles it: one bind per column set, named by the column's key.
    compiled = statement.compile(dialect=dialect, column_keys=list(write.columns))
    processors: dict[str, _Processor] = {
        str(name): types[name].dialect_impl(dialect).bind_processor(dialect)
        for name in compiled.binds
    }
    names = tuple(compiled.positiontup or ()) if compiled.positional else None
    found = _Statement(compiled.string, names, processors)
    _CACHE[key] = found
    return found
