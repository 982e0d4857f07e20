"""What an external-task worker sends and gets back: the limits of a request, its checks,
and the answers (the use cases are engine/services/external_tasks.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.domain.errors import InvalidInputError
from engine.domain.formats import NON_BLANK
from engine.domain.problems import Problem
from engine.domain.storable import data_problems
from engine.persistence.tables import ApplicationRecord, ExternalTaskRecord

MAX_TASKS = 100
MAX_LOCK_MS = 7 * 24 * 3600 * 1000  # a week
MAX_VARIABLES_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class TopicRequest:
    """A topic a worker fetches, and how long (milliseconds) it locks what it gets."""

    name: str
    lock_duration: int


@dataclass(frozen=True, slots=True)
class LockedTask:
    """An external task handed to a worker, with the data its service task sees."""

    id: uuid.UUID
    topic: str
    worker_id: str
    lock_expires_at: datetime
    retries: int | None
    error_message: str | None
    application_id: uuid.UUID
    process_key: str
    element_id: str
    region: str
    variables: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ExternalTaskView:
    """An external task as a worker's answer left it."""

    id: uuid.UUID
    topic: str
    status: str
    worker_id: str | None
    lock_expires_at: datetime | None
    retries: int | None
    error_message: str | None
    application_id: uuid.UUID
    element_id: str
    region: str


def check_fetch(worker_id: str, topics: Sequence[TopicRequest], max_tasks: int) -> None:
    problems = []
    if not NON_BLANK.matches(worker_id):
        problems.append(Problem("required", field="worker_id"))
    if not topics:
        problems.append(Problem("name at least one topic", field="topics"))
    for topic in topics:
        if not NON_BLANK.matches(topic.name):
            problems.append(Problem("a topic needs a name", field="topics"))
        if not 0 < topic.lock_duration <= MAX_LOCK_MS:
            problems.append(
                Problem(f"lock_duration is milliseconds, 1 to {MAX_LOCK_MS}", field="lock_duration")
            )
    if not 0 < max_tasks <= MAX_TASKS:
        problems.append(Problem(f"max_tasks is 1 to {MAX_TASKS}", field="max_tasks"))
    if problems:
        raise InvalidInputError("the fetch cannot be done", problems)


def check_duration(value: int, field: str) -> None:
    if not 0 < value <= MAX_LOCK_MS:
        raise InvalidInputError(
            "the lock cannot be extended",
            [Problem(f"milliseconds, 1 to {MAX_LOCK_MS}", field=field)],
        )


def check_variables(variables: Any) -> None:
    problems = data_problems(variables, "variables", MAX_VARIABLES_BYTES)
    if problems:
        raise InvalidInputError("the variables cannot be taken", problems)


def task_view(row: ExternalTaskRecord) -> ExternalTaskView:
    return ExternalTaskView(
        id=row.id,
        topic=row.topic,
        status=row.status,
        worker_id=row.worker_id,
        lock_expires_at=row.lock_expires_at,
        retries=row.retries,
        error_message=row.error_message,
        application_id=row.application_id,
        element_id=row.element_id,
        region=row.region_code,
    )


def locked_view(
    row: ExternalTaskRecord, app: ApplicationRecord, variables: dict[str, Any]
) -> LockedTask:
    assert row.worker_id is not None and row.lock_expires_at is not None
    return LockedTask(
        id=row.id,
        topic=row.topic,
        worker_id=row.worker_id,
        lock_expires_at=row.lock_expires_at,
        retries=row.retries,
        error_message=row.error_message,
        application_id=app.id,
        process_key=app.process_key,
        element_id=row.element_id,
        region=row.region_code,
        variables=variables,
    )
