"""What one step costs the database, counted (statement counts are exact; times are not).

`make bench` times the steps; this test pins the number of statements, so a change that
adds a query to every step fails here, on both databases, instead of slowing production
quietly. The budget is the README's: lock the application and the step's own task row in
one statement (with the calendar revision and whether fee items exist; never the other task
rows), write the application (its audit chain's head moves with it) and the task rows, insert the audit events into the application's own chain — plus one read for
the step's own fee, one insert for fee items the step opens, and one read for the fee list
where there are any. The step that issues a document (PBG's `sign_pbg`) has its own five
statements more (`ISSUING`). No statement touches a region-wide row (issue #16): the
region's signing key is made beforehand, as a region's first document would make it.
Every step here runs on the workflow the step before left (engine/workflow/live_cache.py:
a counter payment carries it along), so none reads the saved state; a step that misses
that cache reads it with one statement more.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from api.commands import scenarios
from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.persistence.tables import IssuedDocumentRecord, OutboxRecord
from engine.services import documents, models, notification_admin, payments, tasks

SHIPPED = Path(__file__).resolve().parents[2] / "process_models"
PBG = SHIPPED / "3273" / "pbg"
BASE_BUDGET = (
    1  # SELECT applications JOIN tasks .. FOR UPDATE OF both: the step's own row, locked
    + 1  # UPDATE applications: state, clock, audit head (version-checked)
    + 1  # UPDATE tasks: the completed step
    + 1  # INSERT tasks: the next step
    + 1  # INSERT events: the step's audit events, on the application's own chain
)
# Until issue #16: 8 (the region chain's head locked and advanced), then 6 (all the
# application's task rows read after the lock).
# On PostgreSQL the writes of a flush are one statement of data-modifying CTEs, the step's
# audit events with them (engine/persistence/fast_flush.py): a plain step is the lock and
# one write. Steps that open fee items or issue a document flush through the ORM: for them
# the budget above is an upper bound on both databases.
FOLDED_BUDGET = (
    1  # SELECT applications JOIN tasks .. FOR UPDATE OF both
    + 1  # WITH (UPDATE applications), (UPDATE tasks), (INSERT tasks), (INSERT events)
)
# On PostgreSQL a plain step's statements and its BEGIN and COMMIT travel in two round trips
# (the lock read with BEGIN, the write with COMMIT: engine/persistence/pg_trips.py).
PIPELINED_TRIPS = 2
# Issuing a document at the end event (engine/services/documents.py, same transaction):
ISSUING = (
    1  # INSERT .. ON CONFLICT number_sequences: the document number (gap-free yearly series)
    + 1  # SELECT signing_keys: the region's active key
    + 1  # SELECT regions: the region's name printed on the document
    + 1  # INSERT issued_documents: number, hash, signature and the PDF bytes
    # UPDATE applications a second time: the number's upsert flushes the step's first
    # UPDATE, and `document.issued` moves the application's audit head after it
    + 1
)
# Only a region's first document makes its key (INSERT signing_keys) and audits that on the
# region's chain (SELECT .. FOR UPDATE and UPDATE of its head): 3 more, once per region.


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE is ours, not a query
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@contextmanager
def counting_trips() -> Iterator[list[int]]:
    """The times the client waited for PostgreSQL's answer (psycopg waits on the socket for
    reading once per round trip: BEGIN, a statement, COMMIT each, where they go alone;
    several commands sent together with one Sync are one). Counted at the driver, under
    SQLAlchemy and under engine/persistence/pg_trips.py alike."""
    from psycopg import waiting
    from psycopg._enums import Wait

    waits: list[int] = []
    real = waiting.wait

    def counted(gen: Any) -> Any:
        try:
            state = next(gen)
            while True:
                if state == Wait.R:
                    waits.append(1)
                state = gen.send((yield state))
        except StopIteration as stop:
            return stop.value

    def wait(gen: Any, *args: Any, **kwargs: Any) -> Any:
        return real(counted(gen), *args, **kwargs)

    waiting.wait = wait
    try:
        yield waits
    finally:
        waiting.wait = real


def outbox_size(ctx: EngineContext) -> int:
    with ctx.uow() as uow:
        assert uow._session is not None
        return int(uow._session.scalar(select(func.count()).select_from(OutboxRecord)) or 0)


def issued_count(ctx: EngineContext) -> int:
    with ctx.uow() as uow:
        assert uow._session is not None
        return int(uow._session.scalar(
            select(func.count()).select_from(IssuedDocumentRecord)) or 0)


@pytest.mark.parametrize("channel", [False, True], ids=["no-channel", "webhook-channel"])
def test_each_step_of_the_shipped_pbg_procedure_stays_within_its_statement_budget(
    ctx: EngineContext, monkeypatch, channel: bool
) -> None:
    models.import_directory(ctx, SYSTEM, SHIPPED)
    documents.rotate_key(ctx, SYSTEM, "3273")  # the region's key exists, as after its first
    if channel:
        notification_admin.add_channel(ctx, SYSTEM, "3273", {
            "name": "gateway", "kind": "webhook", "secret": "x" * 16,
            "settings": {"url": "http://127.0.0.1:9/hook"}})
    engine: Engine = ctx.session_factory.kw["bind"]
    counted: list[tuple[str, int, int]] = []  # (element, statements, budget)
    trips: list[tuple[int, int]] = []  # (statements, round trips)
    notifying: list[bool] = []
    issuing: list[str] = []
    complete = tasks.complete_task

    def counted_complete(ctx_, actor, task_id, data):
        with ctx.uow() as uow:
            task = uow.repos.tasks.get(task_id)
            assert task is not None
            element, own_fee, app_id = task.element_id, task.fee > 0, task.application_id
            before = len(uow.repos.fees.with_payments(app_id))
        queued, documents_before = outbox_size(ctx), issued_count(ctx)
        with counting(engine) as statements, counting_trips() as waits:
            view = complete(ctx_, actor, task_id, data)
        with ctx.uow() as uow:
            opened = len(uow.repos.fees.with_payments(app_id)) - before
        notified = outbox_size(ctx) > queued
        issued = issued_count(ctx) - documents_before
        assert issued in (0, 1)
        assert channel or not notified  # a region without channels: no row
        # A fee item opened now is its INSERT, its billing number (one upsert) and its
        # `fee.billed` audit event; the fee list is read where there are any. In a region
        # with a notification channel, the step's outbox rows (step ready, fee billed,
        # decision: one INSERT of all of them) cost one statement more; the channels
        # themselves are known from the region's revision, which the lock query reads, so a
        # region without channels costs nothing more at all.
        budget = (BASE_BUDGET + own_fee + 3 * (opened > 0) + (before + opened > 0)
                  + notified + ISSUING * issued)
        if issued:
            issuing.append(element)
        counted.append((element, len(statements), budget))
        trips.append((len(statements), len(waits)))
        notifying.append(notified)
        return view

    monkeypatch.setattr(tasks, "complete_task", counted_complete)
    references = iter(range(1, 100))

    def pay(_actor, app, task) -> None:
        for item in payments.fee_items(ctx, SYSTEM, app.id):
            if item["element_id"] == task.element_id and item["status"] == "open":
                payments.record_payment(ctx, SYSTEM, app.id, item["fee_item"], item["amount"],
                                        f"COST-{next(references):04d}")

    scenario = scenarios.load_scenario(PBG / "scenarios" / "happy_path.json")
    result = scenarios.run_scenario(ctx, "3273", "pbg", scenario, pay=pay)
    assert result.passed, result.failures
    assert len(counted) == len(scenario["steps"])
    assert ctx.live.misses == 0 and ctx.live.hits == len(counted)
    over = [(element, n, budget) for element, n, budget in counted if n > budget]
    assert not over, f"steps over their statement budget (element, statements, budget): {over}"
    assert any(notifying) == channel
    assert issuing == ["sign_pbg"]  # the signed permit, issued once, at the last step
    # The budget is tight: some step costs exactly its budget, and without a channel a plain
    # step (no fee of its own, none opened) costs exactly the base.
    if engine.dialect.name == "postgresql":  # a plain step: the lock and one write
        plain = [n for _, n, budget in counted if budget == BASE_BUDGET]
        # ... or, where ready steps it did not touch remain (a parallel branch), the ready
        # page read after the writes (the writes flushed before it, the events after it).
        assert channel or FOLDED_BUDGET in plain, counted
        assert all(n in (FOLDED_BUDGET, FOLDED_BUDGET + 2) for n in plain), counted
        # ... in two round trips: BEGIN with the lock, COMMIT with the write (pipeline mode,
        # engine/persistence/pg_trips.py; they were four).
        two = [waits for n, waits in trips if n == FOLDED_BUDGET]
        assert (channel or two) and all(waits == PIPELINED_TRIPS for waits in two), trips
        return
    assert any(n == budget for _, n, budget in counted), counted
    assert channel or any(n == budget == BASE_BUDGET for _, n, budget in counted), counted
