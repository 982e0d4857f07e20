"""What services return: plain, JSON-ready read models (no records, no sessions)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.domain.read_models import FeeItemView


@dataclass(frozen=True, slots=True)
class RegionView:
    code: str
    name: str
    timezone: str


@dataclass(frozen=True, slots=True)
class UserCreated:
    id: int
    name: str
    region_code: str | None
    roles: list[str]
    token: str
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskView:
    id: uuid.UUID
    application_id: uuid.UUID
    element_id: str
    name: str
    role: str
    state: str
    claimed_by: int | None
    ready_at: datetime
    due_at: datetime | None
    overdue: bool
    sla: str | None
    fee: int
    form: str | None
    # Overdue: ready and late now; late: missed its deadline, also once done (domain.sla).
    late: bool = False
    completed_at: datetime | None = None
    completed_by: int | None = None
    region: str = ""
    process_key: str = ""
    form_schema: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    working_hours_left: float | None = None
    fee_item: dict[str, Any] | None = None
    # The collection element this instance of a fanned-out step works on, by variable.
    input: dict[str, Any] | None = None
    # Its application is granted by law (fiktif positif): the step carries that fact.
    deemed_granted: bool = False
    # The values the process holds now for the fields of the step's form (one read only).
    earlier_data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    reason: str | None
    data: dict[str, Any]
    chain: str = ""
    seq: int = 0
    prev_hash: str = ""
    hash: str = ""


@dataclass(frozen=True, slots=True)
class ApplicationView:
    id: uuid.UUID
    tracking_code: str
    status: str
    process_key: str
    version: int
    title: str
    region: str
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    applicant: dict[str, Any]
    error: dict[str, Any] | None
    tasks: list[TaskView] = field(default_factory=list)
    history: list[EventView] = field(default_factory=list)
    due_at: datetime | None = None
    overdue: bool = False
    late: bool = False
    process_sla: str | None = None
    sla_backstop: bool = False
    sla_paused: bool = False
    cancelled_reason: str | None = None
    fees: list[FeeItemView] = field(default_factory=list)
    # Granted by law when the process SLA passed without a decision (fiktif positif).
    deemed_granted_at: datetime | None = None
    outcome: dict[str, Any] | None = None
    # Set on a step's answer, which lists only the ready tasks (the first 50 of them).
    ready_task_count: int | None = None


@dataclass(frozen=True, slots=True)
class StepView:
    element_id: str
    name: str
    role: str
    sla: str | None
    fee: int
    form: str | None
    order: int


@dataclass(frozen=True, slots=True)
class ModelVersionView:
    region: str
    key: str
    version: int
    title: str
    status: str
    process_sla: str | None
    created_at: datetime
    steps: list[StepView]
    bpmn_sha256: str
    total_fee: int
    lineage: dict[str, Any] | None = None
    bpmn: str | None = None
    forms: dict[str, Any] | None = None
    standard: dict[str, Any] | None = None
    # On the upload answer: what the model draws that is accepted and not applied.
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ModelSummaryView:
    region: str
    key: str
    title: str
    latest_version: int
    created_at: datetime


# Listings count their matches up to this many (or to the end of the page asked for, if
# further); past it a page says "at least this many" (`Page.total_capped`).
COUNT_CAP = 1000


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing. `total` is exact unless `total_capped`: then at least that
    many match (listings count up to a bound, `COUNT_CAP`)."""

    items: list[Any]
    total: int
    limit: int
    offset: int
    total_capped: bool = False
