"""Constructs other tools draw, driven to their end through the service layer (issue #10).

Each model in tests/fixtures/bpmn/runtime/ is a Camunda Modeler file (with DI). The
service persists the workflow state on every call, so each step below also round-trips
the state through the serializer and the database.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.context import EngineContext
from engine.services import applications, tasks, worker
from tests.factories import FIXTURES, Clock, make_region, make_user, upload

MODELS = FIXTURES / "bpmn" / "runtime"


@pytest.fixture
def admin(ctx: EngineContext):
    make_region(ctx, "3273")
    actor, _ = make_user(ctx, "admin", region=None)
    return actor


def _start(ctx: EngineContext, actor, name: str, data=None):
    version = upload(ctx, "3273", (MODELS / f"{name}.bpmn").read_bytes())
    return applications.start_application(
        ctx, actor, "3273", version.key, {"name": "Siti"}, data or {}
    )


def ready(ctx: EngineContext, actor, app_id) -> list:
    app = applications.get_application(ctx, actor, app_id)
    return sorted((t for t in app.tasks if t.state == "ready"), key=lambda t: t.element_id)


def drive(ctx: EngineContext, actor, app, order: list[str], data=None):
    """Complete the ready steps named in `order`, one by one; return the application."""
    for element_id in order:
        (task,) = [t for t in ready(ctx, actor, app.id) if t.element_id == element_id]
        app = tasks.complete_task(ctx, actor, task.id, dict(data or {}, done=element_id))
    # A step answers the ready tasks only; the tests read every task the application had.
    return applications.get_application(ctx, actor, app.id)


@pytest.mark.parametrize(
    ("name", "order"),
    [
        ("subprocess_first", ["fill", "check", "approve"]),
        ("subprocess_later", ["register", "survey", "report"]),
        ("transaction", ["register", "survey", "report"]),
    ],
)
def test_steps_inside_a_sub_process_run_to_the_end(
    ctx: EngineContext, admin, name: str, order: list[str]
) -> None:
    app = _start(ctx, admin, name)
    app = drive(ctx, admin, app, order)
    assert app.status == "completed", app.error
    done = [t.element_id for t in app.tasks if t.state == "completed"]
    assert sorted(done) == sorted(order) and len(app.tasks) == len(order)


@pytest.fixture
def clock(ctx: EngineContext) -> Clock:
    ctx.clock = Clock(datetime(2026, 7, 6, 2, 0, tzinfo=UTC))
    return ctx.clock


def test_an_interrupting_event_sub_process_replaces_the_main_path(
    ctx: EngineContext, admin, clock: Clock
) -> None:
    app = _start(ctx, admin, "event_subprocess_interrupting")
    assert [t.element_id for t in ready(ctx, admin, app.id)] == ["review"]
    clock.advance(days=2, minutes=1)
    worker.run_pass(ctx, clock.now)
    assert [t.element_id for t in ready(ctx, admin, app.id)] == ["decide"]
    app = drive(ctx, admin, app, ["decide"])
    assert app.status == "completed", app.error
    states = {t.element_id: t.state for t in app.tasks}
    assert states == {"review": "cancelled", "decide": "completed"}


def test_a_non_interrupting_event_sub_process_runs_beside_the_main_path(
    ctx: EngineContext, admin, clock: Clock
) -> None:
    app = _start(ctx, admin, "event_subprocess_non_interrupting")
    clock.advance(days=2, minutes=1)
    worker.run_pass(ctx, clock.now)
    assert [t.element_id for t in ready(ctx, admin, app.id)] == ["decide", "review"]
    app = drive(ctx, admin, app, ["decide"])
    assert app.status == "running"
    app = drive(ctx, admin, app, ["review"])
    assert app.status == "completed", app.error
    assert {t.element_id: t.state for t in app.tasks} == {
        "review": "completed",
        "decide": "completed",
    }


def test_before_its_timer_an_event_sub_process_does_not_start(
    ctx: EngineContext, admin, clock: Clock
) -> None:
    app = _start(ctx, admin, "event_subprocess_interrupting")
    clock.advance(days=1)
    worker.run_pass(ctx, clock.now)
    app = drive(ctx, admin, app, ["review"])
    assert app.status == "completed" and [t.element_id for t in app.tasks] == ["review"]


def test_a_data_object_the_step_did_not_set_puts_the_application_in_error(
    ctx: EngineContext, admin
) -> None:
    app = _start(ctx, admin, "data_object_output")
    (task,) = ready(ctx, admin, app.id)
    app = tasks.complete_task(ctx, admin, task.id, {"note": "no decision given"})
    assert app.status == "error"
    assert app.error["element_id"] == "record"
    assert app.error["message"] == (
        "step 'Catat keputusan' should leave a value for the data object 'decision' (under "
        "the key 'DataObject_decision' of its data) and did not: give that key in the step's "
        "data or remove the data association"
    )


def test_a_failing_completion_condition_puts_the_application_in_error(
    ctx: EngineContext, admin
) -> None:
    app = _start(ctx, admin, "mi_completion_condition")
    first = ready(ctx, admin, app.id)[0]
    app = tasks.complete_task(ctx, admin, first.id, {"note": "no approved key"})
    assert app.status == "error"
    assert app.error["element_id"] == "assess"
    assert "approved" in app.error["message"], app.error


def test_a_data_object_set_by_one_step_is_read_by_the_next(ctx: EngineContext, admin) -> None:
    app = _start(ctx, admin, "data_object_output")
    app = drive(ctx, admin, app, ["record"], {"DataObject_decision": "approved"})
    app = drive(ctx, admin, app, ["use"])
    assert app.status == "completed", app.error


def _timers(ctx: EngineContext, app_id) -> dict[str, str]:
    from sqlalchemy import select

    from engine.persistence.tables import TimerRecord

    with ctx.session_factory() as session:
        rows = session.scalars(select(TimerRecord).where(TimerRecord.application_id == app_id))
        return {row.element_id: row.status for row in rows}


@pytest.mark.parametrize("name", ["event_gateway_timers", "event_gateway_message"])
def test_the_first_timer_behind_an_event_gateway_wins(
    ctx: EngineContext, admin, clock: Clock, name: str
) -> None:
    app = drive(ctx, admin, _start(ctx, admin, name), ["submit"])
    expected = {"Event_reminder": "waiting"}
    if name == "event_gateway_timers":
        expected["Event_expired"] = "waiting"
    assert _timers(ctx, app.id) == expected
    clock.advance(hours=23)
    worker.run_pass(ctx, clock.now)
    assert ready(ctx, admin, app.id) == []
    clock.advance(hours=2)
    assert worker.run_pass(ctx, clock.now).timers_fired == 1
    assert [t.element_id for t in ready(ctx, admin, app.id)] == ["remind"]
    expected = {k: "fired" if k == "Event_reminder" else "cancelled" for k in expected}
    assert _timers(ctx, app.id) == expected
    clock.advance(days=5)
    worker.run_pass(ctx, clock.now)
    app = drive(ctx, admin, app, ["remind"])
    assert app.status == "completed", app.error
    assert [t.element_id for t in app.tasks] == ["submit", "remind"]


@pytest.mark.parametrize("kind", ["exclusive", "inclusive"])
def test_a_gateway_where_no_condition_holds_names_itself(
    ctx: EngineContext, admin, kind: str
) -> None:
    app = _start(ctx, admin, f"{kind}_no_default", {"area": 5})
    assert app.status == "error"
    assert app.error["element_id"] == "Gateway_size"
    assert app.error["message"] == (
        f"no condition of the {kind} gateway 'Luas bangunan?' (Gateway_size) holds and it has "
        "no default flow: give it a default flow or a condition for this case"
    )


@pytest.mark.parametrize(("area", "taken"), [(500, ["large"]), (50, ["small"])])
def test_an_exclusive_gateway_takes_the_first_true_condition_in_document_order(
    ctx: EngineContext, admin, area: int, taken: list[str]
) -> None:
    app = _start(ctx, admin, "exclusive_no_default", {"area": area})
    assert [t.element_id for t in ready(ctx, admin, app.id)] == taken


def test_an_inclusive_gateway_takes_every_true_condition(ctx: EngineContext, admin) -> None:
    app = _start(ctx, admin, "inclusive_no_default", {"area": 500})
    assert [t.element_id for t in ready(ctx, admin, app.id)] == ["large", "small"]


@pytest.mark.parametrize("order", [["archive", "inspect", "decide"], ["inspect", "decide", "archive"]])
def test_an_activity_without_outgoing_flow_ends_its_path(
    ctx: EngineContext, admin, order: list[str]
) -> None:
    app = _start(ctx, admin, "implicit_end", {"area": 1})
    assert [t.element_id for t in ready(ctx, admin, app.id)] == ["archive", "inspect"]
    app = drive(ctx, admin, app, order[:-1])
    assert app.status == "running"
    app = drive(ctx, admin, app, order[-1:])
    assert app.status == "completed", app.error


def test_an_error_event_sub_process_starts_only_when_its_error_is_thrown(
    ctx: EngineContext, admin
) -> None:
    app = _start(ctx, admin, "error_event_subprocess")
    assert [t.element_id for t in ready(ctx, admin, app.id)] == ["review"]
    app = drive(ctx, admin, app, ["review"], {"rejected": True})
    assert [t.element_id for t in ready(ctx, admin, app.id)] == ["notify"]
    app = drive(ctx, admin, app, ["notify"])
    assert app.status == "completed", app.error


def test_an_error_event_sub_process_not_thrown_to_never_runs(ctx: EngineContext, admin) -> None:
    app = drive(ctx, admin, _start(ctx, admin, "error_event_subprocess"), ["review"],
                {"rejected": False})
    assert app.status == "completed", app.error
    assert [t.element_id for t in app.tasks] == ["review"]
