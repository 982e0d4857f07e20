"""Database engines and sessions, configured per backend.

SQLite is the embedded default: WAL, foreign keys on, and every transaction opened
with `BEGIN IMMEDIATE`, which makes SQLite a single-writer database without the
deadlock a deferred transaction hits when it upgrades from reading to writing.
PostgreSQL is the production database (psycopg 3).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from engine.domain import json_codec
from engine.domain.errors import ConcurrentUpdateError, EngineError, StorageUnavailableError
from engine.persistence.fast_flush import StepSession
from engine.persistence.step_writes import let_psycopg_cache_folded_texts


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` URLs; spell host lists as libpq takes them.

    `postgresql://u@h1:5432,h2:5433/db` (the multi-host form of libpq's URIs) becomes
    `postgresql+psycopg://u@/db?host=h1:5432&host=h2:5433&target_session_attrs=read-write`:
    SQLAlchemy cannot parse ports in a host list, and a list of servers is only useful if
    the connection goes to the one that takes writes (the primary after a failover).

    Raises: InvalidDatabaseUrlError for a URL that cannot be understood.
    """
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("postgresql"):
        url = _host_list(url)
    try:
        make_url(url)
    except Exception as exc:  # SQLAlchemy's messages name the part it could not read
        raise InvalidDatabaseUrlError(f"cannot read the database URL: {exc}") from None
    return url


class InvalidDatabaseUrlError(ValueError):
    """PERMITFLOW_DATABASE_URL (or the read URL) is not a URL the engine can use."""


def _host_list(url: str) -> str:
    scheme, rest = url.split("://", 1)
    netloc, _, tail = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    if "," not in hosts:
        return url
    listed = [h for h in hosts.split(",") if h]
    for host in listed:
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
        if not name or (port and not port.isdigit()):
            raise InvalidDatabaseUrlError(
                f"cannot read host {host!r} of the host list {hosts!r}: write host:port, "
                "e.g. postgresql://user@db1:5432,db2:5432/permitflow"
            )
    database, _, query = tail.partition("?")
    params = [q for q in query.split("&") if q]
    params += [f"host={h}" for h in listed]
    if not any(q.startswith("target_session_attrs=") for q in params):
        params.append("target_session_attrs=read-write")
    return f"{scheme}://{userinfo}{at}/{database}?" + "&".join(params)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds the database may take (0: no limit): to connect, per statement, per lock wait.

    Without them a hung primary or a lost synchronous standby holds every request thread
    for as long as the network keeps the socket open.
    """

    connect: float = 0
    statement: float = 0
    lock: float = 0


def _with_timeouts(url: str, timeouts: Timeouts) -> str:
    """libpq parameters for `timeouts`, added to the URL's own (`options` is merged)."""
    parsed = make_url(url)
    query = dict(parsed.query)
    if timeouts.connect and "connect_timeout" not in query:
        query["connect_timeout"] = str(max(1, math.ceil(timeouts.connect)))
    limits = (("statement_timeout", timeouts.statement), ("lock_timeout", timeouts.lock))
    settings = [f"-c {name}={int(seconds * 1000)}" for name, seconds in limits if seconds]
    if settings:
        given = query.get("options", "")
        given = " ".join(given) if isinstance(given, tuple) else given
        query["options"] = " ".join([given, *settings]).strip()
    return parsed.set(query=query).render_as_string(hide_password=False)


