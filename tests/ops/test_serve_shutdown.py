"""SIGTERM to the API processes under load (issue #17 item 8): `permitflow serve` (gunicorn,
the recipe's `--no-worker` form) stops accepting, finishes the requests in flight and exits
0; every request it took is answered and its change committed, nothing is half done.

The requests are held in flight by a lock the test takes (SQLite's write lock; on
PostgreSQL an EXCLUSIVE lock on `applications`), so the signal certainly arrives while
they run; the lock is let go once gunicorn's master says it handles the signal (it then
signals its processes at once)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, text

from api.config import Defaults
from engine.context import EngineContext
from engine.persistence.database import make_engine
from engine.persistence.tables import ApplicationRecord
from engine.services import audit
from tests.factories import ROOT, make_region, make_user, tiny_bpmn, upload
from tests.ops.scenario import start_body
from tests.ops.test_metrics_gunicorn import Server, _free_port, _wait_for

IN_FLIGHT = 4


@contextmanager
def _held(db_url: str) -> Iterator[tuple[str, Any]]:
    """Hold what a start needs to commit; yields (kind, handle)."""
    if db_url.startswith("sqlite"):
        lite = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        lite.execute("BEGIN IMMEDIATE")  # the write lock: every start waits (busy_timeout)
        try:
            yield "sqlite", lite
        finally:
            lite.execute("ROLLBACK")
            lite.close()
        return
    engine = make_engine(db_url)
    with engine.connect() as conn:
        conn.execute(text("LOCK TABLE applications IN EXCLUSIVE MODE"))
        try:
            yield "postgres", conn
        finally:
            conn.rollback()
    engine.dispose()


def _accepted(port: int) -> int:
    """Connections to `port` that the server has accepted (in the accept queue the kernel
    shows them with inode 0: not yet any process's socket)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if int(local.split(":")[1], 16) == port and state == "01" and inode != "0":
            count += 1
    return count


def _waiting_on(conn: Connection) -> int:
    pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return int(conn.execute(
        text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"),
        {"pid": pid}).scalar_one())


@pytest.mark.slow
def test_sigterm_finishes_the_requests_in_flight_and_loses_nothing(
    ctx: EngineContext, db_url: str
) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn())
    _, token = make_user(ctx, "front-office", region="3273")
    port = _free_port()
    env = {**os.environ, "PERMITFLOW_DATABASE_URL": db_url, "PERMITFLOW_LOG_FORMAT": "json",
           "PERMITFLOW_DB_LOCK_TIMEOUT": "60", "PERMITFLOW_DB_STATEMENT_TIMEOUT": "60"}
    server = subprocess.Popen(
        [sys.executable, "-m", "api.commands.cli", "serve", "--port", str(port),
         "--workers", "2", "--threads", "4", "--no-worker"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    answers: dict[str, tuple[int, dict[str, Any]]] = {}

    def start(reference: str) -> None:
        body = {**start_body(), "data": {"reference": reference}}
        request = urllib.request.Request(
            base + "/api/v1/regions/3273/applications", data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST")
        try:
            with urllib.request.urlopen(request, timeout=90) as answer:
                answers[reference] = (answer.status, json.loads(answer.read()))
        except urllib.error.HTTPError as exc:
            answers[reference] = (exc.code, json.loads(exc.read() or b"{}"))
        except OSError as exc:  # reset or refused: not acknowledged
            answers[reference] = (0, {"error": repr(exc)})

    log: list[str] = []

    def read_log() -> None:
        assert server.stderr is not None
        for line in server.stderr:
            log.append(line)

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    references = [f"ref-{uuid.uuid4().hex[:8]}" for _ in range(IN_FLIGHT)]
    clients = [threading.Thread(target=start, args=(r,)) for r in references]
    try:
        _wait_for(lambda: Server(base).get("/healthz")[0] == 200 or server.poll() is not None,
                  "serve")
        assert server.poll() is None, "".join(log)
        with _held(db_url) as (kind, handle):
            for client in clients:
                client.start()
            _wait_for(lambda: _accepted(port) >= IN_FLIGHT, "the requests to be accepted")
            if kind == "postgres":  # each is inside its use case, waiting for the lock
                _wait_for(lambda: _waiting_on(handle) >= IN_FLIGHT, "the starts to block")
            assert answers == {}  # all held in flight
            server.send_signal(signal.SIGTERM)
            _wait_for(lambda: any("Handling signal: term" in line for line in log),
                      "the master to take the signal")
            assert answers == {}  # still in flight: now let them go on
        for client in clients:
            client.join(90)
        server.wait(60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        reader.join(10)
        if server.stderr is not None:
            server.stderr.close()
    err = "".join(log)
    assert server.returncode == 0, err[-3000:]
    # Both processes ended by themselves, none killed at the graceful timeout.
    assert err.count("Worker exiting") == 2, err[-3000:]
    # The processes' own log (README "Logs"): one JSON access line per request, and no
    # SpiffWorkflow INFO line (it logs every task state change at INFO unless turned down).
    lines = [json.loads(x) for x in log if x.startswith("{")]
    starts = [x for x in lines if x.get("logger") == "permitflow.access"
              and x.get("route") == "/api/v1/regions/<region>/applications"]
    assert sorted((x["method"], x["status"]) for x in starts) == [("POST", 201)] * IN_FLIGHT
    assert len({x["request_id"] for x in starts}) == IN_FLIGHT
    assert not [x for x in lines if str(x.get("logger", "")).startswith("spiff")]

    # Every request in flight was answered, and answered as done.
    assert sorted(answers) == sorted(references)
    assert {status for status, _ in answers.values()} == {201}, answers
    made = {body["id"] for _, body in answers.values()}
    with ctx.uow() as uow:
        session = uow._session
        assert session is not None
        stored = {str(i) for i in session.scalars(select(ApplicationRecord.id))}
        count = session.scalar(select(func.count()).select_from(ApplicationRecord))
    assert stored == made and count == IN_FLIGHT  # committed, each once
    assert audit.verify_audit(ctx) == []


def _unit(name: str) -> dict[str, str]:
    lines = (ROOT / "deploy" / name).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_systemd_waits_for_the_graceful_stop_before_killing() -> None:
    """The units stop with SIGTERM and give it longer than the stop takes at most: gunicorn's
    graceful timeout for the API (`serve` leaves gunicorn's default), the statement timeout
    for a worker's item in hand; systemd SIGKILLs only after TimeoutStopSec."""
    from gunicorn.config import Config

    api = _unit("permitflow-api.service")
    assert api["KillSignal"] == "SIGTERM" and "--no-worker" in api["ExecStart"]
    assert int(api["TimeoutStopSec"]) > Config().graceful_timeout
    worker = _unit("permitflow-worker@.service")
    assert worker["KillSignal"] == "SIGTERM"
    assert int(worker["TimeoutStopSec"]) > float(Defaults.DB_STATEMENT_TIMEOUT)
