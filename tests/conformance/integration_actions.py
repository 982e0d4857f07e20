"""Conformance actions for what reaches a process from outside: messages
(`POST /api/v1/messages`) and external workers (`/api/v1/external-tasks/...`).

`retry`: a supervisor retries an application stopped by an error, with `data`.
`message`: `name`, `data`; delivered to the scenario's application by its id (`answer`:
404 when nothing may take it).
`external`: fetch the task of `topic` as one worker, then answer it: `complete` (with
`variables`), `failure` (`message`, `retries`, `retry_timeout`), or `bpmn-error` (`code`,
`variables`).
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.domain.errors import MessageNotCorrelatedError
from engine.services import applications, external_tasks, messages
from engine.services.external_task_terms import TopicRequest
from tests.conformance.runner import Driver, HttpDriver, action

WORKER = "conformance-worker"
LOCK_MS = 60_000


@action("message", via="service")
def message_via_service(driver: Driver, step: dict[str, Any]) -> None:
    actor, _ = driver.actor("integration")
    sent = messages.Message(step["name"], step.get("data", {}), application_id=driver.app_id)
    if step.get("answer", 200) == 404:  # nothing waits for it: refused, nothing changes
        with pytest.raises(MessageNotCorrelatedError):
            messages.correlate_message(driver.ctx, actor, sent)
        return
    driver.status = messages.correlate_message(driver.ctx, actor, sent).status
    driver.acted += 1


@action("message", via="http")
def message_via_http(driver: Driver, step: dict[str, Any]) -> None:
    assert isinstance(driver, HttpDriver)
    body = {"name": step["name"], "data": step.get("data", {}), "application_id": str(driver.app_id)}
    sent = driver.client.post("/api/v1/messages", json=body, headers=driver.headers("integration"))
    assert sent.status_code == step.get("answer", 200), sent.json
    if sent.status_code != 200:
        return
    driver.status = sent.json["status"]
    driver.acted += 1


@action("external", via="service")
def external_via_service(driver: Driver, step: dict[str, Any]) -> None:
    actor, _ = driver.actor("external-worker")
    ctx = driver.ctx
    (task,) = external_tasks.fetch_and_lock(
        ctx, actor, WORKER, [TopicRequest(step["topic"], LOCK_MS)], 1
    )
    answer = step["answer"]
    if answer == "complete":
        external_tasks.complete(ctx, actor, task.id, WORKER, step.get("variables", {}))
    elif answer == "failure":
        external_tasks.fail(
            ctx, actor, task.id, WORKER, step["message"], step["retries"],
            step.get("retry_timeout", 0),
        )
    else:
        external_tasks.bpmn_error(
            ctx, actor, task.id, WORKER, step["code"], step.get("message"),
            step.get("variables", {}),
        )
    driver.acted += 1


@action("external", via="http")
def external_via_http(driver: Driver, step: dict[str, Any]) -> None:
    assert isinstance(driver, HttpDriver)
    headers = driver.headers("external-worker")
    fetched = driver.client.post(
        "/api/v1/external-tasks/fetch-and-lock",
        json={"worker_id": WORKER, "max_tasks": 1, "lock_duration": LOCK_MS,
              "topics": [{"name": step["topic"]}]},
        headers=headers,
    )
    assert fetched.status_code == 200 and len(fetched.json) == 1, fetched.json
    task_id, answer = fetched.json[0]["id"], step["answer"]
    body: dict[str, Any] = {"worker_id": WORKER}
    if answer == "complete":
        body["variables"] = step.get("variables", {})
    elif answer == "failure":
        body |= {k: step[k] for k in ("message", "retries") if k in step}
        body["retry_timeout"] = step.get("retry_timeout", 0)
    else:
        body |= {"code": step["code"], "variables": step.get("variables", {})}
    done = driver.client.post(
        f"/api/v1/external-tasks/{task_id}/{answer}", json=body, headers=headers
    )
    assert done.status_code == 200, done.json
    driver.acted += 1


@action("retry", via="service")
def retry_via_service(driver: Driver, step: dict[str, Any]) -> None:
    """A supervisor runs an application stopped by an error again, giving `data`."""
    actor, _ = driver.actor("supervisor")
    assert driver.app_id is not None
    view = applications.retry_application(
        driver.ctx, actor, driver.app_id, step.get("data", {}), "data dilengkapi"
    )
    driver.status = view.status
    driver.acted += 1


@action("retry", via="http")
def retry_via_http(driver: Driver, step: dict[str, Any]) -> None:
    assert isinstance(driver, HttpDriver)
    done = driver.client.post(
        f"/api/v1/applications/{driver.app_id}/retry",
        json={"data": step.get("data", {}), "reason": "data dilengkapi"},
        headers=driver.headers("supervisor"),
    )
    assert done.status_code == 200, done.json
    driver.status = done.json["status"]
    driver.acted += 1
