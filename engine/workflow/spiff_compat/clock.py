"""Our clock inside SpiffWorkflow's timers.

SpiffWorkflow 3.2.0 has no clock to inject: timer due times are computed from, and
compared with, `datetime.now(timezone.utc)` inside its timer module. We replace that
module's `datetime` with a subclass whose `now()` answers the time set for the current
call (a context variable, so threads and requests don't see each other's clocks). Due
times are then computed on *our* clock, and timers fire when *our* clock says so —
which is what lets `permitflow worker --now ISO` replay time exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

_now: ContextVar[datetime | None] = ContextVar("permitflow_now", default=None)


class _EngineDateTime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        current = _now.get()
        if current is None:
            return datetime.now(tz)
        return (
            current.astimezone(tz)
            if tz is not None
            else current.astimezone(UTC).replace(tzinfo=None)
        )


def install() -> None:
    """Give SpiffWorkflow's timer module our `datetime` (idempotent)."""
    spiff_timer.datetime = _EngineDateTime


@contextmanager
def engine_time(now: datetime) -> Iterator[None]:
    """Run SpiffWorkflow with `now` (aware) as the current time."""
    if now.tzinfo is None:
        raise ValueError("engine time must be timezone-aware")
    token = _now.set(now)
    try:
        yield
    finally:
        _now.reset(token)
