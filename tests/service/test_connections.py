"""Connections: pooled ones checked when they sat idle; read-only use cases without a\nwrite transaction."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from engine.persistence import database
from engine.persistence.database import make_engine
from tests.factories import make_region


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("select pg_backend_pid()")).scalar_one())


@pytest.mark.postgres
def test_a_connection_killed_while_idle_is_replaced_before_use(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "PING_IDLE_SECONDS", 0.0)  # every reuse counts as idle
    engine, admin = make_engine(postgres_url, pool_size=1), make_engine(postgres_url)
    try:
        pid = _backend_pid(engine)
        with admin.connect() as conn:  # the server drops it (restart, idle timeout, proxy)
            assert conn.execute(text("select pg_terminate_backend(:p)"), {"p": pid}).scalar()
        assert _backend_pid(engine) != pid  # pinged, found dead, replaced: no error
    finally:
        engine.dispose()
        admin.dispose()


@pytest.mark.postgres
def test_a_connection_used_a_moment_ago_is_not_pinged(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(postgres_url, pool_size=1)
    pings: list[object] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or real_ping(c))
    try:
        first = _backend_pid(engine)
        for _ in range(5):
            assert _backend_pid(engine) == first
        assert pings == []  # within the idle window: no round trip spent on checking
        for record in engine.pool._pool.queue:  # type: ignore[attr-defined]
            record.info["checked_in"] -= 60  # as if it had waited a minute
        assert _backend_pid(engine) == first
        assert len(pings) == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_reader_does_not_wait_for_a_writer_on_sqlite(ctx) -> None:
    # BEGIN IMMEDIATE is for writers; a read-only use case must not queue behind one.
    make_region(ctx, "3273")
    with ctx.uow() as writer:
        writer.repos.regions.get("3273").name = "Kota Bandung (diubah)"
        writer.flush()  # the write lock is held from here until commit
        started = time.monotonic()
        with ctx.reader() as reader:
            assert reader.repos.regions.get("3273").name == "Kota Bandung"  # its snapshot
        assert time.monotonic() - started < 5  # the busy timeout is 30 s
        writer.commit()


def test_a_reader_refuses_to_write(ctx) -> None:
    make_region(ctx, "3273")
    with pytest.raises(RuntimeError, match="cannot commit"), ctx.reader() as reader:
        reader.commit()
    with pytest.raises(RuntimeError, match="changed records"), ctx.reader() as reader:
        reader.repos.regions.get("3273").name = "diubah"
    with ctx.reader() as reader:
        assert reader.repos.regions.get("3273").name != "diubah"


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_reader_opens_no_transaction_and_leaves_none_behind_on_postgres(ctx) -> None:
    make_region(ctx, "3273")
    for _ in range(3):  # the same pooled connection goes back and forth
        with ctx.reader() as reader:
            driver = reader._session.connection().connection.driver_connection
            reader.repos.regions.get("3273")
            assert driver.autocommit and driver.info.transaction_status.name == "IDLE"
        with ctx.uow() as writer:  # a writer on it again runs in one transaction
            driver = writer._session.connection().connection.driver_connection
            writer.repos.regions.get("3273")
            assert not driver.autocommit and driver.info.transaction_status.name == "INTRANS"
