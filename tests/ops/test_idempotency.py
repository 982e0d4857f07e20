"""Idempotency-Key on writes (issue #17 item 3): a retried start makes one application."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import idempotency as api_idempotency
from engine.context import EngineContext
from engine.services import applications, idempotency, ops
from tests.factories import Clock, make_region, make_user, tiny_bpmn, upload
from tests.ops.scenario import APPLICANT, start_body, world

START = "/api/v1/regions/3273/applications"


def _count(client: FlaskClient, headers: dict[str, str]) -> int:
    total: int = client.get("/api/v1/applications", headers=headers).get_json()["total"]
    return total


def test_a_retried_start_returns_the_first_answer_and_makes_one_application(
    app: Flask, client: FlaskClient
) -> None:
    w = world(app)
    headers = {**w.officer, "Idempotency-Key": "start-0001"}
    first = client.post(START, json=start_body(), headers=headers)
    again = client.post(START, json=start_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(client, w.officer) == 1
    # Without the key (or with another) a start is a new application.
    assert client.post(START, json=start_body(), headers=w.officer).status_code == 201
    other = {**w.officer, "Idempotency-Key": "start-0002"}
    assert client.post(START, json=start_body(), headers=other).status_code == 201
    assert _count(client, w.officer) == 3


def test_the_same_key_with_another_body_is_422(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    headers = {**w.officer, "Idempotency-Key": "k-1"}
    assert client.post(START, json=start_body(), headers=headers).status_code == 201
    changed = {**start_body(), "applicant": {"name": "Budi"}}
    refused = client.post(START, json=changed, headers=headers)
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert refused.get_json()["errors"][0]["field"] == "Idempotency-Key"
    # The same data in another key order is the same request.
    reordered = {"data": {}, "applicant": dict(APPLICANT), "process_key": "tiny"}
    assert client.post(START, json=reordered, headers=headers).status_code == 201
    assert _count(client, w.officer) == 1


def test_keys_belong_to_their_caller(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    _, token = make_user(app.extensions["permitflow"], "front-office", region="3273")
    for auth in (w.officer, {"Authorization": f"Bearer {token}"}):
        answer = client.post(START, json=start_body(), headers={**auth, "Idempotency-Key": "x"})
        assert answer.status_code == 201 and "Idempotent-Replayed" not in answer.headers
    assert _count(client, w.officer) == 2


def test_a_retried_completion_is_not_a_409(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    task = client.post(START, json=start_body(), headers=w.officer).get_json()["tasks"][0]["id"]
    headers = {**w.officer, "Idempotency-Key": "complete-1"}
    first = client.post(f"/api/v1/tasks/{task}/complete", json={"data": {}}, headers=headers)
    again = client.post(f"/api/v1/tasks/{task}/complete", json={"data": {}}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    plain = client.post(f"/api/v1/tasks/{task}/complete", json={"data": {}}, headers=w.officer)
    assert plain.status_code == 409  # without the key, a second completion is refused


def test_a_refused_request_claims_nothing(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    headers = {**w.officer, "Idempotency-Key": "k-2"}
    bad = {**start_body(), "process_key": "absent"}
    assert client.post(START, json=bad, headers=headers).status_code == 404
    assert client.post(START, json=bad, headers=headers).status_code == 404
    for key in ("", "x" * 256, "spasi di dalam"):
        answer = client.post(
            START, json=start_body(), headers={**w.officer, "Idempotency-Key": key}
        )
        assert answer.status_code == 422, key
    assert _count(client, w.officer) == 0


def test_two_racing_starts_with_one_key_make_one_application(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world(app)
    both_looked = threading.Barrier(2, timeout=30)
    real_begin = idempotency.begin

    calls: list[object] = []

    def begin_then_wait(*args: object) -> object:
        found = real_begin(*args)  # type: ignore[arg-type]
        calls.append(found)
        if len(calls) <= 2:  # the two first looks: neither has committed, both run the start
            both_looked.wait()
        return found

    monkeypatch.setattr(api_idempotency.idempotency, "begin", begin_then_wait)
    answers: list[tuple[int, bytes]] = []

    def start() -> None:
        with app.test_client() as c:
            r = c.post(START, json=start_body(), headers={**w.officer, "Idempotency-Key": "race"})
            answers.append((r.status_code, r.get_data()))

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [type(c).__name__ for c in calls[:2]] == ["Claim", "Claim"]
    assert [a[0] for a in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert _count(app.test_client(), w.officer) == 1


def test_service_layer_claim_commits_with_the_change(ctx: EngineContext) -> None:
    clock = Clock(datetime(2026, 12, 7, 3, 0, tzinfo=UTC))
    ctx.clock = clock
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn())
    actor, _ = make_user(ctx, "front-office", region="3273")
    print_ = idempotency.fingerprint("POST", START, b"{}")

    def start_with_key() -> None:
        claim = idempotency.begin(ctx, "user:1", "svc-key", print_)
        assert isinstance(claim, idempotency.Claim)
        with idempotency.guarded(claim):
            applications.start_application(ctx, actor, "3273", "tiny", dict(APPLICANT), {})

    start_with_key()
    # A second claim taken before the first was visible: its start rolls back entirely.
    stale = idempotency.Claim("user:1", "svc-key", print_, clock(), clock())
    with pytest.raises(idempotency.DuplicateClaimError), idempotency.guarded(stale):
        applications.start_application(ctx, actor, "3273", "tiny", dict(APPLICANT), {})
    assert applications.list_applications(ctx, actor, limit=10, offset=0).total == 1
    # In progress until its answer is stored; then replayed; forgotten after 24 h.
    with pytest.raises(idempotency.RequestInProgressError):
        idempotency.begin(ctx, "user:1", "svc-key", print_)
    clock.advance(hours=25)
    ops.record_heartbeat(ctx, 0)
    assert isinstance(idempotency.begin(ctx, "user:1", "svc-key", print_), idempotency.Claim)


def test_an_answer_that_cannot_be_stored_is_still_given_and_a_retry_is_409(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The database went away between the change's commit and storing its answer (found by
    # tests/ops/test_failover.py: a primary killed under load). The change is made: the
    # client gets its 201, not a 500; the retry learns the change was made (409).
    from engine.domain.errors import StorageUnavailableError

    w = world(app)
    headers = {**w.officer, "Idempotency-Key": "lost-answer-1"}

    def database_gone(*_args: object) -> None:
        raise StorageUnavailableError("the database is unreachable: server closed the connection")

    monkeypatch.setattr(idempotency, "store", database_gone)
    first = client.post(START, json=start_body(), headers=headers)
    assert first.status_code == 201, first.get_json()
    monkeypatch.undo()
    again = client.post(START, json=start_body(), headers=headers)
    assert again.status_code == 409 and "Idempotency-Key" in again.get_json()["detail"]
    assert _count(client, w.officer) == 1
