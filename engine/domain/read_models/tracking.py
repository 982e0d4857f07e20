"""Read models: tracking."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict


class TrackedRegion(TypedDict):
    code: str
    name: str
    timezone: str


class TrackedStep(TypedDict):
    element_id: str
    name: str
    started_at: datetime
    completed_at: datetime | None
    due_at: datetime | None
    overdue: bool
    late: bool
    waiting_on_applicant: bool


class TrackedFee(TypedDict):
    name: str
    amount: int
    status: str
    receipt_no: str | None
    paid_at: datetime | None


class Tracking(TypedDict):
    tracking_code: str
    title: str
    process_key: str
    version: int
    region: TrackedRegion
    status: str
    submitted_at: datetime
    completed_at: datetime | None
    due_at: datetime | None
    sla_paused: bool
    steps_done: list[TrackedStep]
    current_steps: list[TrackedStep]
    fees: list[TrackedFee]
    # Issue #15: how it ended, why it was cancelled, what a pause waits for, the published
    # fee schedule, and a deemed approval.
    outcome: dict[str, Any] | None
    cancelled_reason: str | None
    waiting_for: str | None
    fee_schedule: dict[str, Any]
    deemed_granted_at: datetime | None
    complaints: list[dict[str, Any]]
    survey: dict[str, bool]
