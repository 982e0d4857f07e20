"""/metrics under real gunicorn (issue #17 item 2): `permitflow serve --workers 2` in
multiprocess mode. Counters are summed over every process that served, live or dead;
pool gauges count live processes only (gunicorn's child_exit marks the dead ones). The
worker `serve` starts counts into the same figures; a worker of its own answers on a port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.context import EngineContext
from engine.services import applications
from tests.factories import ROOT, TIMER_BPMN, Clock, make_region, make_user, tiny_bpmn, upload
from tests.ops.scenario import start_body

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _wait_for(predicate: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


class Server:
    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    def start(self, token: str) -> int:
        request = urllib.request.Request(
            self.base + "/api/v1/regions/3273/applications",
            data=json.dumps(start_body()).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)

    def metric(self, name: str, **labels: str) -> float:
        status, body = self.get("/metrics")
        assert status == 200, body
        for family in text_string_to_metric_families(body):
            for s in family.samples:
                if s.name == name and s.labels == labels:
                    return float(s.value)
        return 0.0


def test_two_gunicorn_processes_sum_their_counters(
    ctx: EngineContext, db_url: str, tmp_path: Path
) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn())
    _, token = make_user(ctx, "front-office", region="3273")
    pool = ctx.session_factory.kw["bind"].pool.size()
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_99999.db").write_bytes(b"left by an earlier run")  # must be emptied
    port = _free_port()
    env = {**os.environ, "PERMITFLOW_DATABASE_URL": db_url, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    server = subprocess.Popen(
        [sys.executable, "-m", "api.commands.cli", "serve", "--port", str(port),
         "--workers", "2", "--threads", "2", "--no-worker"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    api = Server(f"http://127.0.0.1:{port}")
    try:
        _wait_for(lambda: api.get("/healthz")[0] == 200 or server.poll() is not None, "serve")
        assert not (shared / "counter_99999.db").exists()
        # Each process adds its own pool to the live sum: both have booted.
        _wait_for(lambda: api.metric("permitflow_db_pool_size", pool="primary") == 2 * pool,
                  "two booted processes")
        first = _children(server.pid)
        assert len(first) == 2
        assert [api.start(token) for _ in range(3)] == [201] * 3
        # SIGHUP: gunicorn replaces both processes with new ones (graceful).
        server.send_signal(signal.SIGHUP)

        def replaced() -> bool:
            now = _children(server.pid)
            return (len(now) == 2 and not now & first
                    and all((shared / f"gauge_livesum_{p}.db").exists() for p in now))

        _wait_for(replaced, "two new processes")
        second = _children(server.pid)
        assert [api.start(token) for _ in range(3)] == [201] * 3

        # Six starts, served by at least one old and one new process: the sum of all.
        assert api.metric("permitflow_applications_started_total", region="3273") == 6
        route = "/api/v1/regions/<region>/applications"
        assert api.metric("permitflow_http_requests_total",
                          method="POST", route=route, status="201") == 6
        served = {int(f.stem.split("_")[-1]) for f in shared.glob("counter_*.db")}
        assert served & first and served & second
        # The old processes' live gauges were marked dead (child_exit): 2 pools, not 4.
        assert not any((shared / f"gauge_livesum_{p}.db").exists() for p in first)
        assert api.metric("permitflow_db_pool_size", pool="primary") == 2 * pool
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            _, err = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
    assert server.returncode == 0, err[-2000:]


def _long_due_timers(ctx: EngineContext, count: int) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", TIMER_BPMN)
    officer, _ = make_user(ctx, "front-office")
    ctx.clock = Clock(datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=7))))
    for _ in range(count):
        applications.start_application(ctx, officer, "3273", "escalation", {}, {})


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err


def test_the_worker_serve_starts_counts_into_the_same_metrics(
    ctx: EngineContext, db_url: str, tmp_path: Path
) -> None:
    _long_due_timers(ctx, 4)
    port = _free_port()
    env = {**os.environ, "PERMITFLOW_DATABASE_URL": db_url,
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    server = subprocess.Popen(
        [sys.executable, "-m", "api.commands.cli", "serve", "--port", str(port), "--workers", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    api = Server(f"http://127.0.0.1:{port}")
    try:
        _wait_for(lambda: api.get("/healthz")[0] == 200 or server.poll() is not None, "serve")
        # The timers are fired by the worker process; the API process answers for it.
        _wait_for(lambda: api.metric("permitflow_timers_fired_total", region="3273") == 4,
                  "the worker's four timers in /metrics")
        _wait_for(lambda: api.metric("permitflow_worker_pass_duration_seconds_count") >= 1,
                  "the worker's pass")
        assert api.metric("permitflow_worker_lag_seconds", kind="timer") == 0
    finally:
        err = _stop(server)
    assert server.returncode == 0, err[-2000:]


def test_a_worker_of_its_own_answers_its_metrics_on_a_port(
    ctx: EngineContext, db_url: str
) -> None:
    _long_due_timers(ctx, 3)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "api.commands.cli", "worker", "--interval", "3600",
         "--metrics-port", str(port)],
        cwd=ROOT, env={**env, "PERMITFLOW_DATABASE_URL": db_url},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    own = Server(f"http://127.0.0.1:{port}")
    try:
        _wait_for(lambda: own.get("/metrics")[0] == 200 or worker.poll() is not None, "its port")
        _wait_for(lambda: own.metric("permitflow_timers_fired_total", region="3273") == 3,
                  "three timers fired")
        assert own.metric("permitflow_metrics_database_up") == 1
    finally:
        err = _stop(worker)
    assert worker.returncode == 0, err[-2000:]
