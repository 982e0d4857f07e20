"""SLA compliance reports from the indexed task and application rows (no workflow loads)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, ANALYST, SUPERVISOR, Actor
from engine.domain.errors import InvalidInputError
from engine.domain.problems import Problem
from engine.domain.read_models import SlaReport, StepFigures
from engine.services.access import require_roles


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
) -> SlaReport:
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
        done = uow.repos.reports.completed_steps(since, until, region, process_key)
        overdue = uow.repos.reports.overdue_steps(now, region, process_key)
        deemed = uow.repos.reports.deemed_granted(since, until, region, process_key)
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
        # Applications granted by law because the office stayed silent past the SLA.
        "deemed_granted": [
            {"region": reg, "process_key": key, "count": count} for reg, key, count in deemed
        ],
    }


def _row(key: tuple[str, str, str], entry: dict[str, Any]) -> StepFigures:
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
