"""Database failover under load (issue #17 item 6, "Must show").

A primary and a synchronous standby made by initdb on loopback (tests/ops/pg_cluster.py).
Clients (threads, each its own HTTP client of one app built on the multi-host URL) start
applications and complete steps, each action with an `Idempotency-Key` and retried with the
same key on `503`, as a well-behaved client does. The primary is killed with SIGKILL, the
standby promoted, the load goes on with the same app. Then, on the new primary: every
acknowledged action is there, none is doubled, the audit chain verifies, and the clients
got going again by themselves (only `503`s in between, counted).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from api import create_app
from api.commands.worker import run_forever
from api.wiring import build_context
from engine.persistence.database import Timeouts, make_engine
from engine.persistence.schema import upgrade
from engine.services.audit import verify_audit
from tests.factories import make_region, make_user, tiny_bpmn, upload
from tests.ops import pg_cluster
from tests.ops.scenario import APPLICANT

THREADS = 4
BEFORE, AFTER = 150, 150  # acknowledged actions before the crash, and after the promotion
LOST_STANDBY = 50  # acknowledged actions after one standby of two was killed
ACTION_BOUND = 90.0  # seconds one action may keep retrying before the test fails
START = "/api/v1/regions/3273/applications"


@pytest.fixture
def pair(request: pytest.FixtureRequest) -> Iterator[pg_cluster.Pair]:
    """A primary and its synchronous standbys (one, or `request.param` as ANY 1 of them)."""
    reason = pg_cluster.unavailable_reason()
    if reason:
        pytest.skip(reason)
    made = pg_cluster.Pair(standbys=getattr(request, "param", 1))
    try:
        made.start()
        upgrade(made.url(made.primary_port))
        yield made
    finally:
        made.stop()


@dataclass
class Tally:
    """What the clients saw; shared by the threads under one lock."""

    statuses: Counter[int] = field(default_factory=Counter)
    started: dict[str, str] = field(default_factory=dict)  # client ref -> application id
    started_unanswered: set[str] = field(default_factory=set)  # made, answer lost (409)
    completed: set[str] = field(default_factory=set)  # task ids
    completed_unanswered: set[str] = field(default_factory=set)
    acked: int = 0
    first_503: float | None = None
    first_ok_after_promotion: float | None = None
    promoted: bool = False
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client(threading.Thread):
    def __init__(self, app: Flask, headers: dict[str, str], tally: Tally,
                 stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.http: FlaskClient = app.test_client()
        self.headers, self.tally, self.stop = headers, tally, stop
        self.next_task: dict[str, str] = {}  # application id -> its ready task

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.start_one()
                if self.next_task:
                    self.complete_one()
        except Exception as exc:  # reported by the test
            self.tally.errors.append(f"{type(exc).__name__}: {exc}")

    def start_one(self) -> None:
        ref = uuid.uuid4().hex
        body = {"process_key": "tiny", "applicant": {**APPLICANT, "client_ref": ref}, "data": {}}
        answer = self.act(START, body)
        with self.tally.lock:
            if answer is None:
                self.tally.started_unanswered.add(ref)
                return
            self.tally.started[ref] = answer["id"]
        self.remember(answer)

    def complete_one(self) -> None:
        app_id, task_id = next(iter(self.next_task.items()))
        del self.next_task[app_id]
        answer = self.act(f"/api/v1/tasks/{task_id}/complete", {"data": {}})
        with self.tally.lock:
            (self.tally.completed if answer else self.tally.completed_unanswered).add(task_id)
        if answer:
            self.remember(answer)

    def remember(self, application: dict[str, Any]) -> None:
        ready = [t["id"] for t in application["tasks"] if t["state"] == "ready"]
        if ready:
            self.next_task[application["id"]] = ready[0]

    def act(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """POST until the answer is final; the application, or None when the change was
        made but its answer lost (409 on the key). Raises on anything unexpected."""
        headers = {**self.headers, "Idempotency-Key": uuid.uuid4().hex}
        deadline = time.monotonic() + ACTION_BOUND
        while True:
            response = self.http.post(path, json=body, headers=headers)
            now = time.monotonic()
            with self.tally.lock:
                self.tally.statuses[response.status_code] += 1
                if response.status_code == 503 and self.tally.first_503 is None:
                    self.tally.first_503 = now
            if response.status_code in (200, 201):
                with self.tally.lock:
                    self.tally.acked += 1
                    if self.tally.promoted and self.tally.first_ok_after_promotion is None:
                        self.tally.first_ok_after_promotion = now
                result: dict[str, Any] = response.get_json()
                return result
            problem = response.get_json() or {}
            if response.status_code == 409 and "Idempotency-Key" in problem.get("detail", ""):
                return None  # the first attempt committed; its stored answer was lost
            if response.status_code != 503 or now > deadline:
                raise AssertionError(f"{path}: {response.status_code} {problem}")
            assert response.headers.get("Retry-After") == "5"
            time.sleep(0.05)


class Failures(logging.Handler):
    """Counts the worker's failed passes (it logs each and goes on)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += record.getMessage() == "worker pass failed"


