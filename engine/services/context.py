"""What every service needs, built once per process and passed in (never global)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from threading import Lock
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from engine.unit_of_work import UnitOfWork
from engine.workflow.runtime import WorkflowRuntime
from forms import FormValidator


def utcnow() -> datetime:
    """The real clock, aware UTC."""
    return datetime.now(UTC)


class VersionCache:
    """A bounded, thread-safe map of model version id -> immutable facts about it."""

    def __init__(self, size: int = 512) -> None:
        self._items: OrderedDict[int, Any] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, key: int) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: int, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)


@dataclass
class EngineContext:
    """The dependencies of the use cases: database, workflow runtime, forms, clock."""

    session_factory: sessionmaker[Session]
    runtime: WorkflowRuntime
    forms: FormValidator = field(default_factory=FormValidator)
    clock: Callable[[], datetime] = utcnow
    versions: VersionCache = field(default_factory=VersionCache)

    def uow(self) -> UnitOfWork:
        """A fresh unit of work (one per use case)."""
        return UnitOfWork(self.session_factory)
