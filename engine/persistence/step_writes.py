"""How a step's rows become SQL: statements compiled once, and one statement on PostgreSQL.

`engine/persistence/fast_flush.py` decides which pending changes are a step's writes and
what each binds (the ORM's rules); here those writes (`Write`) are turned into SQL and run.
Each statement is compiled once per table, kind, column set and dialect (the SQL text,
casts included, the ORM would send) and run as driver SQL, rows of one shape in one
executemany, each version checked (`write_apart`).

On PostgreSQL the writes of one flush go as one statement (`write_folded`): each is a
data-modifying CTE (updates `RETURNING 1`, their counts selected for the version check),
and at commit the step's audit events ride along (`StepSession.flush_with`; on SQLite
they follow as one more statement compiled once, like the rows'): each statement costs
the client SQLAlchemy's and psycopg's per-execute work and the server a bind and an
executor start (folding saves 0.5-0.6 ms a step, A/B). The folded statement checks its
updates' versions itself (a count other than 1 fails it), so that `COMMIT` may travel
with it (`write_folded(commit=True)`, engine/persistence/pg_trips.py): a plain step is
two round trips (BEGIN with the lock read, the write with COMMIT). SQLite has no round
trips: there the statements stay apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import Column, Table, bindparam, insert, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.state import InstanceState

from engine.persistence import pg_trips

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Statement:
    sql: str
    names: tuple[str, ...] | None  # positional drivers: the parameters' order
    processors: dict[str, _Processor]  # bind name -> the column type's bind processor


def write_apart(conn: Connection, pending: list[Write]) -> None:
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


def _stale(write: Write, matched: int) -> StaleDataError:
    return StaleDataError(
        f"UPDATE of {write.table.name} row {write.params['pk']} matched {matched} rows: "
        "it changed since it was read"
    )


@dataclass(frozen=True, slots=True)
class _Folded:
    sql: str
    parts: tuple[tuple[str, _Statement], ...]  # each write's bind prefix and statement
    checked: tuple[int, ...]  # the updates, by index, whose counts the statement checks


def write_folded(
    conn: Connection, folded: _Folded, pending: list[Write], commit: bool = False
) -> bool:
    """Run the folded statement; with `commit`, on psycopg, send `COMMIT` with it (one
    round trip, engine/persistence/pg_trips.py). True when the transaction was committed.

    Raises: StaleDataError (nothing committed) when an update matched no row.
    """
    params: dict[str, Any] = {}
    for (prefix, statement), write in zip(folded.parts, pending, strict=True):
        for name, value in _bound(statement, write.params).items():
            params[prefix + name] = value
    raw = pg_trips.psycopg_in_transaction(conn) if commit else None
    if raw is not None:
        pg_trips.execute_and_commit(conn, raw, folded.sql, params,
                                    lambda error: _stale_in(error, pending))
        return True
    try:
        conn.exec_driver_sql(folded.sql, params).one()
    except DBAPIError as exc:
        stale = _stale_in(exc.orig, pending)
        if stale is not None:
            raise stale from None
        raise
    return False


# A folded statement checks its updates' counts itself: a count other than 1 fails it (a
# cast of this text to an integer), so a `COMMIT` sent after it is never run. The text
# depends on the count, so the planner cannot evaluate the cast ahead of the check.
_STALE = "permitflow: stale write "
_STALE_AT = re.compile(_STALE + r"(\d+) matched (\d+)")


def _stale_in(error: object, pending: list[Write]) -> StaleDataError | None:
    """The StaleDataError for a folded statement's failed version check, else None."""
    found = _STALE_AT.search(str(error)) if getattr(error, "sqlstate", None) == "22P02" else None
    if found is None:
        return None
    return _stale(pending[int(found[1])], int(found[2]))


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
    for name, limit in (("MAX_CACHED_STATEMENT_LENGTH", FOLD_MAX * 2048),
                        ("MAX_CACHED_STATEMENT_PARAMS", FOLD_MAX * 40)):
        setattr(_queries, name, max(getattr(_queries, name, 0), limit))


# More writes than this (e.g. hundreds of instances' rows) go apart: one text per count.
FOLD_MAX = 16


_BIND = re.compile(r"%\((\w+)\)s")


_FOLDED: dict[tuple[Any, ...], _Folded | None] = {}


_FOLDED_KEPT = 512
_UNKNOWN = object()


def folded_statement(pending: list[Write], dialect: Dialect) -> _Folded | None:
    """The writes as one statement of data-modifying CTEs (PostgreSQL, several writes),
    built once per sequence of shapes; None: they go apart.

    Each update is a CTE of its own; the rows of consecutive inserts of one shape are one
    multi-row INSERT, so that rows with generated keys (audit events) get them in order
    (separate CTEs run in no defined order)."""
    if dialect.name != "postgresql" or not 1 < len(pending) <= FOLD_MAX:
        return None
    key = tuple(_shape(w) for w in pending)
    known = _FOLDED.get(key, _UNKNOWN)  # one lookup: another thread may clear it
    if known is not _UNKNOWN:
        return known  # type: ignore[return-value]
    if len(_FOLDED) >= _FOLDED_KEPT:  # sequences of shapes are few; never grow unbounded
        _FOLDED.clear()
    found = _FOLDED[key] = _fold(pending, dialect)
    return found


def _fold(pending: list[Write], dialect: Dialect) -> _Folded | None:
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
    counts = ", ".join(f"(SELECT count(*) FROM w{i}) AS c{i}" for i in checked)  # noqa: S608
    checks = ", ".join(
        f"CASE WHEN c{i} = 1 THEN 1 ELSE ('{_STALE}{i} matched ' || c{i})::int END"
        for i in checked
    )
    if not checked:
        return _Folded(f"WITH {', '.join(ctes)} SELECT 1", tuple(parts), ())
    sql = f"WITH {', '.join(ctes)} SELECT {checks} FROM (SELECT {counts}) AS matched"  # noqa: S608
    return _Folded(sql, tuple(parts), tuple(checked))


def _insert_values(sql: str) -> tuple[str, str]:
    """An `INSERT INTO t (..) VALUES (..)` text as its head and its one row of values;
    ("", "") for any other shape."""
    head, sep, values = sql.partition(" VALUES ")
    if not sep or " VALUES " in values or not (values.startswith("(") and values.endswith(")")):
        return "", ""
    return head, values


@dataclass(slots=True)
class Write:
    state: InstanceState[Any] | None  # None: a plain row of `tail`, not a record
    table: Table
    kind: str  # "insert" or "update"
    columns: tuple[str, ...]  # the columns it sets, in the table's order
    params: dict[str, Any]
    after: dict[str, Any]  # values the record takes once written (defaults, new version)
    version: Column[Any] | None = None  # an update's version column, checked and bumped


def _shape(write: Write) -> tuple[str, str, tuple[str, ...], bool]:
    return (write.table.name, write.kind, write.columns, write.version is not None)


def _bound(statement: _Statement, params: dict[str, Any]) -> Any:
    processed = {
        name: (process(params[name]) if process is not None else params[name])
        for name, process in statement.processors.items()
    }
    if statement.names is None:
        return processed
    return tuple(processed[name] for name in statement.names)


_CACHE: dict[tuple[str, str, tuple[str, ...], bool, str], _Statement] = {}


def _compiled(write: Write, dialect: Dialect) -> _Statement:
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