def _beats_since(pair: pg_cluster.Pair, port: int, moment: Any) -> int:
    found = pair.scalar(port,
                        "SELECT count(*) FROM worker_heartbeats WHERE beat_at > :t", t=moment)
    return int(found or 0)


def _wait(predicate: Any, what: str, tally: Tally, bound: float = 120.0) -> None:
    deadline = time.monotonic() + bound
    while not predicate():
        assert not tally.errors, tally.errors
        assert time.monotonic() < deadline, f"waited {bound} s for {what}: {tally.statuses}"
        time.sleep(0.02)


def test_tearing_down_never_kills_a_process_that_is_not_the_clusters() -> None:
    # A stale postmaster.pid (the killed primary's) may name a pid the system gave to
    # another process since: stop() must leave it alone and still remove the directory.
    made = pg_cluster.Pair()
    made.primary.mkdir()
    if os.geteuid() == 0:
        os.chown(made.primary, 0, 0)
    (made.primary / "postmaster.pid").write_text(f"{os.getpid()}\n{made.primary}\n")
    made.stop()  # would SIGKILL this very test process if it trusted the file
    assert not made.root.exists()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("pair", [1, 2], indirect=True, ids=["one-standby", "any-1-of-2"])
def test_a_primary_killed_under_load_loses_and_doubles_nothing(
    pair: pg_cluster.Pair, record_property: Any
) -> None:
    # With two standbys (`ANY 1 (standby1, standby2)`, the README's set-up) standby1 is
    # killed first: writes go on, not one 503; then the primary, and standby2 is promoted.
    new_primary = len(pair.standbys) - 1
    app = create_app({
        "DATABASE_URL": pair.host_list_url(), "TESTING": True,
        "DB_CONNECT_TIMEOUT": 2, "DB_STATEMENT_TIMEOUT": 10, "DB_LOCK_TIMEOUT": 5,
    })
    ctx = app.extensions["permitflow"]
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(steps=3))
    _, token = make_user(ctx, "front-office", region="3273")
    tally, stop = Tally(), threading.Event()
    clients = [Client(app, {"Authorization": f"Bearer {token}"}, tally, stop)
               for _ in range(THREADS)]
    # A worker as `permitflow worker` runs it: its own pool, a pass every 0.2 s.
    worker_ctx = build_context(pair.host_list_url(), timeouts=Timeouts(2, 10, 5))
    worker = threading.Thread(target=run_forever, args=(worker_ctx, 0.2, stop), daemon=True)
    failures = Failures()
    logging.getLogger("permitflow.worker").addHandler(failures)
    try:
        for thread in (*clients, worker):
            thread.start()
        _wait(lambda: tally.acked >= BEFORE, "the load to get going", tally)
        if new_primary:
            pair.crash_standby(0)
            _wait(lambda: tally.acked >= BEFORE + LOST_STANDBY, "writes without standby1", tally)
            assert tally.statuses[503] == 0, "a lost standby of two stopped writes"
        crashed_at = time.monotonic()
        pair.crash_primary()
        _wait(lambda: tally.first_503 is not None, "a client to see the crash", tally)
        pair.promote_standby(new_primary)
        promoted_at = ctx.clock()
        with tally.lock:
            tally.promoted, at_promotion = True, tally.acked
        _wait(lambda: tally.acked >= at_promotion + AFTER, "the load to recover", tally)
        # The worker got going again by itself, and the API process reports itself ready.
        _wait(lambda: _beats_since(pair, pair.standby_ports[new_primary], promoted_at) > 0,
              "a worker pass", tally)
        ready = app.test_client().get("/readyz")
        assert ready.status_code == 200, ready.get_json()
    finally:
        stop.set()
        for thread in (*clients, worker):
            thread.join(ACTION_BOUND + 30)
        logging.getLogger("permitflow.worker").removeHandler(failures)
        ctx.session_factory.kw["bind"].dispose()
        worker_ctx.session_factory.kw["bind"].dispose()
    assert not any(t.is_alive() for t in (*clients, worker))
    assert not tally.errors, tally.errors
    assert set(tally.statuses) <= {200, 201, 409, 503}, tally.statuses
    unanswered = tally.started_unanswered | tally.completed_unanswered
    assert tally.statuses[409] == len(unanswered)

    promoted = pair.url(pair.standby_ports[new_primary])
    engine = make_engine(promoted, poolclass=NullPool)
    with engine.connect() as conn:
        apps = conn.execute(text("SELECT id, applicant FROM applications")).all()
        states = dict(conn.execute(text("SELECT id, state FROM tasks")).all())
        completions = Counter(conn.execute(text(
            "SELECT subject FROM events WHERE action = 'task.completed'")).scalars())
    engine.dispose()

    refs = Counter(applicant["client_ref"] for _, applicant in apps)
    assert max(refs.values()) == 1, "an application was started twice"
    by_ref = {applicant["client_ref"]: str(app_id) for app_id, applicant in apps}
    assert {r: by_ref.get(r) for r in tally.started} == tally.started  # every acknowledged one
    assert set(refs) == set(tally.started) | tally.started_unanswered  # and nothing else
    states = {str(k): v for k, v in states.items()}
    assert all(states[t] == "completed" for t in tally.completed | tally.completed_unanswered)
    assert max(completions.values()) == 1, "a step was completed twice"
    assert len(completions) == len(tally.completed | tally.completed_unanswered)

    checked = build_context(promoted)
    try:
        assert verify_audit(checked) == []
    finally:
        checked.session_factory.kw["bind"].dispose()

    assert tally.first_ok_after_promotion is not None and tally.first_503 is not None
    outage = tally.first_ok_after_promotion - crashed_at
    figures = {
        "standbys": len(pair.standbys),
        "acknowledged": tally.acked,
        "answers_503": tally.statuses[503],
        "answer_lost_409": len(unanswered),
        "worker_passes_failed": failures.count,
        "seconds_from_crash_to_first_success": round(outage, 2),
    }
    for name, value in figures.items():
        record_property(name, value)
    print(f"failover: {figures}")


