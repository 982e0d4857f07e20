"""The worker's breach queries: the overdue rows not yet marked, taken SKIP LOCKED, and
their marking (one statement per batch)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, defer, load_only

from engine.persistence import sla_clauses
from engine.persistence.tables import ApplicationRecord, TaskRecord

_TASKS: Table = TaskRecord.__table__  # type: ignore[assignment]
_MARK_BREACHED = (
    update(_TASKS)
    .where(_TASKS.c.id.in_(bindparam("ids", expanding=True)))
    .values(breached_at=bindparam("now"))
)
# What a breach's event and notification read of a step (not its data or input).
_BREACH_COLUMNS = (
    TaskRecord.application_id, TaskRecord.region_code, TaskRecord.process_key,
    TaskRecord.element_id, TaskRecord.name, TaskRecord.role, TaskRecord.due_at,
)


def breaching(
    session: Session, table: Any, open_states: tuple[str, ...], now: datetime, limit: int
) -> Sequence[Any]:
    """Up to `limit` open rows of `table` past due at `now` and not marked, soonest due
    first, locked, skipping rows other transactions hold (and, for steps, those whose
    application another transaction holds)."""
    query = select(table)
    if table is TaskRecord:
        query = query.options(load_only(*_BREACH_COLUMNS))
    else:  # a breach never reads the workflow state (often 10+ KB each, 500 a batch)
        query = query.options(defer(ApplicationRecord.state))
    rows = session.scalars(
        query
        .where(sla_clauses.breach_pending(table, open_states, now))
        .order_by(table.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if table is not TaskRecord or not rows:
        return rows
    # The steps' applications too: a breach event advances its application's audit chain,
    # whose head is on the application's row. Taken without waiting (a step in flight holds
    # its application's row and may want one of these task rows): a step whose application
    # is busy is left to the next pass. A second query, not a join: joining 1M applications
    # into the due-time index scan made the planner read the whole backlog.
    held = set(
        session.scalars(
            select(ApplicationRecord.id)
            .where(ApplicationRecord.id.in_({r.application_id for r in rows}))
            .order_by(ApplicationRecord.id)
            .with_for_update(skip_locked=True)
        )
    )
    return [r for r in rows if r.application_id in held]


def breach_left(session: Session, table: Any, open_states: tuple[str, ...], now: datetime) -> bool:
    """Whether an open row of `table` past due at `now` is still unmarked."""
    # No lock: rows another transaction holds count too (the due-time index answers it).
    query = select(table.id).where(sla_clauses.breach_pending(table, open_states, now)).limit(1)
    return session.scalars(query).first() is not None


def mark_breached(session: Session, ids: Sequence[uuid.UUID], now: datetime) -> None:
    """Set `breached_at` on the steps `ids` (locked by `breaching`) in one statement."""
    if ids:
        session.connection().execute(_MARK_BREACHED, {"ids": list(ids), "now": now})
