"""Scenarios: scripted applications that walk a shipped procedure to its end.

A scenario (`process_models/<region>/<key>/scenarios/*.json`) names the data to enter at
each step and what must hold at the end. Tests run every scenario of every shipped
model, and `permitflow demo` prints them as it runs them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import SYSTEM, Actor
from engine.domain.definitions import APPLICANT_ROLES
from engine.domain.statuses import StepStatus
from engine.domain.views import ApplicationView
from engine.services import applications, tasks, users


@dataclass
class ScenarioResult:
    """What happened: the final application and whether each expectation held."""

    name: str
    application: ApplicationView
    completed_steps: list[str]
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


class _Staff:
    """One user per role in a region, created on first use."""

    def __init__(self, ctx: EngineContext, region: str) -> None:
        self._ctx, self._region, self._by_role = ctx, region, dict[str, Actor]()

    def __call__(self, role: str) -> Actor:
        if role not in self._by_role:
            created = users.add_user(self._ctx, SYSTEM, f"demo {role}", [role], self._region)
            # With the powers its roles hold in the region, as a request would carry it.
            self._by_role[role] = users.authenticate(self._ctx, created.token)
        return self._by_role[role]


def load_scenario(path: Path) -> dict[str, Any]:
    """A scenario file's content."""
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    data.setdefault("name", path.stem)
    return data


def run_scenario(
    ctx: EngineContext,
    region: str,
    key: str,
    scenario: dict[str, Any],
    say: Callable[[str], None] = lambda _line: None,
    pay: Callable[[Actor, ApplicationView, Any], None] | None = None,
) -> ScenarioResult:
    """Start an application and complete each listed step as an officer of its role."""
    staff = _Staff(ctx, region)
    counter = staff("front-office")
    app = applications.start_application(
        ctx, counter, region, key, scenario.get("applicant", {}), scenario.get("data", {})
    )
    say(f"  started {app.process_key}@{app.version} tracking {app.tracking_code}")
    done: list[str] = []
    for step in scenario["steps"]:
        ready = {t.element_id: t for t in app.tasks if t.state == StepStatus.READY}
        task = ready.get(step["task"])
        if task is None:
            return ScenarioResult(
                scenario["name"],
                app,
                done,
                [f"step {step['task']} is not ready; ready: {sorted(ready)}"],
            )
        role = step.get("role", task.role)
        # Applicant steps are done by the counter on the applicant's behalf (DESIGN §2).
        actor = counter if role in APPLICANT_ROLES else staff(role)
        if step.get("pay") and task.fee and pay is not None:
            pay(actor, app, task)
            say(f"  paid Rp {task.fee:,} for {task.element_id}".replace(",", "."))
        app = tasks.complete_task(ctx, actor, task.id, step.get("data", {}))
        done.append(task.element_id)
        say(f"  {task.role:>15} completed {task.element_id} ({task.name}) -> {app.status}")
    # A step answers the ready tasks only; the checks read every task the application had.
    app = applications.get_application(ctx, counter, app.id)
    return ScenarioResult(
        scenario["name"], app, done, _check(scenario.get("expect", {}), app, done)
    )


def _check(expect: dict[str, Any], app: ApplicationView, done: list[str]) -> list[str]:
    failures = []
    if "status" in expect and app.status != expect["status"]:
        failures.append(f"status {app.status!r}, expected {expect['status']!r}")
    if "completed_steps" in expect and done != expect["completed_steps"]:
        failures.append(f"completed {done}, expected {expect['completed_steps']}")
    if "total_fees" in expect:
        fees = sum(t.fee for t in app.tasks if t.state == StepStatus.COMPLETED)
        if fees != expect["total_fees"]:
            failures.append(f"fees Rp {fees}, expected Rp {expect['total_fees']}")
    return failures
