"""Prometheus metrics at `GET /metrics` (issue #17), in multiprocess mode under gunicorn.

What is counted, and where it comes from:

- HTTP requests by method, route *template* (`/api/v1/tasks/<uuid:task_id>/complete`,
  never the raw path: the number of series is bounded by the routes) and status, with a
  latency histogram by method and route: counted here, after each request.
- Domain events (applications started and finished by outcome, steps completed, timers
  fired, SLA breaches): counted from the audit events of each *committed* unit of work.
  The engine tells an observer (`engine/domain/observers.py`) after its commit and knows
  nothing of Prometheus; this module is that observer. A transaction that rolls back is
  therefore never counted, and the counts agree with the audit log.
- Worker pass duration: observed by the worker loop (`api/commands/worker.py`).
- Database pool use: a gauge each process moves on its own pool's checkout and checkin
  (`engine.persistence.database.watch_pool`), summed over the live processes.
- Worker lag and audit-chain length: read from the database at scrape time by a custom
  collector (`engine.services.ops.scrape_figures`), so they are right whichever process
  did the work.

Multiprocess mode: `permitflow serve` prepares and empties `PROMETHEUS_MULTIPROC_DIR`
before gunicorn forks, and gunicorn's `child_exit` hook marks a dead process's gauges
dead (`api/commands/server.py`). Every process writes its values to files there, and a
scrape of any process sums them. prometheus_client picks its storage when it is first
imported, so nothing imports this module before the directory is set: `create_app` and
the worker import it when they run.

Access: public, like `/healthz`, unless `PERMITFLOW_METRICS_TOKEN` is set; then only
`Authorization: Bearer <that token>` reads it. The figures hold counts, route templates
and region codes, no personal data.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from flask import Flask, Request, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    make_wsgi_app,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from api.errors import problem
from engine.context import EngineContext
from engine.domain.errors import EngineError
from engine.domain.observers import CommittedEvent
from engine.persistence.database import watch_pool
from engine.services.ops import scrape_figures

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNROUTED = "(unrouted)"
log = logging.getLogger("permitflow.metrics")


def multiprocess_dir() -> str | None:
    """The directory shared by the processes of one server, when there is one."""
    return os.environ.get(MULTIPROC_DIR) or None


class Metrics:
    """The metrics of one process (one app, or one worker); the commit observer too."""

    server: WSGIServer | None = None  # a worker's own metrics port (`worker_metrics`)

    def __init__(self, registry: CollectorRegistry) -> None:
        self._series: dict[tuple[Counter, tuple[str, ...]], Any] = {}

        def counter(name: str, doc: str, labels: Sequence[str]) -> Counter:
            return Counter(name, doc, labels, registry=registry)

        self.requests = counter(
            "permitflow_http_requests", "HTTP requests answered", ("method", "route", "status")
        )
        self.latency = Histogram(
            "permitflow_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ("method", "route"),
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=registry,
        )
        self.started = counter(
            "permitflow_applications_started", "Applications started", ("region",)
        )
        self.finished = counter(
            "permitflow_applications_finished",
            "Applications finished, by outcome (granted, rejected, completed, cancelled)",
            ("region", "outcome"),
        )
        self.steps = counter("permitflow_steps_completed", "Human steps completed", ("region",))
        self.timers = counter("permitflow_timers_fired", "BPMN timers fired", ("region",))
        self.breaches = counter(
            "permitflow_sla_breaches", "SLA breaches recorded (step or application)",
            ("region", "kind"),
        )
        self.worker_pass = Histogram(
            "permitflow_worker_pass_duration_seconds",
            "Time one worker pass took (timers, then breaches)",
            buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0),
            registry=registry,
        )
        self.pool_in_use = Gauge(
            "permitflow_db_pool_connections_in_use",
            "Database connections checked out of the pools (summed over live processes)",
            ("pool",),
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.pool_size = Gauge(
            "permitflow_db_pool_size",
            "Configured size of the database pools (summed over live processes)",
            ("pool",),
            multiprocess_mode="livesum",
            registry=registry,
        )

    def committed(self, events: Sequence[CommittedEvent]) -> None:
        """Count the domain facts of one committed transaction (the engine's observer)."""
        for event in events:
            region = event.region_code or "*"
            action = event.action
            if action == "application.started":
                self._count(self.started, region)
            elif action == "application.completed":
                ending = event.data.get("outcome") or {}
                self._count(self.finished, region, str(ending.get("kind") or "completed"))
            elif action == "application.cancelled":
                self._count(self.finished, region, "cancelled")
            elif action == "task.completed":
                self._count(self.steps, region)
            elif action == "timer.fired":
                self._count(self.timers, region)
            elif action == "sla.breached":
                self._count(self.breaches, region, str(event.data.get("kind") or "task"))

    def _count(self, counter: Counter, *labels: str) -> None:
        # The labelled series, found once each (`labels()` checks and locks on every call);
        # as many as the series themselves.
        series = self._series.get((counter, labels))
        if series is None:
            series = self._series[(counter, labels)] = counter.labels(*labels)
        series.inc()

    def watch(self, ctx: EngineContext) -> None:
        """Move the pool gauges with this process's pools, and count its commits."""
        pools: list[tuple[str, Any]] = [("primary", ctx.session_factory.kw["bind"])]
        if ctx.replica is not None:
            pools.append(("replica", ctx.replica))
        for name, engine in pools:
            gauge = self.pool_in_use.labels(name)
            self.pool_size.labels(name).inc(watch_pool(engine, gauge.inc))
        ctx.observer = self


class DatabaseFigures(Collector):
    """Worker lag and audit-chain lengths, read from the database at each scrape."""

    def __init__(self, ctx: EngineContext) -> None:
        self._ctx = ctx

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "permitflow_metrics_database_up", "1 when the scrape could read the database"
        )
        try:
            figures = scrape_figures(self._ctx)
        except EngineError as exc:
            log.warning("metrics: the database figures could not be read: %s", exc.detail)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        lag = GaugeMetricFamily(
            "permitflow_worker_lag_seconds",
            "How long the oldest worker item due and not yet handled has been due (0: none)",
            labels=["kind"],
        )
        for kind, seconds in sorted(figures.lag_seconds.items()):
            lag.add_metric([kind], seconds)
        yield lag
        chains = GaugeMetricFamily(
            "permitflow_audit_chain_length",
            "Events in each audit chain (a region's code, or * for events of no region)",
            labels=["chain"],
        )
        for chain, length in figures.chain_lengths:
            chains.add_metric([chain], length)
        yield chains


