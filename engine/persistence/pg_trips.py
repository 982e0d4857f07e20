"""A step's two round trips on PostgreSQL: `BEGIN` with the lock read, the write with `COMMIT`.

Why: inside a step each round trip to PostgreSQL costs about 0.14 ms more than the server's
own work (a light `SELECT 1` added before the lock read took 0.136 ms median inside a step,
against 0.02 ms in a tight loop: on this VM the client and the server each sleep between
their turns and are woken again). psycopg sends `BEGIN` alone before a transaction's first
statement, and `COMMIT` alone at the end: a plain step was four trips (`BEGIN`, the lock,
the folded write, `COMMIT`) where two carry everything.

What: libpq's pipeline mode, used directly (`psycopg.pq.PGconn`), for two exchanges of one
Sync each. `first_row` (a transaction's first read: a step's lock read, a start's read)
sends `BEGIN` (as psycopg would spell it for the connection's isolation settings) with the
query;
`execute_and_commit` (`step_writes.write_folded`, when nothing is left to write) sends a
statement and `COMMIT` and returns the statement's one row. Still one
transaction: an error in a pipeline aborts everything after it up to the Sync, so a failed
statement is never followed by its `COMMIT` (the transaction is left failed, and rolled
back as usual). A folded write checks its row versions in its SQL for this: a stale row
fails the statement, so nothing is committed. psycopg's own pipeline object is not used:
leaving it always costs one more Sync and wait (measured slower than no pipeline). Measured
(A/B, interleaved, PBG on PostgreSQL): a service step 3.17 -> 2.93 ms, a start 2.66 ->
2.34 ms.

psycopg keeps no transaction state of its own beyond libpq's: after the first exchange it
sees a transaction open and sends no `BEGIN`; after the second it sees none, and its
`commit()` (SQLAlchemy's, at the session's commit) returns without a round trip
(`psycopg.Connection._commit_gen`: nothing to do when the connection is idle).

As SQLAlchemy would: the statements go through the engine's `before_cursor_execute` and
`after_cursor_execute` listeners (statement counts stay honest; `BEGIN` and `COMMIT` are
not cursor statements there, as before), and a driver error goes through the connection's
own error handling (`Connection._handle_dbapi_exception`, a SQLAlchemy internal: the
`handle_error` hooks, the dialect's disconnect check, the pool's invalidation,
`DBAPIError.instance`). psycopg internals used, only here: `psycopg._queries.PostgresQuery`
(the cursor's own conversion of `%(name)s` to `$n` with the connection's dumpers), the
connection's prepared-statement manager (`Connection._prepared`, as the cursor uses it), and
its generators (`psycopg.generators.send`, `fetch_many`), waited on with `Connection.wait`.
The client waits for the server once per exchange; tests/service/test_step_cost.py counts
those waits (`psycopg.waiting.wait`).

`ENABLED` (default on) switches it off for A/B runs. Where those internals are not as
described (a psycopg release other than the 3.3 line pinned in pyproject.toml), the module
switches itself off at import: steps then take the usual four trips, and still work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from psycopg import Connection as _PsycopgConnection
from psycopg import Pipeline
from psycopg import errors as _errors
from psycopg import generators as _generators
from psycopg.adapt import Transformer as _Transformer
from psycopg.pq import ConnStatus, ExecStatus, TransactionStatus
from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect

try:  # psycopg's internals this module drives (see its doc); without them: four trips
    from psycopg._preparing import Prepare as _Prepare
    from psycopg._queries import PostgresQuery as _PostgresQuery
except ImportError:  # pragma: no cover - exercised by test_pg_trips with the import refused
    _INTERNALS = False
else:
    _INTERNALS = hasattr(_PsycopgConnection, "wait") and hasattr(_generators, "fetch_many")

ENABLED = True

_Processor = Callable[[Any], Any] | None


def psycopg_idle(conn: Connection) -> Any | None:
    """The psycopg connection under `conn` when a transaction may begin with an exchange
    (psycopg, pipeline mode available, no transaction open on the server, not autocommit);
    else None: the caller executes as usual."""
    raw = _psycopg_of(conn)
    if raw is None or raw.autocommit or raw.pgconn.transaction_status != _IDLE:
        return None
    return raw


def psycopg_in_transaction(conn: Connection) -> Any | None:
    """The psycopg connection under `conn` when its open transaction may end with an
    exchange (a transaction open and healthy on the server); else None."""
    raw = _psycopg_of(conn)
    if raw is None or raw.autocommit or raw.pgconn.transaction_status != _INTRANS:
        return None
    return raw


def first_row(
    conn: Connection, statement: Select[Any], parameters: dict[str, Any]
) -> Sequence[Any] | None:
    """The first row of a transaction's first read (a step's lock read, a start's read).

    The statement is compiled once per dialect and run as driver SQL, each bind and column
    through its type's processor as SQLAlchemy's execution applies them: the same values,
    without the statement cache key SQLAlchemy computes at every execution (for the lock
    read's 55 columns, -0.06 to -0.10 ms of CPU a PBG step on SQLite, A/B). On psycopg with
    no transaction open, `BEGIN` travels with it (one round trip). A statement this does not
    handle (expanding or post-compile binds) is executed as usual.
    """
    compiled = _compiled(statement, conn.dialect)
    if compiled is None:
        return conn.execute(statement, parameters).first()
    sql, binds, processors = compiled
    bound = {name: value if binds.get(name) is None else binds[name](value)
             for name, value in sql.construct_params(parameters).items()}
    raw = psycopg_idle(conn)
    if raw is not None:
        rows = _exchange(conn, raw, sql.string, bound, before=_begin(raw), after=None)
        row: Sequence[Any] | None = rows[0] if rows else None
    else:
        given = tuple(bound[name] for name in sql.positiontup) if sql.positional else bound
        row = conn.exec_driver_sql(sql.string, given).first()
    if row is None or not any(processors):
        return row
    return tuple(v if p is None else p(v) for v, p in zip(row, processors, strict=True))


_Compiled = tuple[Any, dict[str, Any], tuple[Any, ...]]
_COMPILED: dict[tuple[Select[Any], str], _Compiled | None] = {}
_UNKNOWN = object()


def _compiled(statement: Select[Any], dialect: Dialect) -> _Compiled | None:
    """`statement` compiled for `dialect` once, with each bind's processor and each
    column's result processor (None: the value as the driver loads it); None for what this
    does not handle (expanding or post-compile binds), which executes as usual."""
    key = (statement, dialect.driver)
    known = _COMPILED.get(key, _UNKNOWN)  # one lookup: another thread may clear it
    if known is not _UNKNOWN:
        return known  # type: ignore[return-value]
    if len(_COMPILED) >= 64:  # module-level statements: few
        _COMPILED.clear()
    compiled = statement.compile(dialect=dialect)
    if compiled.literal_execute_params or compiled.post_compile_params or any(
        b.expanding for b in compiled.binds.values()
    ):
        found = None
    else:
        found = (
            compiled,
            {name: b.type.dialect_impl(dialect).bind_processor(dialect)
             for name, b in compiled.binds.items()},
            tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                  for c in statement.selected_columns),
        )
    _COMPILED[key] = found
    return found


def execute_and_commit(
    conn: Connection, raw: Any, statement: str, parameters: dict[str, Any],
    refused: Callable[[Any], BaseException | None],
) -> tuple[Any, ...]:
    """`statement` and `COMMIT` in one round trip; the statement's first row.

    `refused(error)`: for the driver error of the statement, the exception to raise instead
    of SQLAlchemy's (None: SQLAlchemy's), e.g. a version check's. The transaction is then
    left failed (nothing committed) for the caller's rollback.
    """
    from engine.persistence.commit_guard import guarded

    with guarded(raw):
        rows = _exchange(conn, raw, statement, parameters, before=None, after=b"COMMIT",
                         refused=refused)
    return rows[0]


# --- the exchange ------------------------------------------------------------------------


def _psycopg_of(conn: Connection) -> Any | None:
    if not ENABLED or conn.dialect.driver != "psycopg":
        return None
    raw = conn.connection.dbapi_connection
    if raw is None or not _SUPPORTED:
        return None
    return raw


def _exchange(
    conn: Connection, raw: Any, statement: str, parameters: dict[str, Any],
    before: bytes | None, after: bytes | None,
    refused: Callable[[Any], BaseException | None] | None = None,
) -> list[tuple[Any, ...]]:
    """`before`, `statement`, `after`, one Sync; one wait; the statement's rows."""
    dispatch = conn.dispatch
    for fn in dispatch.before_cursor_execute:
        statement, parameters = fn(conn, None, statement, parameters, None, False)
    try:
        try:
            results = _pipelined(raw, statement, parameters, before, after)
        except _errors.Error as error:
            instead = refused(error) if refused is not None else None
            if instead is not None:
                raise instead from None
            raise
        answer = results[1 if before else 0]
        transformer = _Transformer(raw)
        transformer.set_pgresult(answer)
        rows = transformer.load_rows(0, answer.ntuples, tuple)
    except _errors.Error as exc:
        conn._handle_dbapi_exception(exc, statement, parameters, None, None)
    for fn in dispatch.after_cursor_execute:
        fn(conn, None, statement, parameters, None, False)
    return rows


