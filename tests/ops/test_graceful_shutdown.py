"""The production recipe's worker (issue #17 item 8): SIGTERM during a pass loses nothing.

`permitflow worker` runs as systemd runs it (a subprocess on the real clock) over timers
long due; SIGTERM arrives once it has fired some: it finishes its pass (each timer its own
transaction), writes its heartbeat and exits 0; a later pass fires the rest, each timer
exactly once, and the audit chain verifies.
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

from sqlalchemy import func, select

from engine.context import EngineContext
from engine.persistence.tables import EventRecord, WorkerHeartbeatRecord
from engine.services import applications
from engine.services.audit import verify_audit
from engine.services.worker import run_pass
from tests.factories import ROOT, TIMER_BPMN, Clock, make_region, make_user, upload

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


def test_sigterm_mid_pass_finishes_the_pass_and_loses_nothing(
    ctx: EngineContext, db_url: str
) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", TIMER_BPMN)
    officer, _ = make_user(ctx, "front-office")
    ctx.clock = Clock(datetime(2026, 3, 2, 10, 0, tzinfo=WIB))  # timers due that afternoon
    for _ in range(APPS):
        applications.start_application(ctx, officer, "3273", "escalation", {}, {})
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
    try:
        _wait_for(lambda: _count(ctx, EventRecord, *fired) > 0 or worker.poll() is not None,
                  "the worker's first timer")
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=180)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, err
    for line in err.splitlines():  # whatever it logged is JSON lines
        json.loads(line)
    assert _count(ctx, WorkerHeartbeatRecord) == 1  # the pass under way was finished
    ctx.clock = Clock(datetime.now(UTC))
    run_pass(ctx)  # anything left is fired by the next pass
    with ctx.session_factory() as session:
        per_app = session.execute(
            select(EventRecord.application_id, func.count()).where(*fired)
            .group_by(EventRecord.application_id)
        ).all()
    assert len(per_app) == APPS and {n for _, n in per_app} == {1}
    assert verify_audit(ctx) == []
