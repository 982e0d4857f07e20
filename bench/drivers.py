"""Walking a scenario through the service layer or over HTTP (in-process or a real socket)."""

from __future__ import annotations

import http.client
import json
import uuid
from typing import Any, Protocol

from flask.testing import FlaskClient

from bench.measure import Stopwatch
from bench.world import REGION, Scenario, World, new_reference
from engine.domain.views import ApplicationView, TaskView
from engine.services import applications, payments, tasks


class BenchError(RuntimeError):
    """A scenario did not go as it must (a failed request, a missing task)."""


def service_lifecycle(
    world: World, scenario: Scenario, watch: Stopwatch | None = None, steps: int | None = None
) -> ApplicationView:
    """Start an application and complete its steps with `tasks.complete_task`.

    Only the completions are timed into `watch`; starting and paying are not.
    `steps` stops after that many steps (the application then stays running).
    """
    ctx, counter = world.ctx, world.actors["front-office"]
    app = applications.start_application(
        ctx, counter, REGION, scenario.key, scenario.applicant, scenario.data
    )
    for step in scenario.steps[:steps]:
        task = _ready_view(app.tasks, step.element_id)
        if step.pay:
            _pay_service(world, app.id, step.element_id)
        actor = world.actor_for(task.role)
        if watch is None:
            app = tasks.complete_task(ctx, actor, task.id, step.data)
        else:
            with watch.timed():
                app = tasks.complete_task(ctx, actor, task.id, step.data)
    if steps is None and app.status != "completed":
        raise BenchError(f"{scenario.key} ended {app.status}: {app.error}")
    return app


def _ready_view(views: list[TaskView], element_id: str) -> TaskView:
    for view in views:
        if view.state == "ready" and view.element_id == element_id:
            return view
    raise BenchError(f"step {element_id} is not ready; ready: "
                     f"{[v.element_id for v in views if v.state == 'ready']}")


def _pay_service(world: World, application_id: uuid.UUID, element_id: str) -> None:
    counter = world.actors["front-office"]
    for item in payments.fee_items(world.ctx, counter, application_id):
        if item["element_id"] == element_id and item["status"] == "open":
            payments.record_payment(world.ctx, counter, application_id, item["fee_item"],
                                    item["amount"], new_reference(), "virtual_account")
            return
    raise BenchError(f"no open fee item for {element_id}")


class Transport(Protocol):
    """One JSON call of the API with a bearer token; raises BenchError unless 2xx."""

    def call(self, method: str, path: str, token: str, body: Any = None) -> Any: ...


class FlaskTransport:
    """The Flask test client: HTTP semantics in-process, without a socket."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def call(self, method: str, path: str, token: str, body: Any = None) -> Any:
        response = self._client.open(
            path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code >= 300:
            raise BenchError(f"{method} {path}: {response.status_code} {response.get_data()!r}")
        return response.get_json()


class SocketTransport:
    """A keep-alive HTTP/1.1 connection to a real server."""

    def __init__(self, host: str, port: int) -> None:
        self._conn = http.client.HTTPConnection(host, port, timeout=120)

    def call(self, method: str, path: str, token: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            response = self._send(method, path, payload, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed an idle keep-alive connection (gunicorn: after 2 s);
            # reconnect once, as any HTTP client does.
            self._conn.close()
            response = self._send(method, path, payload, headers)
        data = response.read()
        if response.status >= 300:
            raise BenchError(f"{method} {path}: {response.status} {data[:300]!r}")
        return json.loads(data)

    def _send(self, method: str, path: str, payload: bytes | None,
              headers: dict[str, str]) -> http.client.HTTPResponse:
        self._conn.request(method, path, body=payload, headers=headers)
        return self._conn.getresponse()

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def http_lifecycle(
    http: Transport, world: World, scenario: Scenario, watch: Stopwatch | None = None
) -> dict[str, Any]:
    """The same walk as `service_lifecycle`, through the REST API.

    Paying reads the task's fee item (`GET /tasks/{id}`) and posts the payment, as a
    cashier's client would. Only the `complete` requests are timed into `watch`.
    """
    counter = world.tokens["front-office"]
    app = http.call("POST", f"/api/v1/regions/{REGION}/applications", counter, {
        "process_key": scenario.key, "applicant": scenario.applicant, "data": scenario.data})
    for step in scenario.steps:
        task = _ready_json(app["tasks"], step.element_id)
        token = world.token_for(task["role"])
        if step.pay:
            item = http.call("GET", f"/api/v1/tasks/{task['id']}", token)["fee_item"]
            http.call("POST", f"/api/v1/applications/{app['id']}/payments", counter, {
                "fee_item": item["fee_item"], "amount": item["amount"],
                "reference": new_reference(), "channel": "virtual_account"})
        path, body = f"/api/v1/tasks/{task['id']}/complete", {"data": step.data}
        if watch is None:
            app = http.call("POST", path, token, body)
        else:
            with watch.timed():
                app = http.call("POST", path, token, body)
    if app["status"] != "completed":
        raise BenchError(f"{scenario.key} ended {app['status']}: {app.get('error')}")
    return app


def _ready_json(items: list[dict[str, Any]], element_id: str) -> dict[str, Any]:
    for item in items:
        if item["state"] == "ready" and item["element_id"] == element_id:
            return item
    raise BenchError(f"step {element_id} is not ready over HTTP")
