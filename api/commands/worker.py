"""The worker loop of `permitflow worker` (which `permitflow serve` starts beside the API)."""

from __future__ import annotations

import logging
import threading
import time

from engine.context import EngineContext
from engine.services.ops import record_heartbeat
from engine.services.worker import run_pass

log = logging.getLogger("permitflow.worker")


def run_forever(ctx: EngineContext, interval: float, stop: threading.Event | None = None) -> None:
    """Run passes every `interval` seconds until `stop` is set; a failing pass is logged.

    Each finished pass writes this worker's heartbeat (what `GET /readyz` checks).
    """
    stop = stop or threading.Event()
    while not stop.is_set():
        one_pass(ctx)
        stop.wait(interval)


def one_pass(ctx: EngineContext) -> None:
    """One pass and its heartbeat; failures are logged, the next pass retries."""
    started = time.monotonic()
    try:
        report = run_pass(ctx)
        if report.timers_fired or report.steps_breached or report.applications_breached:
            log.info("worker pass: %s", report)
        record_heartbeat(ctx, int((time.monotonic() - started) * 1000))
    except Exception:  # keep serving; the next pass retries what this one rolled back
        log.exception("worker pass failed")
