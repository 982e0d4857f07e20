"""Liveness, readiness and version (issue #17 item 1), over the services and HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.commands.worker import one_pass
from engine.context import EngineContext
from engine.persistence.schema import head_revision, upgrade
from engine.services import ops
from tests.factories import Clock

MINUTE = timedelta(minutes=1)


def test_readiness_needs_a_recent_worker_heartbeat(ctx: EngineContext) -> None:
    clock = Clock(datetime(2026, 12, 7, 3, 0, tzinfo=UTC))
    ctx.clock = clock
    checks = {c.name: c for c in ops.readiness(ctx, 2 * MINUTE)}
    assert checks["database"].ok and checks["migrations"].ok
    assert not checks["worker"].ok and "no worker" in checks["worker"].detail
    one_pass(ctx)
    assert all(c.ok for c in ops.readiness(ctx, 2 * MINUTE))
    clock.advance(minutes=3)
    worker = {c.name: c for c in ops.readiness(ctx, 2 * MINUTE)}["worker"]
    assert not worker.ok and "180 s ago" in worker.detail


def test_readyz_answers_503_problem_naming_the_failed_check(
    client: FlaskClient, app: Flask
) -> None:
    assert client.get("/healthz").get_json() == {"status": "alive"}
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.mimetype == "application/problem+json"
    assert answer.headers["Retry-After"] == "5"
    body = answer.get_json()
    assert body["type"] == "not-ready" and body["errors"][0]["field"] == "worker"
    assert [c["name"] for c in body["checks"]] == ["database", "migrations", "worker"]
    one_pass(app.extensions["permitflow"])
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"


def test_readyz_names_migrations_behind_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005_harden_api")
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    body = app.test_client().get("/readyz").get_json()
    assert body["status"] == 503
    assert body["errors"] == [
        {
            "field": "migrations",
            "message": f"database at 0005_harden_api, code at {head_revision()}; "
            "run `permitflow db upgrade`",
        }
    ]
    app.extensions["permitflow"].session_factory.kw["bind"].dispose()


def test_readyz_names_an_unreachable_database() -> None:
    # Nothing listens on port 1: the connection is refused at once.
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert [e["field"] for e in answer.get_json()["errors"]] == ["database"]
    assert app.test_client().get("/healthz").status_code == 200


def test_version_names_package_schema_and_spiffworkflow(client: FlaskClient) -> None:
    body = client.get("/api/v1/version").get_json()
    assert body["package"] == "permitflow"
    assert body["schema_revision"] == head_revision() == body["database_revision"]
    assert body["spiffworkflow"] == "3.2.0"
