"""Database failover hardening (issue #17 item 5): host lists, timeouts, 503 for every
unavailable-database case, and a read URL for the read-only use cases.

The errors are real ones from the local PostgreSQL: a read-only session, a statement that
outlives statement_timeout (pg_sleep, and a lock held by another connection), a backend
terminated by the administrator, a refused and a hung connect.
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from api import create_app
from api.wiring import build_context
from engine.domain.errors import ConcurrentUpdateError, StorageUnavailableError
from engine.persistence.database import (
    InvalidDatabaseUrlError,
    Timeouts,
    make_engine,
    normalize_url,
)
from engine.services import regions
from tests.factories import make_region, make_user, tiny_bpmn, upload
from tests.ops.scenario import start_body

START = "/api/v1/regions/3273/applications"


def test_host_lists_become_libpq_host_parameters() -> None:
    assert normalize_url("postgresql://u@db1:5432,db2:5433/pf") == (
        "postgresql+psycopg://u@/pf?host=db1:5432&host=db2:5433&target_session_attrs=read-write"
    )
    assert normalize_url("postgresql://u@db1,db2/pf?target_session_attrs=any") == (
        "postgresql+psycopg://u@/pf?target_session_attrs=any&host=db1&host=db2"
    )
    assert normalize_url("sqlite:///var/x.db") == "sqlite:///var/x.db"
    with pytest.raises(InvalidDatabaseUrlError, match="host:port"):
        normalize_url("postgresql://u@db1:five,db2:5433/pf")
    with pytest.raises(InvalidDatabaseUrlError, match="cannot read the database URL"):
        normalize_url("postgresql+psycopg://u@db1:five/pf")


def _with_option(url: str, option: str) -> str:
    # The fixture's URL carries options=-csearch_path%3D<schema>; add one more setting.
    return url.replace("options=", f"options={option}%20", 1)


def _host_list_url(url: str) -> str:
    # 127.0.0.1:1 refuses at once; libpq goes on to the real server.
    return url.replace("@127.0.0.1:5432/", "@127.0.0.1:1,127.0.0.1:5432/", 1)


@pytest.mark.postgres
def test_a_host_list_with_a_dead_first_host_connects_to_the_next(postgres_url: str) -> None:
    if "@127.0.0.1:5432/" not in postgres_url:
        pytest.skip("needs the server at 127.0.0.1:5432")
    from tests.conftest import _truncate

    _truncate(postgres_url)
    ctx = build_context(_host_list_url(postgres_url))
    try:
        regions.create_region(ctx, regions_actor(), "3273", "Kota Bandung", "Asia/Jakarta")
        assert [r.code for r in regions.list_regions(ctx)] == ["3273"]
    finally:
        ctx.session_factory.kw["bind"].dispose()


def regions_actor():  # type: ignore[no-untyped-def]
    from engine.domain.actors import SYSTEM

    return SYSTEM


@pytest.fixture
def pg_world(postgres_url: str) -> Iterator[str]:
    """A migrated, empty PostgreSQL schema with a region, a model and a counter officer."""
    from tests.conftest import _truncate

    _truncate(postgres_url)
    ctx = build_context(postgres_url)
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn())
    ctx.session_factory.kw["bind"].dispose()
    yield postgres_url


_BUILT: list[Flask] = []


def _app(url: str, **config: object) -> Flask:
    app = create_app({"DATABASE_URL": url, "TESTING": True, **config})
    _BUILT.append(app)
    return app


@pytest.fixture(autouse=True)
def _dispose_apps() -> Iterator[None]:
    yield
    while _BUILT:
        _BUILT.pop().extensions["permitflow"].session_factory.kw["bind"].dispose()


def _officer(app: Flask) -> dict[str, str]:
    _, token = make_user(app.extensions["permitflow"], "front-office", region="3273")
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.postgres
def test_a_write_reaching_a_read_only_server_is_503_with_retry_after(pg_world: str) -> None:
    officer = _officer(_app(pg_world))
    standby = _app(_with_option(pg_world, "-cdefault_transaction_read_only%3Don"))
    answer = standby.test_client().post(START, json=start_body(), headers=officer)
    assert answer.status_code == 503, answer.get_json()
    assert answer.headers["Retry-After"] == "5"
    assert answer.get_json()["type"] == "storage-unavailable"
    assert "read-only" in answer.get_json()["detail"]
    # Reads still work there (a hot standby serves them).
    assert standby.test_client().get("/api/v1/tasks", headers=officer).status_code == 200


@pytest.mark.postgres
def test_statement_timeout_turns_a_hung_statement_into_503(pg_world: str) -> None:
    engine = make_engine(pg_world, Timeouts(statement=0.2))
    with pytest.raises(StorageUnavailableError, match="statement timeout"), engine.connect() as c:
        c.execute(text("SELECT pg_sleep(5)"))
    engine.dispose()


@pytest.mark.postgres
def test_a_lock_held_elsewhere_is_503_after_the_statement_timeout_or_409_after_the_lock_timeout(
    pg_world: str,
) -> None:
    first = _app(pg_world)
    officer = _officer(first)
    started = first.test_client().post(START, json=start_body(), headers=officer).get_json()
    task = started["tasks"][0]["id"]
    holder = make_engine(pg_world)
    with holder.connect() as conn:
        conn.execute(text("SELECT 1 FROM applications WHERE id = :i FOR UPDATE"), {"i": started["id"]})
        hung = _app(pg_world, DB_STATEMENT_TIMEOUT=0.3, DB_LOCK_TIMEOUT=0)
        answer = hung.test_client().post(
            f"/api/v1/tasks/{task}/complete", json={"data": {}}, headers=officer
        )
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        waiting = _app(pg_world, DB_STATEMENT_TIMEOUT=30, DB_LOCK_TIMEOUT=0.3)
        answer = waiting.test_client().post(
            f"/api/v1/tasks/{task}/complete", json={"data": {}}, headers=officer
        )
        assert answer.status_code == 409
        conn.rollback()
    holder.dispose()
    done = first.test_client().post(
        f"/api/v1/tasks/{task}/complete", json={"data": {}}, headers=officer
    )
    assert done.status_code == 200  # nothing was half-written by the refused attempts


@pytest.mark.postgres
def test_a_backend_terminated_by_the_administrator_is_503(pg_world: str) -> None:
    engine = make_engine(pg_world)
    killer = make_engine(pg_world)
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with killer.connect() as k:
            k.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        with pytest.raises(StorageUnavailableError):
            conn.execute(text("SELECT 1"))
    engine.dispose()
    killer.dispose()


def test_a_refused_connect_is_503_with_retry_after() -> None:
    app = _app("postgresql://nobody@127.0.0.1:1/none")
    answer = app.test_client().get("/api/v1/tasks", headers={"Authorization": "Bearer x"})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.mimetype == "application/problem+json"


def test_a_server_that_never_answers_times_out_at_connect_and_is_503() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts the TCP connection, never speaks PostgreSQL
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        engine = make_engine(f"postgresql://x@127.0.0.1:{port}/db", Timeouts(connect=1))
        with pytest.raises(StorageUnavailableError), engine.connect():
            pass
        engine.dispose()
    finally:
        stop.set()
        thread.join(5)
        for s in accepted:
            s.close()
        listener.close()


def test_the_read_url_serves_the_read_only_use_cases(tmp_path: Path, sqlite_template: Path) -> None:
    primary, standby = tmp_path / "primary.db", tmp_path / "standby.db"
    shutil.copy(sqlite_template, primary)
    shutil.copy(sqlite_template, standby)
    on_standby = build_context(f"sqlite:///{standby}")
    make_region(on_standby, "3510")
    ctx = build_context(f"sqlite:///{primary}", read_url=f"sqlite:///{standby}")
    make_region(ctx, "3273")  # a write: to the primary
    assert [r.code for r in regions.list_regions(ctx)] == ["3510"]  # a reader(): the standby
    with ctx.primary_reader() as uow:
        assert [r.code for r in uow.repos.regions.list()] == ["3273"]
    for c in (ctx, on_standby):
        c.session_factory.kw["bind"].dispose()
    assert ctx.replica is not None
    ctx.replica.dispose()


def test_timeouts_reach_the_server_as_session_settings(postgres_url: str) -> None:
    engine = make_engine(postgres_url, Timeouts(connect=2, statement=1.5, lock=0.25))
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "1500ms"
        assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "250ms"
        assert conn.execute(text("SHOW search_path")).scalar_one().startswith("pf_test_")
    engine.dispose()
    assert ConcurrentUpdateError  # the 409 side of the mapping is exercised above
