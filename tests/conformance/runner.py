"""The conformance scenario runner: one small model per BPMN construct, driven to its end.

A scenario is a JSON file in `scenarios/`: the model it runs (`models/<model>.bpmn`, with
the forms of `forms/`), the data to start with, a list of actions, and what must hold at
the end (the elements completed, in order; the process data; the status). Each scenario
runs through the service layer and over HTTP (`ServiceDriver`, `HttpDriver`).

Between two actions the application exists only as the database holds it, so every
action restores the workflow from its stored state (the runner counts the restores) and,
after every action, the runner checks the stored state itself: it restores, serializes
back to the same document, and its ready steps are the task rows the engine keeps.

Actions are registered by name (`@action("complete")`); an action that works through the
driver's interface serves both drivers, or register one per driver with `via=`.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from SpiffWorkflow.util.task import TaskState

from engine.context import EngineContext
from engine.domain.actors import SYSTEM, Actor
from engine.domain.definitions import ModelPackage
from engine.services import applications, messages, models, regions, tasks, users
from engine.services.calls import load_bound
from engine.services.worker import run_pass
from engine.workflow.serialization import WorkflowCodec
from engine.workflow.spiff_compat import all_tasks
from tests.factories import Clock

HERE = Path(__file__).resolve().parent
MODELS, FORMS, SCENARIOS = HERE / "models", HERE / "forms", HERE / "scenarios"
REGION = "3273"
WIB = timezone(timedelta(hours=7))
# Scenarios start on a Monday morning inside office hours.
START = datetime(2026, 3, 2, 10, 0, tzinfo=WIB)
COUNTER = "front-office"  # starts applications and does the applicant's own steps


@dataclass(frozen=True)
class Scenario:
    """One scenario file."""

    name: str
    model: str
    actions: list[dict[str, Any]]
    expect: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    xfail: str | None = None  # why it fails today: the defect and the branch fixing it
    # Models the scenario's model calls, uploaded first in this order (call activities):
    # two files with the same process id become versions 1 and 2 of that key.
    calls: list[str] = field(default_factory=list)
    # The name of the message that starts the application (a message start event), sent by
    # an integration account with `data`, instead of starting it at the counter.
    start_message: str | None = None

    @property
    def key(self) -> str:
        """The process id (model key) of the scenario's model."""
        return process_key(MODELS / f"{self.model}.bpmn")


def load_scenarios() -> list[Scenario]:
    """Every scenario in `scenarios/`, by file name."""
    return [
        Scenario(name=path.stem, **json.loads(path.read_text("utf-8")))
        for path in sorted(SCENARIOS.glob("*.json"))
    ]


def process_key(model: Path) -> str:
    """The id of the executable process of a model file."""
    from lxml import etree

    root = etree.parse(str(model), etree.XMLParser(resolve_entities=False)).getroot()
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    [process] = root.xpath("//bpmn:process[@isExecutable='true']", namespaces=ns)
    return str(process.get("id"))


def model_forms(model: Path) -> dict[str, bytes]:
    """The forms of `forms/` that the model names (a package carries only its own)."""
    text = model.read_text("utf-8")
    return {p.name: p.read_bytes() for p in FORMS.glob("*.json") if f'"{p.name}"' in text}


# --- actions -----------------------------------------------------------------------------

ActionFn = Callable[["Driver", dict[str, Any]], None]
ACTIONS: dict[tuple[str, str], ActionFn] = {}


def action(name: str, via: str = "any") -> Callable[[ActionFn], ActionFn]:
    """Register an action; `via` is "service", "http" or "any" (both drivers)."""

    def register(fn: ActionFn) -> ActionFn:
        ACTIONS[(name, via)] = fn
        return fn

    return register


def perform(driver: Driver, step: dict[str, Any]) -> None:
    """Run one action of a scenario with `driver`."""
    name = step["do"]
    fn = ACTIONS.get((name, driver.via)) or ACTIONS.get((name, "any"))
    if fn is None:
        raise AssertionError(f"unknown action {name!r}; known: {sorted({n for n, _ in ACTIONS})}")
    fn(driver, step)


