"""The databases a run measures: SQLite in a temporary directory, PostgreSQL in its own schema.

The PostgreSQL schema (`bench` by default) is created, migrated and dropped by the run. An
advisory lock held for the whole run keeps two runs from sharing (and dropping) one schema.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, text

from api.wiring import build_context
from engine.context import EngineContext
from engine.persistence.database import make_engine
from engine.persistence.schema import upgrade

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_LOCK_KEY = 0x7065726D6974  # "permit": one bench run per PostgreSQL server at a time


def postgres_base_url() -> str:
    """The server to measure on: PERMITFLOW_BENCH_POSTGRES_URL, else the test server."""
    return os.environ.get("PERMITFLOW_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)


@dataclass
class Database:
    """One migrated, empty database (or schema) and the engine contexts opened on it."""

    kind: Literal["sqlite", "postgres"]
    url: str
    schema: str | None = None
    version: str | None = None
    _contexts: list[EngineContext] = field(default_factory=list)
    _admin: Engine | None = None
    _lock_conn: object | None = None

    @property
    def label(self) -> str:
        """How the results table names this database."""
        return "SQLite" if self.kind == "sqlite" else "PostgreSQL"

    def context(self) -> EngineContext:
        """A fresh EngineContext on this database (disposed by `close`)."""
        ctx = build_context(self.url)
        self._contexts.append(ctx)
        return ctx

    def adopt_app(self, ctx: EngineContext) -> None:
        """Dispose `ctx` (built elsewhere, e.g. by `create_app`) with this database."""
        self._contexts.append(ctx)

    def engine(self, ctx: EngineContext) -> Engine:
        """The SQLAlchemy engine behind `ctx`."""
        bind: Engine = ctx.session_factory.kw["bind"]
        return bind

    def close(self) -> None:
        """Dispose every engine; drop the PostgreSQL schema."""
        for ctx in self._contexts:
            self.engine(ctx).dispose()
        self._contexts.clear()
        if self._admin is not None:
            with self._admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            if self._lock_conn is not None:
                self._lock_conn.close()  # type: ignore[attr-defined]
            self._admin.dispose()
            self._admin = None


def sqlite_database(directory: Path) -> Database:
    """A migrated SQLite file in `directory` (a temporary directory of the run)."""
    url = f"sqlite:///{directory / 'bench.db'}"
    upgrade(url)
    return Database("sqlite", url)


def postgres_unavailable() -> str | None:
    """None when the PostgreSQL server answers, else the reason it cannot be used."""
    try:
        engine = make_engine(postgres_base_url(), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure means: no usable server
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    return None


def postgres_database(schema: str = "bench") -> Database:
    """A fresh schema `schema` on the PostgreSQL server, migrated to head.

    Raises: RuntimeError when another bench run holds the schema.
    """
    base = postgres_base_url()
    admin = make_engine(base)
    lock_conn = admin.connect()
    if not lock_conn.execute(text("select pg_try_advisory_lock(:k)"), {"k": _LOCK_KEY}).scalar():
        lock_conn.close()
        admin.dispose()
        raise RuntimeError("another bench run is using PostgreSQL (advisory lock held)")
    lock_conn.commit()
    with admin.begin() as conn:
        version = conn.execute(text("show server_version")).scalar()
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    database = Database("postgres", url, schema, str(version), _admin=admin, _lock_conn=lock_conn)
    try:
        upgrade(url)
    except BaseException:
        database.close()
        raise
    return database
