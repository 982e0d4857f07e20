"""Commits bounded in time, and never acknowledged unreplicated (PostgreSQL).

With synchronous replication a commit waits until the standby confirms it. PostgreSQL's
`statement_timeout` does not cover that wait (it is switched off before the commit runs), so
a lost synchronous standby would hold every writing request forever. And when the wait is
cancelled, the commit *succeeds* with only a WARNING ("canceling wait for synchronous
replication"): the change is on the primary alone and a failover can lose it.

`guard_commits` gives each commit the statement timeout: past it, one process-wide watchdog
thread cancels the wait; a commit whose wait was cancelled raises StorageUnavailableError
(503) instead of being acknowledged. The change stands on the primary: a retry with the same
`Idempotency-Key` answers 409 ("made"), and a failover that loses it lets the retry make it.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from engine.domain.errors import StorageUnavailableError

SYNC_WAIT_CANCELLED = "canceling wait for synchronous replication"
_NOTES = "permitflow_notices"
_SECONDS = "permitflow_commit_seconds"


class _Watchdog:
    """One daemon thread that cancels the commits running past their deadline."""

    def __init__(self) -> None:
        self._due: dict[int, tuple[float, Any]] = {}
        self._ids = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._wakes_at = math.inf  # when the thread looks next (it sleeps until then)

    def watch(self, dbapi_connection: Any, seconds: float) -> int:
        token = next(self._ids)
        deadline = time.monotonic() + seconds
        with self._cond:
            self._due[token] = (deadline, dbapi_connection)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="permitflow-commit-watchdog", daemon=True
                )
                self._thread.start()
            if deadline < self._wakes_at:  # else it wakes in time anyway: no switch per commit
                self._cond.notify()
        return token

    def done(self, token: int) -> None:
        with self._cond:
            self._due.pop(token, None)

    def _run(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                late = [t for t, (at, _) in self._due.items() if at <= now]
                overdue = [self._due.pop(t)[1] for t in late]
                if not overdue:
                    self._wakes_at = min((at for at, _ in self._due.values()), default=math.inf)
                    wait = None if self._wakes_at == math.inf else max(0.0, self._wakes_at - now)
                    self._cond.wait(wait)
                    self._wakes_at = -math.inf  # awake: it reads every deadline before sleeping
                    continue
            for dbapi_connection in overdue:  # outside the lock: cancel opens a connection
                try:
                    dbapi_connection.cancel()
                except Exception:  # noqa: S112 - the server is gone; the commit fails by itself
                    continue


_WATCHDOG = _Watchdog()


def guard_commits(engine: Engine, seconds: float) -> None:
    """Bound each commit of `engine` (psycopg) to `seconds`; refuse an unreplicated one."""

    @event.listens_for(engine, "connect")
    def _collect_notices(dbapi_connection: Any, _record: Any) -> None:
        notes: list[str] = []
        dbapi_connection.add_notice_handler(lambda d: notes.append(d.message_primary or ""))
        setattr(dbapi_connection, _NOTES, notes)
        setattr(dbapi_connection, _SECONDS, seconds)

    plain_commit = engine.dialect.do_commit

    def do_commit(dbapi_connection: Any) -> None:
        with guarded(dbapi_connection):
            plain_commit(dbapi_connection)

    engine.dialect.do_commit = do_commit  # type: ignore[method-assign]


@contextmanager
def guarded(dbapi_connection: Any) -> Iterator[None]:
    """Around whatever commits on `dbapi_connection` (`do_commit`, or a write sent with its
    `COMMIT`, engine/persistence/pg_trips.py): cancelled past the connection's statement
    timeout; a commit whose synchronous replication wait was cancelled raises
    StorageUnavailableError. Nothing for a connection of an engine without the guard."""
    notes: list[str] | None = getattr(dbapi_connection, _NOTES, None)
    seconds: float | None = getattr(dbapi_connection, _SECONDS, None)
    if notes is None or seconds is None:
        yield
        return
    notes.clear()
    token = _WATCHDOG.watch(dbapi_connection, seconds)
    try:
        yield
    finally:
        _WATCHDOG.done(token)
    if any(SYNC_WAIT_CANCELLED in note for note in notes):
        raise StorageUnavailableError(
            f"the synchronous standby did not confirm the commit within {seconds:g} s: the "
            "change is on the primary only and not acknowledged; retry with the same "
            "Idempotency-Key once replication is back"
        )
