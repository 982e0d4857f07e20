"""Issue #11 cause 4: one poisoned application never stops the worker for the others.

Before, a timer whose follow-up script left a value the engine cannot store aborted every
worker pass at that timer: no other timer fired and no breach was marked, pass after pass.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from api.commands import cli
from engine.context import EngineContext
from engine.persistence.tables import ApplicationRecord, EventRecord, TaskRecord
from engine.services import applications
from engine.services.worker import run_pass
from tests.factories import TIMER_BPMN, Clock, make_region, make_user, upload

WIB = timezone(timedelta(hours=7))
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=WIB)
TUESDAY_12 = datetime(2026, 3, 3, 12, 0, tzinfo=WIB)  # timers (PT4H) due; PT8H steps overdue

# The escalation model, with a script on the timer's path that leaves a generator.
POISON_BPMN = (
    TIMER_BPMN.replace(b'id="escalation"', b'id="poison"')
    .replace(
        b'<bpmn:sequenceFlow id="f3" sourceRef="too_slow" targetRef="escalated"/>',
        b'<bpmn:sequenceFlow id="f3" sourceRef="too_slow" targetRef="poison_script"/>'
        b'<bpmn:scriptTask id="poison_script"><bpmn:script>x = (i for i in [1])'
        b"</bpmn:script></bpmn:scriptTask>"
        b'<bpmn:sequenceFlow id="f3b" sourceRef="poison_script" targetRef="escalated"/>',
    )
)


@pytest.fixture
def world(ctx: EngineContext):
    ctx.clock = Clock(MONDAY_10)
    make_region(ctx, "3273")
    upload(ctx, "3273", TIMER_BPMN)
    upload(ctx, "3273", POISON_BPMN)
    officer, _ = make_user(ctx, "front-office")
    return officer


def _start(ctx: EngineContext, officer, key: str, count: int) -> list:
    return [
        applications.start_application(ctx, officer, "3273", key, {}, {}).id
        for _ in range(count)
    ]


def _unrestorable(ctx: EngineContext, app_id) -> None:
    """A state the engine cannot even load (as a bug or a bad migration would leave)."""
    with ctx.uow() as uow:
        uow._session.execute(
            update(ApplicationRecord)
            .where(ApplicationRecord.id == app_id)
            .values(state={"not": "a workflow"})
        )
        uow.commit()


def _statuses(ctx: EngineContext) -> dict:
    with ctx.uow() as uow:
        rows = uow._session.execute(select(ApplicationRecord.id, ApplicationRecord.status))
        return dict(rows.all())


def _count(ctx: EngineContext, action: str) -> int:
    with ctx.uow() as uow:
        query = select(func.count()).select_from(EventRecord).where(EventRecord.action == action)
        return int(uow._session.scalar(query) or 0)


def test_a_pass_with_poisoned_applications_among_1000_due_timers_fires_all_the_others(
    ctx: EngineContext, world
) -> None:
    poisoned = _start(ctx, world, "poison", 1)
    broken = _start(ctx, world, "escalation", 1)
    healthy = _start(ctx, world, "escalation", 998)
    _unrestorable(ctx, broken[0])

    report = run_pass(ctx, TUESDAY_12, batch=2_000)

    statuses = _statuses(ctx)
    assert {statuses[i] for i in healthy} == {"running"}
    assert statuses[poisoned[0]] == "error" and statuses[broken[0]] == "error"
    assert report.timers_fired == 999  # the healthy ones and the poisoned one (now in error)
    with ctx.uow() as uow:
        escalated = uow._session.scalar(
            select(func.count())
            .select_from(TaskRecord)
            .where(TaskRecord.element_id == "escalated", TaskRecord.state == "ready")
        )
    assert escalated == 998
    # The unloadable application's first step stays ready and is marked overdue (the
    # poisoned one's was cancelled by its timer before its script failed).
    assert report.steps_breached == 1
    assert _count(ctx, "application.error") == 2


def test_the_worker_command_carries_on_past_a_poisoned_timer(
    ctx: EngineContext, world, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _start(ctx, world, "poison", 1)
    _unrestorable(ctx, _start(ctx, world, "escalation", 1)[0])
    healthy = _start(ctx, world, "escalation", 3)
    monkeypatch.setenv("PERMITFLOW_DATABASE_URL", db_url)
    built = []
    real = cli.engine_context
    monkeypatch.setattr(cli, "engine_context", lambda: built.append(real()) or built[-1])

    try:
        result = CliRunner().invoke(cli.main, ["worker", "--now", TUESDAY_12.isoformat()])
    finally:
        for context in built:  # a real CLI process just exits
            context.session_factory.kw["bind"].dispose()

    assert result.exit_code == 0, result.output
    assert "timers fired: 4, steps breached: 1" in result.output
    assert "timers failed: 1" in result.output
    statuses = _statuses(ctx)
    assert {statuses[i] for i in healthy} == {"running"}
    with ctx.uow() as uow:
        error = uow._session.scalars(
            select(ApplicationRecord.error).where(ApplicationRecord.status == "error")
        ).all()
    assert sorted(e["element_id"] for e in error) == ["poison_script", "too_slow"]