@pytest.mark.slow
@pytest.mark.postgres
def test_a_lost_synchronous_standby_costs_a_write_the_statement_timeout_and_acks_nothing(
    pair: pg_cluster.Pair,
) -> None:
    # statement_timeout does not cover a commit's wait for the synchronous standby, and a
    # cancelled wait "succeeds" with a WARNING: without the commit guard this request
    # hangs until the standby returns, or (cancelled) answers 201 for an unreplicated change.
    ctx, http, token = _guarded_app(pair)
    try:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "lost-standby-1"}
        body = {"process_key": "tiny", "applicant": dict(APPLICANT), "data": {}}
        pair.stop_standby()

        answer = _answer_within_a_minute(lambda: http.post(START, json=body, headers=headers))
        assert answer is not None, "the write hung on the lost synchronous standby"
        assert answer.status_code == 503, answer.get_json()
        assert answer.headers["Retry-After"] == "5"
        assert "synchronous standby did not confirm" in answer.get_json()["detail"]
        # Reads do not wait for the standby.
        listed = http.get("/api/v1/applications", headers={"Authorization": headers["Authorization"]})
        assert listed.status_code == 200 and listed.get_json()["total"] == 1

        pair.start_standby()
        again = http.post(START, json=body, headers=headers)
        assert again.status_code == 409, again.get_json()  # made once: read the resource
        assert "Idempotency-Key" in again.get_json()["detail"]
        listed = http.get("/api/v1/applications", headers={"Authorization": headers["Authorization"]})
        assert listed.get_json()["total"] == 1
        # Once the standby is back, writes are acknowledged again.
        fresh = {**headers, "Idempotency-Key": "lost-standby-2"}
        assert http.post(START, json=body, headers=fresh).status_code == 201
    finally:
        ctx.session_factory.kw["bind"].dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_a_step_whose_commit_travels_with_its_write_is_guarded_too(
    pair: pg_cluster.Pair,
) -> None:
    # Without an Idempotency-Key a plain step's COMMIT is sent with its write, in one round
    # trip (engine/persistence/pg_trips.py), not through the dialect's commit: the guard must
    # bound that commit's wait for the standby and refuse it unreplicated all the same.
    ctx, http, token = _guarded_app(pair)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        body = {"process_key": "tiny", "applicant": dict(APPLICANT), "data": {}}
        started = http.post(START, json=body, headers=headers)
        assert started.status_code == 201, started.get_json()
        task = started.get_json()["tasks"][0]["id"]
        pair.stop_standby()

        answer = _answer_within_a_minute(lambda: http.post(
            f"/api/v1/tasks/{task}/complete", json={"data": {}}, headers=headers))
        assert answer is not None, "the step hung on the lost synchronous standby"
        assert answer.status_code == 503, answer.get_json()
        assert "synchronous standby did not confirm" in answer.get_json()["detail"]
    finally:
        pair.start_standby()
        ctx.session_factory.kw["bind"].dispose()


def _guarded_app(pair: pg_cluster.Pair) -> tuple[Any, Any, str]:
    """An app on the pair with every database timeout at 1-2 s (the commit guard armed), a
    region with a two-step model, and a front-office officer's token."""
    app = create_app({
        "DATABASE_URL": pair.host_list_url(), "TESTING": True,
        "DB_CONNECT_TIMEOUT": 2, "DB_STATEMENT_TIMEOUT": 1, "DB_LOCK_TIMEOUT": 1,
    })
    ctx = app.extensions["permitflow"]
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(steps=2))
    _, token = make_user(ctx, "front-office", region="3273")
    return ctx, app.test_client(), token


def _answer_within_a_minute(send: Any) -> Any:
    """`send()`'s answer, from a thread given a minute (a bound on a hang, far from the 1 s
    the guard takes); None when it did not answer."""
    answers: list[Any] = []
    request = threading.Thread(target=lambda: answers.append(send()), daemon=True)
    request.start()
    request.join(60)
    return answers[0] if answers else None
