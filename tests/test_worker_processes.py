"""Workers as real processes (DESIGN §7 scale-out, §8): two `permitflow worker --now ISO`
started together fire each timer and record each breach once; a worker killed with SIGKILL
in the middle of a transaction loses nothing and leaves the audit chain intact.

Both databases: the `db_url` fixture's URL (a SQLite file, or the per-worker PostgreSQL
schema) is handed to the subprocesses in PERMITFLOW_DATABASE_URL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from api.wiring import build_context
from engine.context import EngineContext
from engine.persistence.tables import EventRecord, TaskRecord, TimerRecord
from engine.services import applications
from engine.services.audit import verify_audit
from engine.services.worker import run_pass
from tests.factories import ROOT, TIMER_BPMN, Clock, make_region, make_user, tiny_bpmn, upload

WIB = timezone(timedelta(hours=7))
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=WIB)  # escalation timers (PT4H) due 14:00
TIMED_APPS = 20
SLOW_APPS = 5
REPORT = re.compile(r"timers fired: (\d+), steps breached: (\d+), applications breached: (\d+)")


@pytest.fixture
def ctx(db_url: str) -> Iterator[EngineContext]:
    context = build_context(db_url)
    yield context
    context.session_factory.kw["bind"].dispose()


def env_for(db_url: str) -> dict[str, str]:
    return {**os.environ, "PERMITFLOW_DATABASE_URL": db_url}


def wait_for(predicate, what: str, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


# `permitflow worker ...` as the console script runs it (api.commands.cli.main), held after its imports
# until the test opens a gate, so both passes really overlap instead of one process doing
# everything while the other is still importing.
GATED_WORKER = """
import sys, time
from pathlib import Path
from api.commands.cli import main

ready, gate = Path(sys.argv[1]), Path(sys.argv[2])
ready.touch()
while not gate.exists():
    time.sleep(0.005)
main(sys.argv[3:], prog_name="permitflow")
"""


def two_workers(db_url: str, now: str, tmp_path: Path) -> list[tuple[int, int, int]]:
    """Two `permitflow worker --now` processes released at once; each one's
    (timers fired, steps breached, applications breached)."""
    gate = tmp_path / f"gate-{now}"
    readies = [tmp_path / f"ready-{now}-{i}" for i in range(2)]
    procs = [subprocess.Popen([sys.executable, "-c", GATED_WORKER, str(ready), str(gate),
                               "worker", "--now", now],
                              cwd=ROOT, env=env_for(db_url), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for ready in readies]
    try:
        wait_for(lambda: all(r.exists() for r in readies) or any(p.poll() is not None for p in procs),
                 "both workers to start")
        gate.touch()
        reports = []
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err
            match = REPORT.fullmatch(out.strip())
            assert match, (out, err)
            reports.append(tuple(int(g) for g in match.groups()))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return reports


def events(ctx: EngineContext, action: str) -> Counter[tuple[str, str]]:
    """How often each (application, subject) has an event `action`."""
    with ctx.uow() as uow:
        rows = uow._session.execute(
            select(EventRecord.application_id, EventRecord.subject, func.count())
            .where(EventRecord.action == action)
            .group_by(EventRecord.application_id, EventRecord.subject)).all()
    return Counter({(str(app_id), subject): n for app_id, subject, n in rows})


def test_two_worker_processes_fire_each_timer_and_record_each_breach_once(
    ctx: EngineContext, db_url: str, tmp_path: Path
) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", TIMER_BPMN)
    upload(ctx, "3273", tiny_bpmn(key="slow", steps=1, sla="PT2H"))
    officer, _ = make_user(ctx, "front-office")
    # Slow ones three weeks earlier: by Monday their step and their 5-day backstop are late.
    ctx.clock = Clock(MONDAY_10 - timedelta(days=21))
    for _ in range(SLOW_APPS):
        applications.start_application(ctx, officer, "3273", "slow", {}, {})
    ctx.clock = Clock(MONDAY_10)
    timed = [applications.start_application(ctx, officer, "3273", "escalation", {}, {}).id
             for _ in range(TIMED_APPS)]

    # Monday 15:00: every timer is due, no review step is late yet (due Tue 09:30), so the
    # outcome does not depend on how the two workers interleave.
    reports = two_workers(db_url, "2026-03-02T15:00:00+07:00", tmp_path)
    assert [sum(r[i] for r in reports) for i in range(3)] == [TIMED_APPS, SLOW_APPS, SLOW_APPS]
    fired = events(ctx, "timer.fired")
    assert sum(fired.values()) == TIMED_APPS and set(fired.values()) == {1}
    with ctx.uow() as uow:
        per_app = Counter(uow._session.scalars(select(EventRecord.application_id).where(
            EventRecord.action == "timer.fired")))
        escalated = Counter(uow._session.scalars(select(TaskRecord.application_id).where(
            TaskRecord.element_id == "escalated", TaskRecord.state == "ready")))
        waiting = uow._session.scalar(select(func.count()).select_from(TimerRecord).where(
            TimerRecord.status == "waiting"))
    assert per_app == Counter({app_id: 1 for app_id in timed})
    assert escalated == Counter({app_id: 1 for app_id in timed})
    assert waiting == 0
    breached = events(ctx, "sla.breached")
    assert sum(breached.values()) == 2 * SLOW_APPS and set(breached.values()) == {1}

    again = run_pass(ctx, datetime(2026, 3, 2, 15, 0, tzinfo=WIB))
    assert (again.timers_fired, again.steps_breached, again.applications_breached) == (0, 0, 0)
    # A month on: every escalated step and every escalation application is late, once each.
    reports = two_workers(db_url, "2026-04-02T10:00:00+07:00", tmp_path)
    assert [sum(r[i] for r in reports) for i in range(3)] == [0, TIMED_APPS, TIMED_APPS]
    breached = events(ctx, "sla.breached")
    assert sum(breached.values()) == 2 * SLOW_APPS + 2 * TIMED_APPS and set(breached.values()) == {1}
    assert verify_audit(ctx) == []


# The worker under test, stalled inside its third timer's transaction after the engine's
# outcome is applied and flushed (rows written and locked, nothing committed). The worker
# module imported `apply_outcome` by name, so that is the reference patched.
STALLING_WORKER = """
import json, os, sys, time
from datetime import datetime
from pathlib import Path

