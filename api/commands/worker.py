"""The worker loop of `permitflow worker` (which `permitflow serve` starts beside the API)."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from engine.context import EngineContext
from engine.services.delivery import DeliveryReport
from engine.services.ops import record_heartbeat
from engine.services.worker import run_pass

if TYPE_CHECKING:  # imported when the loop runs (prometheus_client reads its env at import)
    from api.metrics import Metrics

log = logging.getLogger("permitflow.worker")


def run_forever(
    ctx: EngineContext,
    interval: float,
    stop: threading.Event | None = None,
    *,
    metrics_port: int = 0,
    metrics_host: str = "127.0.0.1",
    metrics_token: str = "",
) -> None:
    """Run passes every `interval` seconds until `stop` is set; a failing pass is logged.

    `stop` is checked between two items of a pass too (SIGTERM: the item in hand, its own
    transaction, is finished; the rest waits for the next worker). Each pass writes this
    worker's heartbeat (what `GET /readyz` checks) and its duration (`/metrics`); with
    `metrics_port` the worker answers its metrics itself.
    """
    from api.metrics import worker_metrics

    stop = stop or threading.Event()
    metrics = worker_metrics(ctx, metrics_port, metrics_host, metrics_token)
    while not stop.is_set():
        one_pass(ctx, stop, metrics)
        stop.wait(interval)


def one_pass(
    ctx: EngineContext, stop: threading.Event | None = None, metrics: Metrics | None = None
) -> None:
    """One pass and its heartbeat; failures are logged, the next pass retries."""
    started = time.monotonic()
    stopping = stop.is_set if stop is not None else (lambda: False)
    try:
        report = run_pass(ctx, stop=stopping)
        if (report.timers_fired or report.steps_breached or report.applications_breached
                or report.notifications != DeliveryReport()):
            log.info("worker pass: %s", report)
        elapsed = time.monotonic() - started
        record_heartbeat(ctx, int(elapsed * 1000))
        if metrics is not None:
            metrics.worker_pass.observe(elapsed)
    except Exception:  # keep serving; the next pass retries what this one rolled back
        log.exception("worker pass failed")
