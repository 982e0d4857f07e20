"""Fixtures: an isolated database per test on SQLite and, where a server answers, PostgreSQL.

SQLite tests get a copy of a migrated template file (real commits, real threads);
PostgreSQL tests share one migrated schema per xdist worker and truncate it between
tests. Set PERMITFLOW_TEST_POSTGRES_URL to use another server than 127.0.0.1:5432.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from api.wiring import build_context
from engine.context import EngineContext
from engine.persistence.database import make_engine
from engine.persistence.schema import upgrade
from engine.persistence.tables import Base

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_base_url() -> str:
    return os.environ.get("PERMITFLOW_TEST_POSTGRES_URL", DEFAULT_PG)


def _postgres_reason() -> str | None:
    """None when PostgreSQL answers, else why the PostgreSQL tests skip."""
    try:
        engine = make_engine(_postgres_base_url(), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure means: no usable server
        return f"no PostgreSQL at {_postgres_base_url()}: {type(exc).__name__}: {exc}"[:300]
    return None


@pytest.fixture(scope="session")
def postgres_skip_reason() -> str | None:
    return _postgres_reason()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url(postgres_skip_reason: str | None, worker_id: str) -> Iterator[str]:
    if postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    # Unique per session: several runs (or developers) may share one server.
    schema = f"pf_test_{worker_id}_{uuid.uuid4().hex[:8]}"
    base = make_engine(_postgres_base_url())
    with base.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    base.dispose()
    sep = "&" if "?" in _postgres_base_url() else "?"
    url = f"{_postgres_base_url()}{sep}options=-csearch_path%3D{schema}"
    upgrade(url)
    yield url
    base = make_engine(_postgres_base_url())
    with base.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    base.dispose()


def _truncate(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated, empty database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "permitflow.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate(url)
    return url


@pytest.fixture
def ctx(db_url: str, tmp_path: Path) -> Iterator[EngineContext]:
    context = build_context(db_url, signing_key_dir=str(tmp_path / "signing-keys"))
    yield context
    context.session_factory.kw["bind"].dispose()
