"""Writing a step's own rows without the ORM's unit-of-work machinery.

Why: a plain step writes three rows (the application's UPDATE, the completed task's UPDATE,
the next task's INSERT). The ORM's flush of them cost 0.79 ms of a 3.4 ms SQLite step, of
which the SQL was 0.1 ms: the rest is the unit of work sorting mappers, collecting
history and building statements per flush (issue #16, cProfile and timers).

What: at every flush (a commit's, or an autoflush before a query) where every pending
change is an update or insert of an application or task row (the shape of almost every
step, and of a start), `write_pending` writes them itself, with statements compiled once
per table, column set and dialect (the SQL text, casts included, the ORM would send) and
run as driver SQL; then it marks the records clean with the call the ORM's own flush ends
with. It follows the ORM's rules: only columns whose value changed are set; the row
version is checked and bumped as `version_id_col` does (a stale write raises
`StaleDataError`, which the unit of work turns into a 409; the live-workflow cache keys on
that version); an insert binds what the ORM would (a JSON column set to None stores JSON
null, one never set stores SQL NULL, a scalar column default fills what is left).
Anything else pending (other tables, deletes, SQL expressions as values, a column left
to its server default) leaves the whole flush to the ORM, untouched.
tests/service/test_fast_flush.py checks the rows are the same as the ORM writes.

On PostgreSQL the writes of one flush go as one statement (`_write_folded`): each is a
data-modifying CTE (updates `RETURNING 1`, their counts selected for the version check),
and at commit the step's audit events ride along (`StepSession.flush_with`; on SQLite
they follow as one more statement compiled once, like the rows'). A plain step
then makes four round trips, not seven (BEGIN, the lock, the writes, COMMIT): each
statement costs the client SQLAlchemy's and psycopg's per-execute work and the server a
bind and an executor start, more than the wait itself (pipelining the seven measured no
gain for PBG; folding saves 0.5-0.6 ms a step, A/B). SQLite has no round trips: there
the statements stay apart.

SQLAlchemy internals used, only here: `Session._register_persistent` (what a flush calls
to make records persistent and clean) and the mapper's `version_id_generator`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import Column, Table, bindparam, insert, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.state import InstanceState
from sqlalchemy.sql.elements import ClauseElement

from engine.domain.encoded_json import EncodedJson
from engine.persistence.tables import ApplicationRecord, TaskRecord

# Records whose updates and inserts are written here (a new application with its first
# task rows at a start: its row version is the generator's first, as the ORM's insert).
_UPDATED = (ApplicationRecord, TaskRecord)
_INSERTED = (ApplicationRecord, TaskRecord)

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

    def flush_with(self, table: Table, rows: Sequence[dict[str, Any]]) -> bool:
        """Flush a step's shape and insert `rows` into `table` after its writes (on
        PostgreSQL in the same statement); False when nothing was written: the caller
        flushes and inserts them itself."""
        if self.before_write is not None:
            self.before_write(self)
        return write_pending(self, (table, rows))


def only_step_rows_pending(session: Session) -> bool:
    """Every pending change is an application or task row's (what `write_pending` takes):
    a query of other tables can skip the autoflush, its answer is the same."""
    return not session.deleted and all(type(o) in _INSERTED for o in session.new) and all(
        type(o) in _UPDATED for o in session.dirty
    )


def write_pending(
    session: Session, tail: tuple[Table, Sequence[dict[str, Any]]] | None = None
) -> bool:
    """Write the session's pending changes if they are all of the step's shape; True when
    done (nothing is left to flush), False when the ORM must flush (nothing was written).
    `tail`: rows to insert into a table after them (written too when True is returned;
    on PostgreSQL in the same statement).

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
    inserts.sort(key=_insert_order)
    pending = [w for w in updates + inserts if w.columns]  # equal values: nothing to write
    if tail is not None:
        table, rows = tail
        pending += [_Write(None, table, "insert", _in_table_order(table, r), r, {}) for r in rows]
    folded = _folded(pending, conn.dialect)
    if folded is not None:
        _write_folded(conn, folded, pending)
    else:
        _write_apart(conn, pending)
    states = []
    for write in updates + inserts:
        assert write.state is not None  # records, not `tail` rows
        write.state.dict.update(write.after)
        states.append(write.state)
    session._register_persistent(set(states))
    return True