import engine.services.outcomes as outcomes
import engine.services.worker as worker
from api.wiring import build_context

marker, now = Path(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
real, calls = outcomes.apply_outcome, []

def stalling(uow, *args, **kwargs):
    created = real(uow, *args, **kwargs)
    calls.append(1)
    if len(calls) == 3:
        uow.flush()
        connection = uow._session.connection()
        backend = None
        if connection.dialect.name == "postgresql":
            backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        marker.write_text(json.dumps({"pid": os.getpid(), "backend": backend}))
        time.sleep(600)
    return created

worker.apply_outcome = outcomes.apply_outcome = stalling
worker.run_pass(build_context(os.environ["PERMITFLOW_DATABASE_URL"]), now)
"""


def test_a_worker_killed_mid_transaction_loses_nothing(
    ctx: EngineContext, db_url: str, tmp_path: Path
) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", TIMER_BPMN)
    officer, _ = make_user(ctx, "front-office")
    ctx.clock = Clock(MONDAY_10)
    timed = [applications.start_application(ctx, officer, "3273", "escalation", {}, {}).id
             for _ in range(5)]
    now = datetime(2026, 3, 2, 15, 0, tzinfo=WIB)
    marker = tmp_path / "stalled.json"
    proc = subprocess.Popen([sys.executable, "-c", STALLING_WORKER, str(marker), now.isoformat()],
                            cwd=ROOT, env=env_for(db_url), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (marker.exists() and marker.read_text()) or proc.poll() is not None,
                 "the worker to stall")
        assert proc.poll() is None, proc.communicate()
        stalled = json.loads(marker.read_text())
        os.kill(stalled["pid"], signal.SIGKILL)
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    if stalled["backend"] is not None:  # PostgreSQL ends the dead client's transaction itself
        def backend_gone() -> bool:
            with ctx.uow() as uow:
                return not uow._session.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": stalled["backend"]})
        wait_for(backend_gone, "PostgreSQL to end the killed worker's session")

    # Two timers were committed before the kill; the third was rolled back with its process.
    assert sum(events(ctx, "timer.fired").values()) == 2
    assert verify_audit(ctx) == []
    assert run_pass(ctx, now).timers_fired == 3
    assert run_pass(ctx, now).timers_fired == 0
    with ctx.uow() as uow:
        per_app = Counter(uow._session.scalars(select(EventRecord.application_id).where(
            EventRecord.action == "timer.fired")))
        tasks = Counter(uow._session.execute(select(TaskRecord.element_id, TaskRecord.state)).all())
        timers = Counter(uow._session.scalars(select(TimerRecord.status)))
    assert per_app == Counter({app_id: 1 for app_id in timed})
    assert tasks == Counter({("review", "cancelled"): 5, ("escalated", "ready"): 5})
    assert timers == Counter({"fired": 5})
    assert verify_audit(ctx) == []