def _pipelined(
    raw: Any, statement: str, parameters: dict[str, Any], before: bytes | None,
    after: bytes | None,
) -> list[Any]:
    """One result per command (errors included; the statement's at index 1 after `before`,
    else 0), after one Sync.

    The statement is prepared as psycopg's cursor would prepare it (its `PrepareManager`:
    the same server-side statement for the same text, prepared at its fifth use, in the
    same pipeline; a failed result forgets it): unprepared, the lock read alone cost 0.1 ms
    more on the server (parsed and planned each time)."""
    query = _PostgresQuery(_Transformer(raw))
    query.convert(statement, parameters)
    pgconn, manager = raw.pgconn, raw._prepared
    with raw.lock:
        prepare, name = manager.get(query)
        with _pipeline_mode(raw):
            if before:
                pgconn.send_query_params(before, None)
            if prepare is _Prepare.SHOULD:
                pgconn.send_prepare(name, query.query, param_types=query.types)
            if prepare is _Prepare.NO:
                pgconn.send_query_params(query.query, query.params, param_types=query.types,
                                         param_formats=query.formats)
            else:
                pgconn.send_query_prepared(name, query.params, param_formats=query.formats)
            if after:
                pgconn.send_query_params(after, None)
            pgconn.pipeline_sync()
            results = list(raw.wait(_answers(pgconn)))
        at = 1 if before else 0
        parsed = results.pop(at) if prepare is _Prepare.SHOULD else None  # the Parse's result
        key = manager.maybe_add_to_cache(query, prepare, name)
        if key is not None:
            manager.validate(key, prepare, name, [results[at]])
        raw.wait(manager.maintain_gen(raw))  # statements psycopg evicted, if any
    failed = next((r for r in [parsed, *results] if r is not None and r.status == _FATAL), None)
    if failed is not None:
        raise _errors.error_from_result(failed, encoding=raw.info.encoding)
    if any(r.status not in _DONE for r in results):
        raise _errors.InternalError(f"unexpected results {[r.status for r in results]}")
    return results


