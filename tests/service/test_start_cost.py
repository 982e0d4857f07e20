"""What starting an application costs the database, counted, and what it refuses.

Starting reads one row (the region's calendar revision, the model of the key and its newest
published version, in one statement) and writes the new application as one INSERT, its
first task rows and its audit events: four statements in a region without notification
channels on SQLite, two on PostgreSQL (the writes folded into one statement, as a step's).
Before, it was eight on SQLite and six on PostgreSQL: the region, the model and the version were three ORM loads, and
reading the calendar revision after the new record was added flushed it early, so the
application was an INSERT and then an UPDATE.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM
from engine.services import applications, calendars, versions
from tests.factories import make_region, make_user, tiny_bpmn, upload
from tests.service.test_step_cost import counting, counting_trips

START_BUDGET = (
    1  # SELECT regions LEFT JOIN process_models, newest published version: the start target
    + 1  # INSERT applications: the whole row, its first state and clock included
    + 1  # INSERT tasks: the first step
    + 1  # INSERT events: application.started and the step's events, one statement
)
# On PostgreSQL the three writes are one statement (engine/persistence/fast_flush.py).
FOLDED_START_BUDGET = 1 + 1
# ... and two round trips: BEGIN with the read, the write with COMMIT (persistence/pg_trips.py).
START_TRIPS = 2


def test_starting_an_application_is_one_read_and_one_insert_per_table(
    ctx: EngineContext,
) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn())
    counter, _ = make_user(ctx, "front-office")
    applications.start_application(ctx, counter, "3273", "tiny", {}, {})  # warm the caches
    engine: Engine = ctx.session_factory.kw["bind"]
    with counting(engine) as statements, counting_trips() as trips:
        started = applications.start_application(ctx, counter, "3273", "tiny", {"n": 1}, {})
    shapes = [re.match(r"\s*(SELECT|WITH|INSERT INTO \w+|UPDATE \w+)", s) for s in statements]
    writes = ["INSERT INTO applications", "INSERT INTO tasks", "INSERT INTO events"]
    if engine.dialect.name == "postgresql":  # the three writes are one statement
        assert [m.group(1) if m else s[:40] for m, s in zip(shapes, statements, strict=True)] == [
            "SELECT", "WITH"]
        assert [w for w in writes if w in statements[1]] == writes
        assert len(statements) == FOLDED_START_BUDGET
        assert len(trips) == START_TRIPS
    else:
        assert [m.group(1) if m else s[:40] for m, s in zip(shapes, statements, strict=True)] == [
            "SELECT", *writes]
        assert len(statements) == START_BUDGET
    # What the one INSERT wrote is what the ORM's INSERT and later UPDATE wrote before.
    read = applications.get_application(ctx, counter, started.id)
    assert read.status == "running" and read.applicant == {"n": 1}
    assert [(t.element_id, t.due_at) for t in read.tasks if t.state == "ready"] == [
        ("step_1", started.tasks[0].due_at)]
    assert [e.action for e in read.history][:1] == ["application.started"]


def test_a_start_uses_the_calendar_of_the_revision_it_read(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(sla="P1D"))
    counter, _ = make_user(ctx, "front-office")
    first = applications.start_application(ctx, counter, "3273", "tiny", {}, {})
    due = first.tasks[0].due_at
    assert due is not None
    # Close the step's due day: a later start (its clock in the same office day) is due
    # one working day later, on the calendar of the new revision (cached by revision).
    day = due.astimezone(ZoneInfo("Asia/Jakarta")).date()
    calendars.set_overrides(ctx, SYSTEM, "3273", day.year, [
        {"day": day.isoformat(), "kind": "closed", "reason": "uji"}])
    second = applications.start_application(ctx, counter, "3273", "tiny", {}, {})
    assert second.tasks[0].due_at is not None and second.tasks[0].due_at > due


def test_start_refusals_name_what_is_missing(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    make_region(ctx, "3510")
    upload(ctx, "3273", tiny_bpmn())
    counter, _ = make_user(ctx, "front-office")
    elsewhere, _ = make_user(ctx, "front-office", region="3510")
    analyst, _ = make_user(ctx, "analyst")

    with pytest.raises(errors.NotFoundError, match="region 9999 not found"):
        applications.start_application(ctx, counter, "9999", "tiny", {}, {})
    with pytest.raises(errors.NotFoundError, match="region 3273 not found"):
        applications.start_application(ctx, elsewhere, "3273", "tiny", {}, {})
    with pytest.raises(errors.NotFoundError, match="process model nope not found"):
        applications.start_application(ctx, counter, "3273", "nope", {}, {})
    versions.retire_version(ctx, analyst, "3273", "tiny", 1)
    with pytest.raises(errors.ModelNotPublishedError, match="no published version"):
        applications.start_application(ctx, counter, "3273", "tiny", {}, {})
    upload(ctx, "3273", tiny_bpmn(steps=1))  # version 2, published: starts on it
    assert applications.start_application(ctx, counter, "3273", "tiny", {}, {}).version == 2
