"""The production recipe's worker (issue #17 item 8): SIGTERM stops it between two timers.

`permitflow worker` runs as systemd runs it (a subprocess on the real clock) over timers
long due. Once it has fired some, the test holds the rows it needs next (the write lock on
SQLite, every application row on PostgreSQL), sends SIGTERM and lets go: the worker finishes
at most the timer in hand (its own transaction), skips the rest of the pass, writes its
heartbeat and exits 0; a later pass fires the rest, each timer exactly once, and the audit
chain verifies.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select

from engine.context import EngineContext
from engine.persistence.tables import ApplicationRecord, EventRecord, WorkerHeartbeatRecord
from engine.services import applications
from engine.services.audit import verify_audit
from engine.services.worker import run_pass
from tests.factories import ROOT, TIMER_BPMN, Clock, make_region, make_user, tiny_bpmn, upload

WIB = timezone(timedelta(hours=7))
APPS = 60


def _wait_for(predicate: Callable[[], bool], what: str, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def _count(ctx: EngineContext, record: type, *where: object) -> int:
    with ctx.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(record).where(*where)) or 0)


def _due_timers(ctx: EngineContext, count: int) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", TIMER_BPMN)
    officer, _ = make_user(ctx, "front-office")
    ctx.clock = Clock(datetime(2026, 3, 2, 10, 0, tzinfo=WIB))  # timers due that afternoon
    for _ in range(count):
        applications.start_application(ctx, officer, "3273", "escalation", {}, {})


def test_a_pass_asked_to_stop_ends_after_the_item_in_hand(ctx: EngineContext) -> None:
    _due_timers(ctx, 5)
    upload(ctx, "3273", tiny_bpmn(steps=1))  # one step, P1D: past due by Wednesday
    officer, _ = make_user(ctx, "front-office")
    applications.start_application(ctx, officer, "3273", "tiny", {}, {})
    later = datetime(2026, 3, 4, 12, 0, tzinfo=WIB)  # timers due, and steps past their SLA
    fired = (EventRecord.action == "timer.fired",)
    asked = []

    def stop() -> bool:  # asked before each timer: yes once one has fired
        asked.append(1)
        return _count(ctx, EventRecord, *fired) >= 1

    report = run_pass(ctx, later, stop=stop)
    assert (report.timers_fired, report.steps_breached, report.stopped) == (1, 0, True)
    assert _count(ctx, EventRecord, *fired) == 1
    rest = run_pass(ctx, later)
    assert (rest.timers_fired, rest.steps_breached, rest.stopped) == (4, 1, False)


def test_sigterm_stops_the_worker_between_two_timers_and_loses_nothing(
    ctx: EngineContext, db_url: str
) -> None:
    _due_timers(ctx, APPS)
    fired = (EventRecord.action == "timer.fired",)
    env = {**os.environ, "PERMITFLOW_DATABASE_URL": db_url, "PERMITFLOW_LOG_FORMAT": "json"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "api.commands.cli", "worker", "--interval", "3600"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sqlite = db_url.startswith("sqlite")
    try:
        with ctx.session_factory() as holder:
            if sqlite:
                # SQLite's lock is not fair: a worker committing timer after timer takes it
                # back before a waiting holder does. So hold it from the start: the worker
                # installs its SIGTERM handler, then waits on its first transaction.
                holder.execute(select(ApplicationRecord.id).with_for_update()).all()
                _wait_for(lambda: _catches_sigterm(worker.pid) or worker.poll() is not None,
                          "the worker's SIGTERM handler")
            else:
                _wait_for(
                    lambda: _count(ctx, EventRecord, *fired) > 0 or worker.poll() is not None,
                    "the worker's first timer",
                )
                # Hold what the worker's next timer needs: every application row (a timer
                # locks its application). Nothing more can commit while the signal arrives.
                holder.execute(select(ApplicationRecord.id).with_for_update()).all()
            before = holder.scalar(select(func.count()).select_from(EventRecord).where(*fired))
            worker.send_signal(signal.SIGTERM)
            holder.rollback()
        _, err = worker.communicate(timeout=180)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, err
    # At most the timer in hand was finished; the rest of the pass was left.
    stopped_at = _count(ctx, EventRecord, *fired)
    assert before <= stopped_at <= before + 1 < APPS
    for line in err.splitlines():  # whatever it logged is JSON lines
        json.loads(line)
    # The pass under way was finished and beat. On SQLite the signal may come before the first
    # pass begins (the worker waits on the held lock), so it may exit having made none; stopping
    # between two timers is then shown by PostgreSQL's run and the in-process test above.
    assert _count(ctx, WorkerHeartbeatRecord) in ({0, 1} if sqlite else {1})
    ctx.clock = Clock(datetime.now(UTC))
    run_pass(ctx)  # anything left is fired by the next pass
    with ctx.session_factory() as session:
        per_app = session.execute(
            select(EventRecord.application_id, func.count()).where(*fired)
            .group_by(EventRecord.application_id)
        ).all()
    assert len(per_app) == APPS and {n for _, n in per_app} == {1}
    assert verify_audit(ctx) == []


def _catches_sigterm(pid: int) -> bool:
    """Whether process `pid` has a handler for SIGTERM (Linux: SigCgt in /proc/pid/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught, 16) >> (signal.SIGTERM - 1) & 1)
