"""What every service needs, built once per process and passed in (never global)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from engine.unit_of_work import UnitOfWork
from engine.workflow.runtime import WorkflowRuntime
from forms import FormValidator


def utcnow() -> datetime:
    """The real clock, aware UTC."""
    return datetime.now(UTC)


@dataclass
class EngineContext:
    """The dependencies of the use cases: database, workflow runtime, forms, clock."""

    session_factory: sessionmaker[Session]
    runtime: WorkflowRuntime
    forms: FormValidator = field(default_factory=FormValidator)
    clock: Callable[[], datetime] = utcnow

    def uow(self) -> UnitOfWork:
        """A fresh unit of work (one per use case)."""
        return UnitOfWork(self.session_factory)
