"""Prometheus metrics at GET /metrics (issue #17 item 2): a scenario's exact counts, on both
databases; only committed work is counted; the database figures; access by token."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text

from api import create_app
from api.commands.server import _child_exit, prepare_metrics_dir
from api.commands.worker import one_pass
from api.metrics import worker_metrics
from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.persistence.tables import EventRecord
from engine.services import applications
from engine.services.audit import record_event
from engine.services.worker import run_pass
from tests.factories import TIMER_BPMN, Clock, make_region, make_user, upload
from tests.ops.scenario import start_body, world

WIB = timezone(timedelta(hours=7))
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=WIB)
START = "/api/v1/regions/3273/applications"


def scrape(client: FlaskClient, headers: dict[str, str] | None = None) -> dict[tuple, float]:
    """Every sample of GET /metrics: (name, sorted labels) -> value."""
    answer = client.get("/metrics", headers=headers or {})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: dict[tuple, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _complete(client: FlaskClient, task: str, headers: dict[str, str]) -> int:
    return client.post(f"/api/v1/tasks/{task}/complete", json={"data": {}}, headers=headers).status_code


def test_a_scenario_shows_exactly_its_counts(app: Flask, client: FlaskClient) -> None:
    w = world(app)  # region 3273, a two-step model "tiny" (each step P1D), an officer
    ctx: EngineContext = app.extensions["permitflow"]
    clock = Clock(MONDAY_10)
    ctx.clock = clock
    upload(ctx, "3273", TIMER_BPMN)  # "escalation": a PT4H timer on its first step
    officer, _ = make_user(ctx, "front-office")
    supervisor, _ = make_user(ctx, "supervisor")
    started = [client.post(START, json=start_body(), headers=w.officer).get_json() for _ in range(3)]
    granted, waiting, cancelled = started
    first = granted["tasks"][0]["id"]
    assert _complete(client, first, w.officer) == 200
    assert _complete(client, first, w.officer) == 409  # rolled back: not counted
    second = client.get(f"/api/v1/applications/{granted['id']}", headers=w.officer).get_json()
    assert _complete(client, next(t["id"] for t in second["tasks"] if t["state"] == "ready"),
                     w.officer) == 200
    assert _complete(client, waiting["tasks"][0]["id"], w.officer) == 200
    applications.cancel_application(ctx, supervisor, uuid.UUID(cancelled["id"]), "berkas ganda")
    for _ in range(2):
        applications.start_application(ctx, officer, "3273", "escalation", {}, {})

    clock.now = MONDAY_10 + timedelta(hours=4, minutes=30)  # the timers were due at 14:00
    before = scrape(client)
    assert value(before, "permitflow_worker_lag_seconds", kind="timer") == 1800.0
    assert value(before, "permitflow_timers_fired_total", region="3273") == 0
    assert run_pass(ctx).timers_fired == 2
    clock.now = MONDAY_10 + timedelta(days=2)  # Wednesday: the P1D steps are past due
    report = run_pass(ctx)
    assert (report.steps_breached, report.applications_breached) == (3, 0)

    after = scrape(client)
    assert value(after, "permitflow_applications_started_total", region="3273") == 5
    assert value(after, "permitflow_steps_completed_total", region="3273") == 3
    assert value(after, "permitflow_applications_finished_total",
                 region="3273", outcome="granted") == 1
    assert value(after, "permitflow_applications_finished_total",
                 region="3273", outcome="cancelled") == 1
    assert value(after, "permitflow_timers_fired_total", region="3273") == 2
    assert value(after, "permitflow_sla_breaches_total", region="3273", kind="task") == 3
    assert value(after, "permitflow_sla_breaches_total", region="3273", kind="application") == 0
    for kind in ("timer", "task_breach", "application_breach"):
        assert value(after, "permitflow_worker_lag_seconds", kind=kind) == 0.0
    with ctx.session_factory() as session:
        events = session.scalar(
            select(func.count()).select_from(EventRecord).where(EventRecord.chain == "3273")
        )
    assert events and value(after, "permitflow_audit_chain_length", chain="3273") == events
    assert value(after, "permitflow_metrics_database_up") == 1
    # HTTP by route template and status; the raw path (an application's id) never appears.
    starts = {"method": "POST", "route": "/api/v1/regions/<region>/applications"}
    assert value(after, "permitflow_http_requests_total", **starts, status="201") == 3
    completes = {"method": "POST", "route": "/api/v1/tasks/<uuid:task_id>/complete"}
    assert value(after, "permitflow_http_requests_total", **completes, status="200") == 3
    assert value(after, "permitflow_http_requests_total", **completes, status="409") == 1
    assert value(after, "permitflow_http_request_duration_seconds_count", **completes) == 4
    assert value(after, "permitflow_http_request_duration_seconds_bucket",
                 **completes, le="+Inf") == 4
    assert not any(granted["id"] in str(labels) for _, labels in after)


def test_a_rolled_back_unit_of_work_counts_nothing(ctx: EngineContext) -> None:
    seen: list[str] = []

    class Recorder:
        def committed(self, events):  # type: ignore[no-untyped-def]
            seen.extend(e.action for e in events)

    ctx.observer = Recorder()
    with pytest.raises(RuntimeError), ctx.uow() as uow:
        record_event(uow, actor=SYSTEM, action="timer.fired", subject="t", at=MONDAY_10,
                     region_code=None)
        raise RuntimeError("the use case failed before its commit")
    assert seen == []
    with ctx.uow() as uow:
        record_event(uow, actor=SYSTEM, action="timer.fired", subject="t", at=MONDAY_10,
                     region_code=None)
        uow.commit()
    assert seen == ["timer.fired"]


def test_an_unrouted_path_is_one_series_and_methods_are_bounded(client: FlaskClient) -> None:
    for path in ("/no/such/thing", "/another/secret-3273014501900002"):
        assert client.get(path).status_code == 404
    assert client.open("/healthz", method="BREW").status_code == 405
    samples = scrape(client)
    assert value(samples, "permitflow_http_requests_total",
                 method="GET", route="(unrouted)", status="404") == 2
    assert value(samples, "permitflow_http_requests_total",
                 method="OTHER", route="(unrouted)", status="405") == 1
    assert not any("secret" in str(labels) for _, labels in samples)


def test_pool_use_is_what_this_process_has_checked_out(app: Flask, client: FlaskClient) -> None:
    engine = app.extensions["permitflow"].session_factory.kw["bind"]
    size = engine.pool.size()
    assert value(scrape(client), "permitflow_db_pool_size", pool="primary") == size
    assert value(scrape(client), "permitflow_db_pool_connections_in_use", pool="primary") == 0
    with engine.connect() as held:
        held.execute(text("SELECT 1"))
        assert value(scrape(client), "permitflow_db_pool_connections_in_use", pool="primary") == 1
    assert value(scrape(client), "permitflow_db_pool_connections_in_use", pool="primary") == 0


def test_a_metrics_token_guards_the_endpoint(db_url: str) -> None:
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "METRICS_TOKEN": "s3cret-scraper"})
    try:
        client = app.test_client()
        refused = client.get("/metrics")
        assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
        assert refused.get_json()["errors"][0]["field"] == "Authorization"
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        scrape(client, {"Authorization": "Bearer s3cret-scraper"})
    finally:
        app.extensions["permitflow"].session_factory.kw["bind"].dispose()


def test_the_database_figures_say_when_the_database_is_down(tmp_path: Path) -> None:
    # Never migrated: the scrape still answers, with the process's own figures.
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "TESTING": True})
    samples = scrape(app.test_client())
    assert value(samples, "permitflow_metrics_database_up") == 0
    assert ("permitflow_worker_lag_seconds", (("kind", "timer"),)) not in samples


def test_a_worker_answers_its_own_metrics_on_a_port(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", TIMER_BPMN)
    officer, _ = make_user(ctx, "front-office")
    ctx.clock = Clock(MONDAY_10)
    applications.start_application(ctx, officer, "3273", "escalation", {}, {})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    metrics = worker_metrics(ctx, port)
    assert metrics.server is not None and ctx.observer is metrics
    try:
        ctx.clock = Clock(MONDAY_10 + timedelta(hours=5))
        one_pass(ctx, metrics=metrics)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            body = answer.read().decode()
    finally:
        metrics.server.shutdown()
        metrics.server.server_close()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body) for s in family.samples
    }
    assert value(samples, "permitflow_timers_fired_total", region="3273") == 1
    assert value(samples, "permitflow_worker_pass_duration_seconds_count") == 1
    assert value(samples, "permitflow_worker_lag_seconds", kind="timer") == 0


def test_serve_prepares_an_empty_metrics_directory_and_marks_dead_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = tmp_path / "metrics"
    (given / "old").mkdir(parents=True)
    (given / "counter_4242.db").write_bytes(b"x")
    environ = {"PROMETHEUS_MULTIPROC_DIR": str(given)}
    assert prepare_metrics_dir(environ) == given and list(given.iterdir()) == []
    made: dict[str, str] = {}
    path = prepare_metrics_dir(made)  # unset: a temporary directory, put in the environment
    assert path.is_dir() and made["PROMETHEUS_MULTIPROC_DIR"] == str(path)
    path.rmdir()
    for name in ("gauge_livesum_4242.db", "gauge_livesum_4343.db", "counter_4242.db"):
        (given / name).write_bytes(b"")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(given))
    _child_exit(None, type("Worker", (), {"pid": 4242})())
    # Its live gauges go; its counters stay (they are summed whether it lives or not).
    assert sorted(p.name for p in given.iterdir()) == ["counter_4242.db", "gauge_livesum_4343.db"]


def test_a_workers_metrics_port_asks_for_the_token_when_one_is_set(ctx: EngineContext) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    metrics = worker_metrics(ctx, port, token="s3cret-metrics")
    assert metrics.server is not None
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        for header in ({}, {"Authorization": "Bearer wrong"}):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(urllib.request.Request(url, headers=header), timeout=10)
            assert refused.value.code == 401
            assert refused.value.headers["WWW-Authenticate"] == "Bearer"
            assert json.loads(refused.value.read())["errors"][0]["field"] == "Authorization"
        good = urllib.request.Request(url, headers={"Authorization": "Bearer s3cret-metrics"})
        with urllib.request.urlopen(good, timeout=10) as answer:
            body = answer.read().decode()
    finally:
        metrics.server.shutdown()
        metrics.server.server_close()
    assert "permitflow_metrics_database_up 1.0" in body