def _write_apart(conn: Connection, pending: list[_Write]) -> None:
    """One statement per shape (an executemany for several rows), each version checked."""
    for _, group in groupby(pending, key=_shape):
        writes = list(group)
        statement = _compiled(writes[0], conn.dialect)
        if writes[0].version is None:  # (each row's count is not checked, as before)
            params = [_bound(statement, w.params) for w in writes]
            conn.exec_driver_sql(statement.sql, params if len(params) > 1 else params[0])
            continue
        for write in writes:  # each version checked on its own
            result = conn.exec_driver_sql(statement.sql, _bound(statement, write.params))
            if result.rowcount != 1:
                raise _stale(write, result.rowcount)


def _stale(write: _Write, matched: int) -> StaleDataError:
    return StaleDataError(
        f"UPDATE of {write.table.name} row {write.params['pk']} matched {matched} rows: "
        "it changed since it was read"
    )


@dataclass(frozen=True, slots=True)
class _Folded:
    sql: str
    parts: tuple[tuple[str, _Statement], ...]  # each write's bind prefix and statement
    checked: tuple[int, ...]  # the updates, by index, whose counts the statement selects


def _write_folded(conn: Connection, folded: _Folded, pending: list[_Write]) -> None:
    params: dict[str, Any] = {}
    for (prefix, statement), write in zip(folded.parts, pending, strict=True):
        for name, value in _bound(statement, write.params).items():
            params[prefix + name] = value
    counts = conn.exec_driver_sql(folded.sql, params).one()
    # With no update to check, the statement selects a lone 1.
    for index, matched in zip(folded.checked, counts, strict=False):
        if matched != 1:
            raise _stale(pending[index], matched)


def let_psycopg_cache_folded_texts() -> None:
    """psycopg converts a query's `%(name)s` placeholders to `$n` with a regex split of the
    whole text, cached only for texts of at most 4096 bytes and 50 parameters (psycopg 3.3,
    `psycopg._queries`: a guard against ORMs' ever-changing multi-row INSERTs). A folded
    step often has more (PBG's step with two events and a new task: 67 in 2.7 KB), and
    converting that text took 0.3 ms every time (a loaded machine). Ours are few shapes,
    built once (`_FOLDED`, bounded): they may be cached. The cache itself stays psycopg's
    (an LRU of 128 texts); raised limits only let longer texts into it.
    tests/service/test_fast_flush.py checks a folded step converts nothing uncached."""
    try:
        from psycopg import _queries
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return
    for name, limit in (("MAX_CACHED_STATEMENT_LENGTH", _FOLD_MAX * 2048),
                        ("MAX_CACHED_STATEMENT_PARAMS", _FOLD_MAX * 40)):
        setattr(_queries, name, max(getattr(_queries, name, 0), limit))


# More writes than this (e.g. hundreds of instances' rows) go apart: one text per count.
_FOLD_MAX = 16
_BIND = re.compile(r"%\((\w+)\)s")
_FOLDED: dict[tuple[Any, ...], _Folded | None] = {}
_FOLDED_KEPT = 512


def _folded(pending: list[_Write], dialect: Dialect) -> _Folded | None:
    """The writes as one statement of data-modifying CTEs (PostgreSQL, several writes),
    built once per sequence of shapes; None: they go apart.

    Each update is a CTE of its own; the rows of consecutive inserts of one shape are one
    multi-row INSERT, so that rows with generated keys (audit events) get them in order
    (separate CTEs run in no defined order)."""
    if dialect.name != "postgresql" or not 1 < len(pending) <= _FOLD_MAX:
        return None
    key = tuple(_shape(w) for w in pending)
    if key in _FOLDED:
        return _FOLDED[key]
    if len(_FOLDED) >= _FOLDED_KEPT:  # sequences of shapes are few; never grow unbounded
        _FOLDED.clear()
    found = _FOLDED[key] = _fold(pending, dialect)
    return found


