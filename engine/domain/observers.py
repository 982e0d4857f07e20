"""What the engine tells an observer about work that was committed (metrics, for one).

The engine knows no metrics library. A unit of work hands the audit events of each
transaction to the context's `CommitObserver` *after* the commit succeeded, so whatever
the observer counts (`api/metrics.py` counts applications started and finished, steps
completed, timers fired, SLA breaches) is exactly what the audit log holds: a rolled-back
transaction reports nothing. The audit events are the engine's one record of domain facts,
so a second set of hooks in every use case would only be a second copy that could drift
(STYLE habit 15).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class CommittedEvent(Protocol):
    """The parts of a committed audit event an observer may read."""

    @property
    def action(self) -> str: ...

    @property
    def region_code(self) -> str | None: ...

    @property
    def data(self) -> Mapping[str, Any]: ...


class CommitObserver(Protocol):
    """Told, after each successful commit that wrote audit events, what they were.

    Called on the committing thread, outside the transaction; it must be quick and must
    not raise (a failure is logged by the unit of work and never undoes the commit).
    """

    def committed(self, events: Sequence[CommittedEvent]) -> None: ...
