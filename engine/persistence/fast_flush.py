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

How the writes become SQL (statements compiled once, one statement on PostgreSQL)
is engine/persistence/step_writes.py.

SQLAlchemy internals used, only here: `Session._register_persistent` (what a flush calls
to make records persistent and clean) and the mapper's `version_id_generator`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.state import InstanceState
from sqlalchemy.sql.elements import ClauseElement

from engine.domain.encoded_json import EncodedJson
from engine.persistence.step_writes import Write, folded_statement, write_apart, write_folded
from engine.persistence.tables import ApplicationRecord, TaskRecord

# Records whose updates and inserts are written here (a new application with its first
# task rows at a start: its row version is the generator's first, as the ORM's insert).
_UPDATED = (ApplicationRecord, TaskRecord)


_INSERTED = (ApplicationRecord, TaskRecord)


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

    def flush_with(
        self, table: Table, rows: Sequence[dict[str, Any]], commit: bool = False
    ) -> bool:
        """Flush a step's shape and insert `rows` into `table` after its writes (on
        PostgreSQL in the same statement); False when nothing was written: the caller
        flushes and inserts them itself. `commit`: the caller commits next with nothing
        more to write; on PostgreSQL `COMMIT` may then go with the statement
        (engine/persistence/pg_trips.py), and the session's commit finds nothing to do."""
        if self.before_write is not None:
            self.before_write(self)
        return write_pending(self, (table, rows), commit)


def only_step_rows_pending(session: Session) -> bool:
    """Every pending change is an application or task row's (what `write_pending` takes):
    a query of other tables can skip the autoflush, its answer is the same."""
    return not session.deleted and all(type(o) in _INSERTED for o in session.new) and all(
        type(o) in _UPDATED for o in session.dirty
    )


def write_pending(
    session: Session, tail: tuple[Table, Sequence[dict[str, Any]]] | None = None,
    commit: bool = False,
) -> bool:
    """Write the session's pending changes if they are all of the step's shape; True when
    done (nothing is left to flush), False when the ORM must flush (nothing was written).
    `tail`: rows to insert into a table after them (written too when True is returned;
    on PostgreSQL in the same statement). `commit`: see `StepSession.flush_with`.

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
        pending += [Write(None, table, "insert", _in_table_order(table, r), r, {}) for r in rows]
    folded = folded_statement(pending, conn.dialect)
    if folded is not None:
        write_folded(conn, folded, pending, commit)
    else:
        write_apart(conn, pending)
    states = []
    for write in updates + inserts:
        assert write.state is not None  # records, not `tail` rows
        write.state.dict.update(write.after)
        states.append(write.state)
    session._register_persistent(set(states))
    return True


def _insert_order(write: Write) -> int:
    return (write.state.insert_order if write.state is not None else None) or 0


def _update_order(write: Write) -> tuple[int, str]:
    return (0 if write.table is _APPLICATIONS else 1, str(write.params["pk"]))


def _insert_of(obj: object) -> Write:
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
    return Write(state, table, "insert", _in_table_order(table, params), params, after)


def _update_of(obj: object) -> Write:
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
    return Write(state, table, "update", columns_set, params, after, version)


def _in_table_order(table: Table, params: dict[str, Any]) -> tuple[str, ...]:
    return tuple(c.key for c in table.columns if c.key in params)


_APPLICATIONS: Table = ApplicationRecord.__table__  # type: ignore[assignment]


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

