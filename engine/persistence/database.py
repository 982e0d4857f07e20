"""Database engines and sessions, configured per backend.

SQLite is the embedded default: WAL, foreign keys on, and every transaction opened
with `BEGIN IMMEDIATE`, which makes SQLite a single-writer database without the
deadlock a deferred transaction hits when it upgrades from reading to writing.
PostgreSQL is the production database (psycopg 3).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from engine.domain.errors import ConcurrentUpdateError, EngineError, StorageUnavailableError


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`, with the per-backend settings this application relies on."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kwargs)
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
_UNAVAILABLE_STATES = {"42P01", "3D000", "28000", "28P01", "57P03", "08001", "08006"}


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
    ):
        return StorageUnavailableError(
            "the database is unreachable or not migrated (run `permitflow db upgrade`): "
            + str(orig).splitlines()[0][:200]
        )
    return None


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
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (views are built after it)."""
    return sessionmaker(engine, expire_on_commit=False)