@contextmanager
def _pipeline_mode(raw: Any) -> Iterator[None]:
    raw.pgconn.enter_pipeline_mode()
    try:
        yield
    except BaseException:
        _leave_pipeline_mode(raw, failed=True)
        raise
    _leave_pipeline_mode(raw, failed=False)


def _leave_pipeline_mode(raw: Any, failed: bool) -> None:
    """Back to plain mode. With results left uncollected (the wait was interrupted) libpq
    refuses: the connection's state is unknown, so it is closed, which SQLAlchemy takes for
    a disconnect (the connection is invalidated, never reused)."""
    if raw.pgconn.status != _OK:
        return  # broken: the error at hand says so
    try:
        raw.pgconn.exit_pipeline_mode()
    except _errors.OperationalError:
        raw.close()
        if not failed:
            raise


def _answers(pgconn: Any) -> Any:
    """Flush, then read every command's result up to the Sync (a generator for `wait`)."""
    yield from _generators.send(pgconn)
    results: list[Any] = []
    while True:
        got = yield from _generators.fetch_many(pgconn)
        if not got:
            continue
        if got[0].status == _SYNC:
            return results
        results.append(got[-1])


def _begin(raw: Any) -> bytes:
    """`BEGIN` as psycopg spells it for this connection (`_get_tx_start_command`)."""
    parts = ["BEGIN"]
    if raw.isolation_level is not None:
        parts.append("ISOLATION LEVEL " + raw.isolation_level.name.replace("_", " "))
    if raw.read_only is not None:
        parts.append("READ ONLY" if raw.read_only else "READ WRITE")
    if raw.deferrable is not None:
        parts.append("DEFERRABLE" if raw.deferrable else "NOT DEFERRABLE")
    return " ".join(parts).encode()


_IDLE, _INTRANS = TransactionStatus.IDLE, TransactionStatus.INTRANS
_FATAL, _SYNC, _OK = ExecStatus.FATAL_ERROR, ExecStatus.PIPELINE_SYNC, ConnStatus.OK
_DONE = (ExecStatus.COMMAND_OK, ExecStatus.TUPLES_OK)
_SUPPORTED = _INTERNALS and Pipeline.is_supported()  # and libpq 14 or later