@action("complete")
def complete(driver: Driver, step: dict[str, Any]) -> None:
    """Complete the ready task of element `task` with `data`, as an officer of its role.

    Several ready instances (multi-instance): `input` picks the one working on that
    element (`{"item": 3}`), else `pick` ("first", "last") in the order they became ready.
    """
    ready = [t for t in driver.tasks() if t["state"] == "ready" and t["element_id"] == step["task"]]
    if "input" in step:
        ready = [t for t in ready if t.get("input") == step["input"]]
    assert ready, f"no ready task {step['task']} {step.get('input', '')}; tasks: {driver.tasks()}"
    task = ready[-1] if step.get("pick") == "last" else ready[0]
    driver.complete(task, step.get("data", {}))
    driver.acted += 1


@action("advance")
def advance(driver: Driver, step: dict[str, Any]) -> None:
    """Move the engine's clock on (`days`, `hours`, `minutes`) and run one worker pass."""
    delta = {k: step[k] for k in ("days", "hours", "minutes") if k in step}
    driver.clock.advance(**delta)
    fired = run_pass(driver.ctx, driver.clock.now).timers_fired
    driver.acted += fired
    if "fired" in step:
        assert fired == step["fired"], f"{fired} timers fired, expected {step['fired']}"


@action("expect")
def expect_now(driver: Driver, step: dict[str, Any]) -> None:
    """Check the application between actions: `ready` element ids, `status`, `path`."""
    check(driver, step)


# --- drivers -----------------------------------------------------------------------------


class Driver:
    """Runs a scenario's application; `via` names the door ("service" or "http")."""

    via = "any"

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx, self.clock = ctx, Clock(START)
        ctx.clock = self.clock
        self.app_id: uuid.UUID | None = None
        self.status = ""
        self.restores = 0  # workflows restored from their stored state
        self.acted = 0  # actions that ran the workflow (each must restore it first)
        self._count_restores()

    def _count_restores(self) -> None:
        runtime = self.ctx.runtime
        restore = runtime.restore

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.restores += 1
            return restore(*args, **kwargs)

        runtime.restore = counted  # type: ignore[method-assign]

    def setup(self, scenario: Scenario) -> None:
        """Region, the model (uploaded as an analyst would), and the application started."""
        raise NotImplementedError

    def tasks(self) -> list[dict[str, Any]]:
        """The application's tasks, as the API lists them (JSON-shaped)."""
        raise NotImplementedError

    def complete(self, task: dict[str, Any], data: dict[str, Any]) -> None:
        raise NotImplementedError

    def actor(self, role: str) -> tuple[Actor, str]:
        """A user holding `role` in the region (made once), and its token."""
        if role not in self._people:
            created = users.add_user(self.ctx, SYSTEM, f"petugas {role}", [role], REGION)
            self._people[role] = (users.authenticate(self.ctx, created.token), created.token)
        return self._people[role]

    _people: dict[str, tuple[Actor, str]]


class ServiceDriver(Driver):
    """Calls the engine's services, as the API's views do."""

    via = "service"

    def setup(self, scenario: Scenario) -> None:
        self._people = {}
        regions.create_region(self.ctx, SYSTEM, REGION, "Kota Bandung", "Asia/Jakarta")
        model = MODELS / f"{scenario.model}.bpmn"
        package = ModelPackage(bpmn=model.read_bytes(), forms=model_forms(model))
        analyst, _ = self.actor("analyst")
        for called in scenario.calls:
            path = MODELS / f"{called}.bpmn"
            called_package = ModelPackage(bpmn=path.read_bytes(), forms=model_forms(path))
            models.upload_model(self.ctx, analyst, REGION, called_package)
        models.upload_model(self.ctx, analyst, REGION, package)
        if scenario.start_message is not None:
            sender, _ = self.actor("integration")
            sent = messages.Message(scenario.start_message, scenario.data)
            view = messages.correlate_message(self.ctx, sender, sent)
        else:
            counter, _ = self.actor(COUNTER)
            view = applications.start_application(
                self.ctx, counter, REGION, scenario.key, {"name": "Siti Aminah"}, scenario.data
            )
        self.app_id, self.status = view.id, view.status

    def tasks(self) -> list[dict[str, Any]]:
        assert self.app_id is not None
        view = applications.get_application(self.ctx, SYSTEM, self.app_id)
        self.status = view.status
        return [
            {"id": t.id, "element_id": t.element_id, "state": t.state, "role": t.role,
             "input": t.input}
            for t in view.tasks
        ]

    def complete(self, task: dict[str, Any], data: dict[str, Any]) -> None:
        actor, _ = self.actor(_worker_role(task["role"]))
        self.status = tasks.complete_task(self.ctx, actor, task["id"], data).status


