"""SLA compliance reports from the indexed task and application rows (no workflow loads)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from engine.domain.actors import ADMIN, ANALYST, SUPERVISOR, Actor
from engine.domain.errors import InvalidInputError
from engine.domain.problems import Problem
from engine.domain.statuses import StepStatus
from engine.persistence import sla_clauses
from engine.persistence.tables import ApplicationRecord, TaskRecord
from engine.services.access import require_roles
from engine.services.context import EngineContext


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil without floats drifting
    return ordered[int(rank) - 1]


def sla_report(
    ctx: EngineContext,
    actor: Actor,
    since: datetime,
    until: datetime,
    region: str | None = None,
    process_key: str | None = None,
) -> dict[str, Any]:
    """Per region, process and step over [since, until): count, on-time rate, median and p90
    working hours, and how many are overdue now.

    Raises: PermissionDeniedError, InvalidInputError.
    """
    require_roles(actor, ADMIN, SUPERVISOR, ANALYST, action="reading SLA reports")
    if since.tzinfo is None or until.tzinfo is None or since >= until:
        raise InvalidInputError(
            "give a period with offsets, from before to", [Problem("invalid period", field="from")]
        )
    region = region if actor.is_admin else actor.region_code
    now = ctx.clock()
    with ctx.reader() as uow:
        assert uow.session is not None
        done = uow.session.execute(_completed_query(since, until, region, process_key)).all()
        overdue = uow.session.execute(_overdue_query(now, region, process_key)).all()
    steps: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(
        lambda: {"name": "", "hours": [], "on_time": 0, "overdue_now": 0}
    )
    for reg, key, element, name, minutes, completed_at, due_at in done:
        entry = steps[(reg, key, element)]
        entry["name"] = name
        entry["hours"].append((minutes or 0) / 60)
        entry["on_time"] += due_at is None or completed_at <= due_at
    for reg, key, element, name, count in overdue:
        steps[(reg, key, element)]["name"] = name
        steps[(reg, key, element)]["overdue_now"] = count
    return {
        "from": since,
        "to": until,
        "generated_at": now,
        "steps": [_row(k, v) for k, v in sorted(steps.items())],
    }


def _row(key: tuple[str, str, str], entry: dict[str, Any]) -> dict[str, Any]:
    hours = entry["hours"]
    return {
        "region": key[0],
        "process_key": key[1],
        "element_id": key[2],
        "name": entry["name"],
        "count": len(hours),
        "on_time_rate": round(entry["on_time"] / len(hours), 4) if hours else None,
        "median_hours": round(statistics.median(hours), 2) if hours else None,
        "p90_hours": round(percentile(hours, 0.9) or 0, 2) if hours else None,
        "overdue_now": entry["overdue_now"],
    }


def _completed_query(since: datetime, until: datetime, region: str | None, key: str | None) -> Any:
    query = (
        select(
            TaskRecord.region_code,
            ApplicationRecord.process_key,
            TaskRecord.element_id,
            TaskRecord.name,
            TaskRecord.work_minutes,
            TaskRecord.completed_at,
            TaskRecord.due_at,
        )
        .join(ApplicationRecord, ApplicationRecord.id == TaskRecord.application_id)
        .where(
            TaskRecord.state == StepStatus.COMPLETED,
            TaskRecord.completed_at >= since,
            TaskRecord.completed_at < until,
        )
    )
    return _filtered(query, region, key)


def _overdue_query(now: datetime, region: str | None, key: str | None) -> Any:
    query = (
        select(
            TaskRecord.region_code,
            ApplicationRecord.process_key,
            TaskRecord.element_id,
            func.min(TaskRecord.name),
            func.count(),
        )
        .join(ApplicationRecord, ApplicationRecord.id == TaskRecord.application_id)
        .where(sla_clauses.step_overdue(now))
        .group_by(TaskRecord.region_code, ApplicationRecord.process_key, TaskRecord.element_id)
    )
    return _filtered(query, region, key)


def _filtered(query: Any, region: str | None, key: str | None) -> Any:
    if region is not None:
        query = query.where(TaskRecord.region_code == region)
    if key is not None:
        query = query.where(ApplicationRecord.process_key == key)
    return query
