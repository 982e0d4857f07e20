"""The worker's queries find their rows through their partial indexes (PostgreSQL plans).

Timings are not asserted (the machine is shared); the plan is. With sequential scans
disabled, a query whose WHERE clause the partial index's predicate does not match is
planned over another index and its filter, reading every row of the region: the audit-root
queries did that with `audit_pending IS true` (204 ms a region at 1M open tasks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, inspect, text

from engine.context import EngineContext
from engine.services import applications
from engine.unit_of_work import UnitOfWork
from tests.factories import make_region, make_user, tiny_bpmn, upload


def _plans(ctx: EngineContext, call: Callable[[UnitOfWork], Any]) -> list[str]:
    """The EXPLAIN of every SELECT `call` runs, sequential scans disabled."""
    engine = ctx.session_factory.kw["bind"]
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with ctx.uow() as uow:
            call(uow)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    plans = []
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        raw = conn.connection.driver_connection
        for statement, params in seen:
            rows = raw.execute("EXPLAIN " + statement, params).fetchall()
            plans.append("\n".join(r[0] for r in rows))
    return plans


@pytest.fixture
def pg(ctx: EngineContext, db_url: str) -> EngineContext:
    """PostgreSQL with 5,000 applications in 3273, none with a grown chain, analyzed."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL plans")
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(key="plan", steps=1, sla="P1D"))
    officer, _ = make_user(ctx, "front-office")
    applications.start_application(ctx, officer, "3273", "plan", {}, {})
    engine = ctx.session_factory.kw["bind"]
    with engine.begin() as conn:
        names = [c["name"] for c in inspect(conn).get_columns("applications")]
        made = {"id": "gen_random_uuid()", "tracking_code": "'PLAN-' || n",
                "audit_pending": "false"}
        columns = ", ".join(names)
        values = ", ".join(made.get(c, c) for c in names)
        conn.execute(text(f"INSERT INTO applications ({columns}) SELECT {values} "
                          "FROM applications, generate_series(1, 5000) AS n"))
        conn.execute(text("ANALYZE applications"))
    return ctx


def test_the_audit_root_queries_read_the_pending_index(pg: EngineContext) -> None:
    plans = _plans(pg, lambda uow: (uow.repos.audit.regions_with_unrooted(),
                                    uow.repos.audit.unrooted_heads("3273", 10)))
    assert len(plans) == 2
    for plan in plans:
        assert "ix_applications_audit_pending" in plan, plan