class HttpDriver(Driver):
    """Speaks HTTP to the Flask app whose engine context is `ctx`."""

    via = "http"

    def __init__(self, ctx: EngineContext, client: Any) -> None:
        super().__init__(ctx)
        self.client = client

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.actor(role)[1]}"}

    def setup(self, scenario: Scenario) -> None:
        self._people = {}
        admin = users.add_user(self.ctx, SYSTEM, "admin", ["admin"], None).token
        made = self.client.post(
            "/api/v1/regions", json={"code": REGION, "name": "Kota Bandung"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert made.status_code == 201, made.json
        for name in [*scenario.calls, scenario.model]:
            model = MODELS / f"{name}.bpmn"
            body = {
                "bpmn": (io.BytesIO(model.read_bytes()), model.name),
                "forms": [(io.BytesIO(b), n) for n, b in model_forms(model).items()],
            }
            uploaded = self.client.post(
                f"/api/v1/regions/{REGION}/process-models", data=body,
                headers=self.headers("analyst"), content_type="multipart/form-data",
            )
            assert uploaded.status_code == 201, uploaded.json
        if scenario.start_message is not None:
            started = self.client.post(
                "/api/v1/messages", headers=self.headers("integration"),
                json={"name": scenario.start_message, "data": scenario.data},
            )
            assert started.status_code == 200, started.json
        else:
            started = self.client.post(
                f"/api/v1/regions/{REGION}/applications", headers=self.headers(COUNTER),
                json={"process_key": scenario.key, "applicant": {"name": "Siti Aminah"},
                      "data": scenario.data},
            )
            assert started.status_code == 201, started.json
        self.app_id, self.status = uuid.UUID(started.json["id"]), started.json["status"]

    def tasks(self) -> list[dict[str, Any]]:
        got = self.client.get(f"/api/v1/applications/{self.app_id}", headers=self.headers(COUNTER))
        assert got.status_code == 200, got.json
        self.status = got.json["status"]
        return list(got.json["tasks"])

    def complete(self, task: dict[str, Any], data: dict[str, Any]) -> None:
        done = self.client.post(
            f"/api/v1/tasks/{task['id']}/complete",
            headers=self.headers(_worker_role(task["role"])), json={"data": data},
        )
        assert done.status_code == 200, done.json
        self.status = done.json["status"]


def _worker_role(role: str) -> str:
    # The applicant's own steps are completed at the counter on the applicant's behalf.
    return COUNTER if role in ("applicant", "pemohon") else role


# --- the stored state, and the checks ----------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """What the database holds for the application, read back through a fresh serializer."""

    status: str
    error: dict[str, Any] | None
    path: list[str]  # element ids completed, in the order they completed
    data: dict[str, Any]
    ready: list[str]  # element ids of ready human steps, per the restored workflow


def stored(driver: Driver) -> Stored:
    """Read the application's saved state, restore it, and check that the round trip is exact:
    serialized again it is the same document, and its ready steps are the task rows."""
    ctx, codec = driver.ctx, WorkflowCodec()
    with ctx.uow() as uow:
        record = uow.repos.applications.get(driver.app_id, for_update=True)
        assert record is not None
        state, status, error = record.state, record.status, record.error
        _, loaded = load_bound(ctx, uow, record.model_version_id, record.called_versions)
        rows = uow.repos.tasks.for_application(record.id)
        ready_rows = sorted(str(t.id) for t in rows if t.state == "ready")
    workflow = codec.state_from_dict(state, loaded.spec, loaded.subprocess_specs)
    assert codec.state_to_dict(workflow) == state, "the stored state does not round-trip"
    every = list({t.id: t for t in all_tasks(workflow)}.values())  # each task once
    ready = [t for t in every if t.state == TaskState.READY and t.task_spec.manual]
    if status == "running":
        assert sorted(str(t.id) for t in ready) == ready_rows, "task rows and state disagree"
    done = sorted(
        (t for t in every if t.state == TaskState.COMPLETED and t.task_spec.bpmn_id),
        key=lambda t: t.last_state_change,
    )
    data = dict(workflow.data) if workflow.is_completed() else (done[-1].data if done else {})
    return Stored(
        status, error, [t.task_spec.bpmn_id for t in done], data,
        sorted(t.task_spec.bpmn_id for t in ready),
    )


def check(driver: Driver, expect: dict[str, Any]) -> None:
    """Assert what `expect` names: `status`, `path` (exact), `sequence` (in this order, others
    between), `absent`, `ready`, `tasks` (the states of an element's task rows), `roles` (the
    role of an element's task rows: a called model's lane), `error` (keys
    of the application's error), `data` (the named keys; null: not in the data)."""
    listed = driver.tasks()  # and the status, as the driver's door reports it
    now = stored(driver)
    if "status" in expect:
        assert (driver.status, now.status) == (expect["status"],) * 2, (now, driver.status)
    if "path" in expect:
        assert matches(now.path, expect["path"]), f"path {now.path}, expected {expect['path']}"
    if "sequence" in expect:
        assert in_order(now.path, expect["sequence"]), f"path {now.path} lacks {expect['sequence']}"
    if "absent" in expect:
        taken = set(now.path) & set(expect["absent"])
        assert not taken, f"{sorted(taken)} completed; path {now.path}"
    if "ready" in expect:
        assert now.ready == sorted(expect["ready"]), f"ready {now.ready}"
    for element_id, role in expect.get("roles", {}).items():
        got_roles = {t["role"] for t in listed if t["element_id"] == element_id}
        assert got_roles == {role}, f"roles of {element_id}: {got_roles}, expected {role}"
    for element_id, states in expect.get("tasks", {}).items():
        got = sorted(t["state"] for t in listed if t["element_id"] == element_id)
        assert got == sorted(states), f"tasks of {element_id}: {got}, expected {states}"
    for name, value in expect.get("error", {}).items():
        assert (now.error or {}).get(name) == value, f"error {now.error}, expected {name}={value!r}"
    for name, value in expect.get("data", {}).items():
        assert now.data.get(name) == value, f"data {name}={now.data.get(name)!r}, not {value!r}"


def matches(path: list[str], expected: list[Any]) -> bool:
    """`path` equals `expected`, where a nested list in `expected` matches its items in any
    order (the branches of a parallel split)."""
    position = 0
    for item in expected:
        group = item if isinstance(item, list) else [item]
        if sorted(path[position : position + len(group)]) != sorted(group):
            return False
        position += len(group)
    return position == len(path)


def in_order(path: list[str], wanted: list[str]) -> bool:
    """Every id of `wanted` completed, in that order (others may come between)."""
    rest = iter(path)
    return all(any(done == w for done in rest) for w in wanted)


def run(driver: Driver, scenario: Scenario) -> None:
    """Drive `scenario` with `driver` and check it; the state round-trips at every step."""
    driver.setup(scenario)
    stored(driver)
    for step in scenario.actions:
        restores, acted = driver.restores, driver.acted
        perform(driver, step)
        if driver.acted > acted:
            assert driver.restores >= restores + driver.acted - acted, (
                f"{step}: the workflow was not restored from the database")
        stored(driver)
    check(driver, {"status": "completed", **scenario.expect})


# Actions for messages and external workers register themselves on import (issue #10).
from tests.conformance import integration_actions  # noqa: E402, F401
