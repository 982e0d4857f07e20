"""A breach the worker skipped because another transaction held the row for a moment (the
other worker's step-breach batch or audit root) is taken again in the same pass.

Before, a short SKIP LOCKED batch ended the pass's marking: two workers could each skip
the applications the other held, and neither recorded their breach (0 of 5 in the two
worker processes test).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from engine.context import EngineContext
from engine.persistence.tables import EventRecord
from engine.services import applications, worker
from tests.factories import make_region, make_user, tiny_bpmn, upload


def test_a_row_held_when_its_batch_ran_is_marked_once_it_is_let_go_in_the_same_pass(
    ctx: EngineContext, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: there is no row lock to skip")
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(key="slow", steps=1, sla="PT2H"))
    officer, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, officer, "3273", "slow", {}, {})
    later = ctx.clock() + timedelta(days=30)  # the step and the application's backstop late
    other = create_engine(ctx.session_factory.kw["bind"].url)
    monkeypatch.setattr(worker, "SKIPPED_WAIT_S", 0.0, raising=False)
    original = worker._mark_batch
    try:
        with other.connect() as conn:  # e.g. the other worker sealing an audit root
            txn = conn.begin()
            conn.execute(text("SELECT id FROM applications WHERE id = :i FOR UPDATE"),
                         {"i": app.id})

            def batch_then_let_go(*args: Any) -> int:
                marked = original(*args)
                if txn.is_active:
                    txn.rollback()  # the holder commits right after the first batch skipped
                return marked

            monkeypatch.setattr(worker, "_mark_batch", batch_then_let_go)
            report = worker.run_pass(ctx, later)
    finally:
        other.dispose()
    assert (report.steps_breached, report.applications_breached) == (1, 1)
    with ctx.uow() as uow:
        subjects = uow._session.execute(
            select(EventRecord.subject, func.count())
            .where(EventRecord.action == "sla.breached")
            .group_by(EventRecord.subject)).all()
    assert sorted(n for _, n in subjects) == [1, 1]
    assert {s.split(":")[0] for s, _ in subjects} == {"task", "application"}
    again = worker.run_pass(ctx, later)
    assert (again.steps_breached, again.applications_breached) == (0, 0)
