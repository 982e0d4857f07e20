"""The unit of work: one transaction per use case, committed explicitly by the service.

Services open `with uow:`, read and write through its repositories, and call
`uow.commit()` once; leaving the block without committing rolls everything back, so
a failure can never leave state, tasks and events half-written (DESIGN §8).
"""

from __future__ import annotations

import logging
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine.documents import DocumentSettings
from engine.domain.errors import AlreadyExistsError, ConcurrentUpdateError
from engine.domain.notifications import PendingNotification
from engine.domain.observers import CommitObserver
from engine.persistence import idempotency
from engine.persistence.audit_log import (
    EVENTS,
    PendingEvent,
    append_events,
    place_application_events,
)
from engine.persistence.fast_flush import StepSession
from engine.persistence.outbox_queries import RouteCache, write_outbox
from engine.persistence.repositories import Repositories

log = logging.getLogger("permitflow.engine")


class UnitOfWork:
    """A session-per-use-case transaction with the repositories bound to it.

    With `read_bind` (`EngineContext.reader`, `.snapshot`), the session reads through it and the
    unit of work refuses to commit: read-only use cases cost no transaction round trips.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        read_bind: Engine | None = None,
        observer: CommitObserver | None = None,
        routes: RouteCache | None = None,
        documents: DocumentSettings | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._read_bind = read_bind
        self._observer = observer  # told the audit events of each successful commit
        self._routes = routes
        # Issuing a document at a completion signs it inside this transaction (issue #14).
        self.documents = documents
        # Private: services read and write through `repos` only (every query lives in
        # engine/persistence); tests may reach in to set up or inspect rows.
        self._session: Session | None = None

    def __enter__(self) -> Self:
        if self._read_bind is None:
            self._session = self._session_factory()
        else:
            self._session = self._session_factory(bind=self._read_bind, autoflush=False)
        self.repos = Repositories(self._session)
        self._events: list[PendingEvent] = []
        self._notes: list[PendingNotification] = []
        # Regions' settings revisions this transaction read (calendar and channel caches).
        self.region_revisions: dict[str, int] = {}
        self._unplaced: list[PendingEvent] = []  # queued events not yet in their chains
        self._placed: list[dict[str, Any]] = []  # events chained at a flush, inserted at commit
        if self._read_bind is None:
            # At every flush, before the rows are written (engine/persistence/fast_flush.py).
            assert isinstance(self._session, StepSession), "sessions come from make_session_factory"
            self._session.before_write = self._place_events
        return self

    def _place_events(self, session: Session, *_: object) -> None:
        """At every flush: applications' events move their chains' heads with the flush's
        own UPDATE of the application (engine/persistence/audit_log.py)."""
        rows, self._unplaced = place_application_events(session, self._unplaced)
        self._placed += rows

    def queue_event(self, event: PendingEvent) -> None:
        """An audit event to append, with this transaction's changes, at commit."""
        self._events.append(event)
        self._unplaced.append(event)

    def queue_notification(self, note: PendingNotification, now: datetime) -> None:
        """A notification to put in the outbox, with this transaction's changes, at commit
        (one row per channel of its region that takes it; none without channels)."""
        self._notes.append(note)
        self._notes_at = now

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        changed = self._read_bind is not None and exc is None and bool(
            self._session.new or self._session.dirty or self._session.deleted
        )
        try:
            self._session.rollback()
        finally:
            self._session.close()
            self._session = None
        if isinstance(exc, StaleDataError):  # an autoflush met a concurrent change
            raise _concurrent_change() from exc
        if changed:
            raise RuntimeError("a read-only unit of work changed records (nothing was written)")

    def commit(self) -> None:
        """Commit the use case's changes as one transaction.

        Raises: ConcurrentUpdateError when another transaction changed the same rows.
        """
        assert self._session is not None
        if self._read_bind is not None:
            raise RuntimeError("a read-only unit of work cannot commit")
        try:
            if self._notes and self._routes is not None:
                write_outbox(
                    self._session, self._notes, self.region_revisions, self._routes,
                    self._notes_at,
                )
                self._notes = []
            # Events queued since the last flush: a flush with nothing else to write may not
            # reach the hook.
            self._place_events(self._session)
            session = self._session
            assert isinstance(session, StepSession)
            # Nothing is written after the step's rows and events but a request's claim: without
            # one, PostgreSQL's COMMIT may travel with them (engine/persistence/pg_trips.py).
            claim = idempotency.pending.get()
            last = claim is None or claim.claimed
            if (self._placed and not self._unplaced
                    and session.flush_with(EVENTS, self._placed, commit=last)):
                self._placed = []  # written with the step's rows (PostgreSQL: one statement)
            else:
                session.flush()  # the use case's own writes first, then the events
            append_events(session, self._unplaced, self._placed)
            self._unplaced, self._placed = [], []
            committed, self._events = self._events, []
            idempotency.claim_in(self._session)  # the request's Idempotency-Key, if any
            self._session.commit()
        except StaleDataError:
            self._session.rollback()
            raise _concurrent_change() from None
        except idempotency.DuplicateClaimError:
            self._session.rollback()
            raise
        idempotency.committed()
        self._tell_observer(committed)

    def _tell_observer(self, committed: list[PendingEvent]) -> None:
        """After the commit only: an observer counts work that is durable, never work a
        rollback undid. Its failure is logged; the commit stands."""
        if self._observer is None or not committed:
            return
        try:
            self._observer.committed(committed)
        except Exception:
            log.exception("the commit observer failed (the commit stands)")

    def flush(self) -> None:
        """Send pending changes (to get generated ids) without committing.

        Raises:
            ConcurrentUpdateError: another transaction changed the same rows.
            AlreadyExistsError: a unique value was taken, e.g. by a concurrent transaction.
        """
        assert self._session is not None
        try:
            self._session.flush()
        except StaleDataError:
            raise _concurrent_change() from None
        except IntegrityError as exc:
            raise AlreadyExistsError("a record with the same unique value exists") from exc


def _concurrent_change() -> ConcurrentUpdateError:
    # Lock conflicts the database reports ("database is locked", deadlocks) are translated
    # where the engine is made (engine/persistence/database.py); this is the ORM's own check.
    return ConcurrentUpdateError(
        "the application was changed by another request at the same time; "
        "nothing was written, reload and try again"
    )
