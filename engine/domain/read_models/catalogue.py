"""Read models: the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict


class CatalogRegion(TypedDict):
    code: str
    name: str


class CatalogItem(TypedDict):
    region: CatalogRegion
    key: str
    version: int
    title: str
    origin: dict[str, Any] | None
    steps: int
    total_fee: int
    legal_sla: str | None
    legal_sla_days: float | None
    replications: int
    started: int
    finished: int
    median_days: float | None
    p90_days: float | None
    on_time_rate: float | None
    overdue_running: int


class CatalogPage(TypedDict):
    items: list[CatalogItem]
    total: int
    limit: int
    offset: int
    since: datetime
    generated_at: datetime
    window_days: int