def make_engine(url: str, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    """An engine for `url`, with the per-backend settings this application relies on.

    Raises: InvalidDatabaseUrlError.
    """
    url = normalize_url(url)
    parsed = make_url(url)
    # One JSON codec for every JSON column on both backends (psycopg is handed it too).
    kwargs.setdefault("json_serializer", json_codec.dumps)
    kwargs.setdefault("json_deserializer", json_codec.loads)
    if parsed.get_backend_name() != "sqlite":
        if timeouts is not None:
            url = _with_timeouts(url, timeouts)
        engine = create_engine(url, **kwargs)
        if engine.dialect.driver == "psycopg":
            let_psycopg_cache_folded_texts()
        if timeouts is not None and timeouts.statement and engine.dialect.driver == "psycopg":
            from engine.persistence.commit_guard import guard_commits

            guard_commits(engine, timeouts.statement)  # statement_timeout stops before COMMIT
        if not kwargs.get("pool_pre_ping"):
            _ping_when_idle(engine, PING_IDLE_SECONDS)
    else:
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
    event.listen(engine, "handle_error", _translate_error)
    return engine


# SQLSTATEs that mean "another transaction got there first": retryable, answered as 409.
_CONFLICT_STATES = {"40001", "40P01", "55P03"}
# Not answering, not migrated, not taking writes (a standby, or a primary being demoted:
# 25006), shutting down (57P01-57P03), or too slow (57014: statement_timeout).
_UNAVAILABLE_STATES = {
    "42P01",
    "3D000",
    "28000",
    "28P01",
    "25006",
    "57P01",
    "57P02",
    "57P03",
    "57014",
}


def _translate_error(context: Any) -> EngineError | None:
    """Turn database failures that are facts about the world into domain errors."""
    orig = context.original_exception
    state = getattr(orig, "sqlstate", None) or ""
    text = str(orig).lower()
    if state in _CONFLICT_STATES or "database is locked" in text:
        return ConcurrentUpdateError(f"the database refused a concurrent change ({orig}); retry")
    if (
        state in _UNAVAILABLE_STATES
        or state.startswith("08")
        or "no such table" in text
        or context.is_disconnect
        or "connection refused" in text
        or _dbapi_says_unavailable(orig)
    ):
        return StorageUnavailableError(
            "the database is unreachable or not migrated (run `permitflow db upgrade`): "
            + str(orig).splitlines()[0][:200]
        )
    return None


def _dbapi_says_unavailable(orig: BaseException) -> bool:
    """A driver error without an SQLSTATE about the server, not the statement: the connect
    failed (refused, timed out, no route, name unknown) or the socket broke."""
    return (
        type(orig).__module__.startswith("psycopg")
        and not getattr(orig, "sqlstate", None)
        and any(
            cls.__name__ in ("OperationalError", "InterfaceError") for cls in type(orig).__mro__
        )
    )


# A connection back in the pool for longer than this is checked before use (HikariCP's
# `aliveBypassWindowMs` has the same default). SQLAlchemy's `pool_pre_ping` checks on every
# checkout: a round trip per transaction, two per HTTP request.
PING_IDLE_SECONDS = 0.5


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling for connections that sat idle in the pool.

    A connection used moments ago is handed out as it is; one that waited longer is pinged
    first, and a dead one is replaced (the pool retries on DisconnectionError), so a
    database restart or a dropped idle connection costs no request.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("checked_in")
        if since is None or time.monotonic() - since < idle_seconds:
            return  # fresh from connect(), or in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure to answer means: not usable
            raise DisconnectionError(f"connection lost while idle: {exc}") from exc
        if not alive:
            raise DisconnectionError("connection lost while idle")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN/SAVEPOINT are ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Readers take a snapshot and no lock, so they never wait behind a writer (WAL).
        reading = connection.get_execution_options().get(READ_ONLY_OPTION)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


READ_ONLY_OPTION = "permitflow_read_only"


def read_only_bind(engine: Engine) -> Engine:
    """The engine as read-only use cases use it (same pool).

    PostgreSQL: autocommit, i.e. no BEGIN and no ROLLBACK round trips; under READ COMMITTED
    each statement sees its own snapshot either way. SQLite: a deferred read transaction
    instead of `BEGIN IMMEDIATE`, so reading never takes the write lock.
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{READ_ONLY_OPTION: True})
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def snapshot_bind(engine: Engine) -> Engine:
    """The engine for reads that must see one moment across many statements (same pool).

    PostgreSQL: a read-only REPEATABLE READ transaction. SQLite: the deferred read
    transaction of `read_only_bind`, which in WAL mode is already one snapshot.
    """
    if engine.dialect.name == "sqlite":
        return read_only_bind(engine)
    return engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)


def watch_pool(engine: Engine, on_change: Callable[[int], None]) -> int:
    """Call `on_change(+1)` when a connection leaves `engine`'s pool for a transaction and
    `on_change(-1)` when it comes back; returns the pool's configured size (0: unbounded).

    For a gauge that sums over processes (`api/metrics.py`): each process reports its own
    changes, never a total it could only know for itself.
    """
    event.listen(engine, "checkout", lambda *_: on_change(1))
    event.listen(engine, "checkin", lambda *_: on_change(-1))
    size = getattr(engine.pool, "size", None)
    return int(size()) if callable(size) else 0


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (views are built after it) and write
    a step's own rows without the ORM's flush machinery (engine/persistence/fast_flush.py)."""
    return sessionmaker(engine, class_=StepSession, expire_on_commit=False)
