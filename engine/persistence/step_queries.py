"""The task rows one step reads: the step's own row, the rows it changed, its ready page.

A step never reads all of its application's task rows: a parallel step of 300 instances
would read 300 rows at each of its 300 completions (issue #16). Task data (the largest
column) is not loaded: a step only writes it.

The lock read and the ready page build their records from plain rows (`_record`) the way
the ORM's loading does: the same SQL, its autoflush first, the session's own record for a
row it holds, else a new record, persistent and clean, its deferred column read when first
read. The ORM's loading cost about 0.09 ms of a ~3 ms step in the lock read alone (issue
#16, A/B on SQLite). While anyone listens for the ORM's load events, the ORM loads.
SQLAlchemy internals used, only here: `IdentityMap._add_unpresent` and `InstanceState`'s
`key`, `identity_token` and `session_id`, set as `sqlalchemy.orm.loading._instance` sets
them. tests/service/test_step_lock_read.py checks the records are those the ORM loads.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    String,
    bindparam,
    exists,
    func,
    inspect,
    literal_column,
    select,
)
from sqlalchemy.orm import Mapper, Session, aliased, defer, undefer
from sqlalchemy.orm.attributes import instance_state

from engine.domain.definitions import APPLICANT_ROLES
from engine.domain.statuses import StepStatus
from engine.persistence import pg_trips, sla_clauses
from engine.persistence.base import BaseRepository
from engine.persistence.tables import ApplicationRecord, FeeItemRecord, RegionRecord, TaskRecord


@dataclass(frozen=True, slots=True)
class ReadyPage:
    """The first ready rows of an application (in the inbox's order: ready_at, element_id,
    id), and what holds for all of its ready rows."""

    rows: list[TaskRecord]
    count: int
    waits_on_applicant: bool  # a ready step belongs to an applicant role
    overdue: bool  # a ready step is overdue (`sla.step_overdue`)
    fee_items: bool  # the application has fee items


@dataclass(frozen=True, slots=True)
class LockedStep:
    """What a step reads first: its application and task row (locked), the region's
    calendar revision, whether the application has fee items."""

    application: ApplicationRecord
    calendar_revision: int
    task: TaskRecord
    fee_items: bool


class StepQueries(BaseRepository):
    def locked(self, task_id: uuid.UUID) -> LockedStep | None:
        """The task's application and its row, both locked until commit, its region's
        calendar revision, and whether the application has fee items: one statement.

        Both rows are locked (the application's first: every use case takes it before any
        of its task rows), so a step that waited for a concurrent one reads the row as that
        one left it: PostgreSQL re-reads only the rows it locks after a wait.
        """
        session = self.session
        if session.identity_map or session.new or _load_events(session):  # the ORM loads
            found = session.execute(_LOCKED, {"task_id": task_id}).first()
            if found is None:
                return None
            return LockedStep(found[0], int(found[1]), found[2], bool(found[3]))
        # Compiled once, run as driver SQL; on PostgreSQL BEGIN travels with it (pg_trips).
        row = pg_trips.first_row(session.connection(), _LOCKED_ROW, {"task_id": task_id})
        if row is None:
            return None
        app = _record(session, _APPLICATION, row)
        task = _record(session, _TASK, row)
        return LockedStep(app, int(row[_REVISION]), task, bool(row[_FEE_ITEMS_AT]))

    def locked_application(self, application_id: uuid.UUID) -> ApplicationRecord | None:
        """The application, its row locked until commit, without its workflow state: for a
        use case that changes the row but never runs the workflow (a claim, a payment, an
        external task's lock), which carries the live one instead (`live_steps`). Read
        again even when the session holds it (it may have changed while this one waited)."""
        return self.session.scalars(_APPLICATION_LOCKED, {"id": application_id}).first()

    def application_as_saved(self, application_id: uuid.UUID) -> ApplicationRecord | None:
        """The application with its workflow state, not locked: its `row_version` and
        `state` from one read, so they are the row as one commit left it (a deferred
        state loaded later may be a later commit's)."""
        return self.session.scalars(_APPLICATION_AS_SAVED, {"id": application_id}).first()

    def rows(self, ids: Collection[uuid.UUID]) -> Sequence[TaskRecord]:
        """The rows of these tasks that exist."""
        return self.session.scalars(_ROWS, {"ids": list(ids)}).all()

    def ready_page(self, application_id: uuid.UUID, now: datetime, limit: int) -> ReadyPage:
        """One statement: the first `limit` ready rows, their count and flags over all (read
        through indexes: its cost does not grow with the ready rows past the page).

        Read as the ORM would (its autoflush first, the session's own record for a row it
        holds), the other records built from the plain row (`_record`).
        """
        session, params = self.session, {"application_id": application_id, "now": now,
                                         "limit": limit}
        if _load_events(session):
            found = session.execute(_READY_PAGE, params).all()
            rows = [r[0] for r in found]
        else:
            if session.autoflush:
                session.flush()  # what the ORM's query does first: the rows this step wrote
            found = session.connection().execute(_READY_ROWS, params).all()
            rows = [_record(session, _TASK_ROW, r) for r in found]
        if not found:
            fee_items = session.scalar(_FEE_ITEMS, {"application_id": application_id})
            return ReadyPage([], 0, False, False, bool(fee_items))
        total, applicant, overdue, fee_items = found[0][-4:]
        return ReadyPage(rows, int(total), bool(applicant), bool(overdue), bool(fee_items))


_FEE_ITEMS_OF_TASK = (
    exists().where(FeeItemRecord.application_id == TaskRecord.application_id).label("fee_items")
)
# The workflow state stays out (often 10+ KB of JSON): a step whose live workflow is cached
# never reads it (engine/workflow/live_cache.py); one that misses loads it when it reads it.
_LOCKED = (
    select(ApplicationRecord, RegionRecord.calendar_revision, TaskRecord, _FEE_ITEMS_OF_TASK)
    .options(defer(ApplicationRecord.state), defer(TaskRecord.data))
    .join(TaskRecord, TaskRecord.application_id == ApplicationRecord.id)
    .join(RegionRecord, RegionRecord.code == ApplicationRecord.region_code)
    .where(TaskRecord.id == bindparam("task_id"))
    .with_for_update(of=[ApplicationRecord, TaskRecord])
)


@dataclass(frozen=True, slots=True)
class _Columns:
    """Where one record's loaded columns sit in a Core row, and the one left unloaded."""

    mapper: Mapper[Any]
    keys: tuple[str, ...]  # attribute names, in row order
    columns: tuple[ColumnElement[Any], ...]
    start: int  # the row index of the first
    pk: int  # the row index of the primary key
    unloaded: str  # deferred: loaded (one SELECT) when first read, as `defer()` does


def _columns(record: type, unloaded: str, start: int) -> _Columns:
    mapper: Mapper[Any] = inspect(record)
    props = [p for p in mapper.column_attrs if p.key != unloaded]
    columns = tuple(p.columns[0] for p in props)
    # One plain column each (no SQL expression, no composite), the mapper's own table's.
    assert all(len(p.columns) == 1 for p in props)
    assert all(isinstance(c, Column) and c.table is mapper.local_table for c in columns)
    (pk,) = mapper.primary_key
    keys = tuple(p.key for p in props)
    return _Columns(mapper, keys, columns, start, start + columns.index(pk), unloaded)


def _load_events(session: Session) -> bool:
    """Whether anyone listens for the ORM's loads of these records (a test counting the rows
    a step reads): then the ORM loads them, and its events say so."""
    return bool(_APPLICATION_EVENTS.load or _TASK_EVENTS.load
                or session.dispatch.loaded_as_persistent)


def _record(session: Session, at: _Columns, row: Sequence[Any]) -> Any:
    """The record of `row`'s columns `at`, persistent in `session` as if the ORM had loaded
    it with its `unloaded` column deferred: in the identity map, clean, that column loaded
    on first access. A record the session holds already is returned as it is (the ORM's
    loading does the same without `populate_existing`)."""
    key = (at.mapper.class_, (row[at.pk],), None)
    held = session.identity_map.get(key)
    if held is not None:
        return held
    record = at.mapper.class_manager.new_instance()
    state = instance_state(record)
    state.dict.update(zip(at.keys, row[at.start:at.start + len(at.keys)], strict=True))
    state.key, state.identity_token, state.session_id = key, None, session.hash_key
    session.identity_map._add_unpresent(state, key)  # see the module's doc
    state.expired_attributes.add(at.unloaded)
    return record


_APPLICATION = _columns(ApplicationRecord, "state", 0)
_APPLICATION_EVENTS = _APPLICATION.mapper.class_manager.dispatch
_REVISION = len(_APPLICATION.keys)
_TASK = _columns(TaskRecord, "data", _REVISION + 1)
_TASK_EVENTS = _TASK.mapper.class_manager.dispatch
_FEE_ITEMS_AT = _TASK.start + len(_TASK.keys)
# `_LOCKED` as plain columns: the same statement, the same locks.
_LOCKED_ROW = (
    select(
        *_APPLICATION.columns,
        RegionRecord.__table__.c.calendar_revision,
        *_TASK.columns,
        exists()
        .where(FeeItemRecord.__table__.c.application_id == TaskRecord.__table__.c.application_id)
        .label("fee_items"),
    )
    .select_from(ApplicationRecord.__table__)
    .join(TaskRecord.__table__, TaskRecord.__table__.c.application_id
          == ApplicationRecord.__table__.c.id)
    .join(RegionRecord.__table__, RegionRecord.__table__.c.code
          == ApplicationRecord.__table__.c.region_code)
    .where(TaskRecord.__table__.c.id == bindparam("task_id"))
    .with_for_update(of=[ApplicationRecord.__table__, TaskRecord.__table__])
)
_APPLICATION_LOCKED = (
    select(ApplicationRecord)
    .options(defer(ApplicationRecord.state))
    .where(ApplicationRecord.id == bindparam("id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_APPLICATION_AS_SAVED = (
    select(ApplicationRecord)
    .options(undefer(ApplicationRecord.state))
    .where(ApplicationRecord.id == bindparam("id"))
    .execution_options(populate_existing=True)
)
_FEE_ITEMS = select(
    exists().where(FeeItemRecord.application_id == bindparam("application_id"))
)
_ROWS = (
    select(TaskRecord)
    .options(defer(TaskRecord.data))
    .where(TaskRecord.id.in_(bindparam("ids", expanding=True)))
)


# The page reads the first `limit` ready rows in order through `ix_tasks_ready_page` and
# stops; what holds for all of them comes from uncorrelated subqueries (run once, before the
# page) on `ix_tasks_ready_flags` (migration 0024), never reading a table row: the count and
# the applicant probe read the application's ready index entries (narrow; no role is an
# applicant's in a fan-out of officers' steps), each overdue probe is one index range.
# Window aggregates over the page's rows made the database build every ready row before
# the LIMIT: the cost of one of 300 parallel completions grew with its open siblings
# (issue #16).
_READY_ALIAS = aliased(TaskRecord, name="ready_tasks")
# The state as the indexes' WHERE writes it, a literal: neither SQLite nor a generic
# PostgreSQL plan matches a bound parameter to a partial index.
_READY_STATE = literal_column(f"'{StepStatus.READY}'", String)
# The application's ready rows as `ix_tasks_ready_flags` holds them (its WHERE: ready, and
# a role, which every row has; the page's query, without it, cannot use that index).
_FLAGS_INDEXED = (
    _READY_ALIAS.application_id == bindparam("application_id"),
    _READY_ALIAS.state == _READY_STATE,
    _READY_ALIAS.role.is_not(None),
)


def _ready(*clauses: ColumnElement[bool]) -> Any:
    """`EXISTS` a ready row of the application where `clauses` hold (another alias of the
    table: never correlated with the page's rows)."""
    return exists().where(*_FLAGS_INDEXED, *clauses)


_READY_FLAGS = (
    select(func.count()).select_from(_READY_ALIAS).where(*_FLAGS_INDEXED).scalar_subquery()
    .label("total"),
    _ready(_READY_ALIAS.role.in_(sorted(APPLICANT_ROLES))).label("applicant"),
    # `sla.step_overdue` of a ready row: a breach recorded, or none and past due (as two
    # index ranges; a breach recorded makes it overdue either way).
    (_ready(_READY_ALIAS.breached_at.is_not(None))
     | _ready(_READY_ALIAS.breached_at.is_(None),
              sla_clauses.past_due(_READY_ALIAS.due_at, bindparam("now")))).label("overdue"),
    exists().where(FeeItemRecord.application_id == bindparam("application_id"))
    .label("fee_items"),
)


def _ready_page(*columns: Any) -> Select[Any]:
    return (
        select(*columns, *_READY_FLAGS)
        .where(
            TaskRecord.application_id == bindparam("application_id"),
            TaskRecord.state == _READY_STATE,
        )
        .order_by(TaskRecord.ready_at, TaskRecord.element_id, TaskRecord.id)
        .limit(bindparam("limit"))
    )


_READY_PAGE = _ready_page(TaskRecord).options(defer(TaskRecord.data))
_TASK_ROW = _columns(TaskRecord, "data", 0)
_READY_ROWS = _ready_page(*_TASK_ROW.columns)  # the same statement, as plain columns
