"""Read models of the web console's pages: plain, typed views built by `services.console`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.domain.views import ApplicationView, TaskView


@dataclass(frozen=True, slots=True)
class EarlierStepView:
    """A completed step of an application and the data entered at it."""

    element_id: str
    name: str
    completed_at: datetime | None
    completed_by: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TaskPageView:
    """Everything an officer's step page shows: the task, its application, earlier data."""

    task: TaskView
    application: ApplicationView
    earlier: list[EarlierStepView] = field(default_factory=list)
    claimed_by_name: str | None = None
    may_work: bool = False
    own_claim: bool = False


@dataclass(frozen=True, slots=True)
class OfficerView:
    """An active user of a region that a step may be handed to."""

    id: int
    name: str
    roles: list[str]
