"""What every service needs, built once per process and passed in (never global)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.documents import DocumentSettings, KeyStore
from engine.domain.notifications import DeliverySettings
from engine.domain.observers import CommitObserver
from engine.persistence.blob_store import BlobStore
from engine.persistence.database import read_only_bind, snapshot_bind
from engine.unit_of_work import UnitOfWork
from engine.workflow.live_cache import LiveWorkflows
from engine.workflow.runtime import WorkflowRuntime
from forms import FormValidator


def utcnow() -> datetime:
    """The real clock, aware UTC."""
    return datetime.now(UTC)


class BoundedCache:
    """A bounded, thread-safe LRU map for values that never change under their key.

    Keys must name an immutable thing: a model version id, a region's calendar revision.
    """

    def __init__(self, size: int = 512) -> None:
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class TokenCache:
    """Actors of recently authenticated bearer tokens (by the token's hash), each kept for
    `seconds` of real time (0: no cache), so a request costs no token query.

    A revocation, a disabled user or a change of roles or powers made through this process
    clears it at once; one made through another process is seen within `seconds`.
    """

    def __init__(
        self,
        seconds: float = 0.0,
        size: int = 4096,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._size = size
        self._monotonic = monotonic
        self._lock = Lock()

    def get(self, key: str) -> Any:
        if self.seconds <= 0:
            return None
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            if self._monotonic() - found[0] >= self.seconds:
                del self._items[key]
                return None
            return found[1]

    def put(self, key: str, value: Any) -> None:
        if self.seconds <= 0:
            return
        with self._lock:
            self._items[key] = (self._monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass
class EngineContext:
    """The dependencies of the use cases: database, workflow runtime, forms, clock."""

    session_factory: sessionmaker[Session]
    runtime: WorkflowRuntime
    forms: FormValidator = field(default_factory=FormValidator)
    clock: Callable[[], datetime] = utcnow
    # Per process and per database (tests run several databases in one process).
    versions: BoundedCache = field(default_factory=BoundedCache)  # version id -> VersionFacts
    calendars: BoundedCache = field(default_factory=BoundedCache)  # (region, revision) -> cal.
    # ("channels", region, revision) -> the region's notification channel routes.
    channels: BoundedCache = field(default_factory=BoundedCache)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    tokens: TokenCache = field(default_factory=TokenCache)  # token hash -> actor (off: 0 s)
    # Applications' live workflows by row version, for the next step (size 0: off).
    live: LiveWorkflows = field(default_factory=LiveWorkflows)

    # A hot standby for the use cases that only read (`reader()`): inbox, tracking, catalog,
    # reports. None: they read from the primary like everything else.
    replica: Engine | None = None
    # Told what each committed unit of work recorded (api/metrics.py counts it); None: nobody.
    observer: CommitObserver | None = None
    # Issued documents: the key directory and the public address the QR codes point to.
    documents: DocumentSettings = field(
        default_factory=lambda: DocumentSettings(KeyStore(Path("var/signing-keys")))
    )

    # Applicants' documents: where their bytes are kept (None: uploads answer 503), and the
    # largest document taken, in bytes.
    blobs: BlobStore | None = None
    document_max_bytes: int = 10 * 1024 * 1024

    def __post_init__(self) -> None:
        self._read_bind = read_only_bind(self.replica or self.session_factory.kw["bind"])
        self._primary_read_bind = read_only_bind(self.session_factory.kw["bind"])
        self._snapshot_bind = snapshot_bind(self.session_factory.kw["bind"])

    def uow(self) -> UnitOfWork:
        """A fresh unit of work (one per use case)."""
        return UnitOfWork(self.session_factory, observer=self.observer, routes=self.channels,
                          documents=self.documents)

    def reader(self) -> UnitOfWork:
        """A unit of work for a use case that only reads: no transaction to open or close
        on PostgreSQL, no write lock on SQLite; committing it is an error."""
        return UnitOfWork(self.session_factory, self._read_bind)

    def primary_reader(self) -> UnitOfWork:
        """Like `reader`, but always on the primary: reads that must see the latest commit
        (idempotency keys, entity tags, readiness), even when `reader` uses a standby."""
        return UnitOfWork(self.session_factory, self._primary_read_bind)

    def snapshot(self) -> UnitOfWork:
        """Like `reader`, but every statement sees the same moment (verifying a chain while
        it grows must not mistake a new event for one the head does not know)."""
        return UnitOfWork(self.session_factory, self._snapshot_bind)