def _fold(pending: list[_Write], dialect: Dialect) -> _Folded | None:
    parts: list[tuple[str, _Statement]] = []
    ctes: list[str] = []
    checked: list[int] = []
    for _, group in groupby(enumerate(pending), key=lambda item: _shape(item[1])):
        writes = list(group)
        statement = _compiled(writes[0][1], dialect)
        if statement.names is not None or not set(statement.processors) <= {
            *writes[0][1].columns, "pk", "_version"
        }:
            return None  # positional, or binds that are not the values set
        texts = []
        for index, _write in writes:
            prefix = f"w{index}_"
            sql, renamed = _BIND.subn(rf"%({prefix}\1)s", statement.sql)
            if renamed != len(statement.processors):
                return None  # binds this text does not name plainly
            texts.append(sql)
            parts.append((prefix, statement))
        first = writes[0][0]
        if writes[0][1].kind == "update":
            for (index, _write), sql in zip(writes, texts, strict=True):
                ctes.append(f"w{index} AS ({sql} RETURNING 1)")
                checked.append(index)
            continue
        head, values = _insert_values(texts[0])
        rows = [values] + [_insert_values(sql)[1] for sql in texts[1:]]
        if not head:
            return None
        ctes.append(f"w{first} AS ({head} VALUES {', '.join(rows)})")
    # Only our own CTE names and the compiled texts go into it: no value is ever inlined.
    counts = ", ".join(f"(SELECT count(*) FROM w{i})" for i in checked) or "1"  # noqa: S608
    return _Folded(f"WITH {', '.join(ctes)} SELECT {counts}", tuple(parts), tuple(checked))


def _insert_values(sql: str) -> tuple[str, str]:
    """An `INSERT INTO t (..) VALUES (..)` text as its head and its one row of values;
    ("", "") for any other shape."""
    head, sep, values = sql.partition(" VALUES ")
    if not sep or " VALUES " in values or not (values.startswith("(") and values.endswith(")")):
        return "", ""
    return head, values


@dataclass(slots=True)
class _Write:
    state: InstanceState[Any] | None  # None: a plain row of `tail`, not a record
    table: Table
    kind: str  # "insert" or "update"
    columns: tuple[str, ...]  # the columns it sets, in the table's order
    params: dict[str, Any]
    after: dict[str, Any]  # values the record takes once written (defaults, new version)
    version: Column[Any] | None = None  # an update's version column, checked and bumped


def _shape(write: _Write) -> tuple[str, str, tuple[str, ...], bool]:
    return (write.table.name, write.kind, write.columns, write.version is not None)


def _insert_order(write: _Write) -> int:
    return (write.state.insert_order if write.state is not None else None) or 0


def _update_order(write: _Write) -> tuple[int, str]:
    return (0 if write.table is _APPLICATIONS else 1, str(write.params["pk"]))


def _insert_of(obj: object) -> _Write:
    if type(obj) not in _INSERTED:
        raise _OrmMustFlushError
    state: InstanceState[Any] = obj._sa_instance_state  # type: ignore[attr-defined]
    mapper, values = state.mapper, state.dict
    if _relationship_set(mapper, values):
        raise _OrmMustFlushError
    params: dict[str, Any] = {}
    after: dict[str, Any] = {}
    version = mapper.version_id_col
    for key, column in _columns(mapper).items():
        value = values.get(key)
        if isinstance(value, ClauseElement):
            raise _OrmMustFlushError
        if version is not None and column is version:
            # The ORM inserts the generator's first version, whatever the record holds.
            generate = mapper.version_id_generator
            if not callable(generate):
                raise _OrmMustFlushError
            params[key] = after[key] = generate(None)  # (attribute key = column key here)
        elif value is not None or (key in values and column.type.should_evaluate_none):
            params[column.key] = value
        elif column.default is not None:  # a Python default goes into the INSERT, as Core's
            if not column.default.is_scalar:
                raise _OrmMustFlushError
            params[column.key] = after[key] = column.default.arg
        elif column.server_default is not None:
            raise _OrmMustFlushError  # left out, the database fills it: the ORM reads it back
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
        statement: Any = insert(table).inline()  # no generated key read back
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
