"""Read models: reports."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict


class StepFigures(TypedDict):
    region: str
    process_key: str
    element_id: str
    name: str
    count: int
    on_time_rate: float | None
    median_hours: float | None
    p90_hours: float | None
    overdue_now: int


class DeemedCount(TypedDict):
    region: str
    process_key: str
    count: int


SlaReport = TypedDict(
    "SlaReport",
    {
        "from": datetime,
        "to": datetime,
        "generated_at": datetime,
        "steps": list[StepFigures],
        "deemed_granted": list[DeemedCount],
    },
)