def worker_metrics(
    ctx: EngineContext, port: int = 0, host: str = "127.0.0.1", token: str = ""
) -> Metrics:
    """The metrics of a `permitflow worker` process. They reach the API's `/metrics` when
    the worker shares its PROMETHEUS_MULTIPROC_DIR (the worker `serve` starts does); with
    `port`, the worker also answers them itself at http://host:port/ (its own figures and
    the database's), for a worker run as its own unit; with `token` (the API's
    PERMITFLOW_METRICS_TOKEN) only to `Authorization: Bearer <token>`, as the API does."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.watch(ctx)
    if port:
        exposed = registry
        path = multiprocess_dir()
        if path is not None:
            exposed = CollectorRegistry()
            multiprocess.MultiProcessCollector(exposed, path=path)  # type: ignore[no-untyped-call]
        exposed.register(DatabaseFigures(ctx))
        metrics.server = _serve(_guarded(make_wsgi_app(exposed), token), host, port)
    return metrics


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged line by line (the API's access log is the request log)."""


def _serve(app: Callable[..., Iterable[bytes]], host: str, port: int) -> WSGIServer:
    server = make_server(host, port, app, _ThreadingServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


def _guarded(app: Callable[..., Iterable[bytes]], token: str) -> Callable[..., Iterable[bytes]]:
    """`app` behind the bearer token (none: public), answering 401 problem+json otherwise."""
    if not token:
        return app

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        given = str(environ.get("HTTP_AUTHORIZATION", "")).removeprefix("Bearer ").strip()
        if hmac.compare_digest(given.encode(), token.encode()):
            return app(environ, start_response)
        body = json.dumps({  # as the API's `problem()` answers it (no request here)
            "type": "unauthenticated", "title": "Perlu autentikasi", "status": 401,
            "detail": "the worker's metrics need the bearer token set in "
                      "PERMITFLOW_METRICS_TOKEN",
            "errors": [{"field": "Authorization", "message": "missing or wrong metrics token"}],
        }).encode()
        start_response("401 Unauthorized", [
            ("Content-Type", "application/problem+json"), ("WWW-Authenticate", "Bearer"),
            ("Content-Length", str(len(body))),
        ])
        return [body]

    return guarded


def init_metrics(app: Flask, ctx: EngineContext) -> None:
    """Instrument `app`: its metrics, the commit observer, and the `/metrics` route."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.watch(ctx)
    figures = DatabaseFigures(ctx)
    registry.register(figures)
    app.extensions["permitflow.metrics"] = (registry, figures)

    # The labelled series, found once each: `labels()` checks and locks on every call.
    # Bounded like the series themselves: by the routes, methods and statuses.
    counted: dict[tuple[str, str, int], Any] = {}
    timed: dict[tuple[str, str], Any] = {}

    def _observe(response: Response) -> Response:
        started = g.get("request_started")
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        rule = req.url_rule
        route = rule.rule if rule else UNROUTED
        method = req.method if req.method in KNOWN_METHODS else "OTHER"
        status = response.status_code
        counter = counted.get((method, route, status))
        if counter is None:
            counter = counted[(method, route, status)] = metrics.requests.labels(
                method, route, str(status))
        counter.inc()
        if started is not None:
            histogram = timed.get((method, route))
            if histogram is None:
                histogram = timed[(method, route)] = metrics.latency.labels(method, route)
            histogram.observe(_elapsed(started))
        return response

    app.after_request(_observe)
    app.add_url_rule("/metrics", "metrics", _scrape, methods=["GET"])


def _elapsed(started: float) -> float:
    return max(0.0, time.perf_counter() - started)


def _scrape() -> Response:
    """Prometheus text format: every process's values (multiprocess) and the database's."""
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and not hmac.compare_digest(given.encode(), token.encode()):
        return problem(
            401,
            "unauthenticated",
            ("Perlu autentikasi", "Authentication required"),
            "GET /metrics needs the bearer token set in PERMITFLOW_METRICS_TOKEN",
            [{"field": "Authorization", "message": "missing or wrong metrics token"}],
            {"WWW-Authenticate": "Bearer"},
        )
    registry, figures = current_app.extensions["permitflow.metrics"]
    path = multiprocess_dir()
    if path is not None:  # every live and dead process's files, summed; then the database
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
        registry.register(figures)
    body = generate_latest(registry)
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})
