"""`applications.state`: `json`, then `text` (lz4) on PostgreSQL, and every state survives it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from engine.context import EngineContext
from engine.domain.encoded_json import EncodedJson
from engine.modeling import compile_model
from engine.modeling.package import read_package_dir
from engine.persistence.schema import downgrade, upgrade
from engine.persistence.tables import ApplicationRecord
from engine.services import applications
from engine.workflow.runtime import WorkflowRuntime
from tests.factories import ROOT, make_region, make_user, tiny_bpmn, upload

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
SCENARIOS = sorted((ROOT / "process_models").glob("*/*/scenarios/*.json"))


def _application(ctx: EngineContext) -> uuid.UUID:
    region = make_region(ctx)
    actor, _ = make_user(ctx, "front-office", region=region)
    upload(ctx, region, tiny_bpmn("tiny"))
    return applications.start_application(ctx, actor, region, "tiny", {}, {}).id


def _store(ctx: EngineContext, app_id: uuid.UUID, state: dict[str, Any]) -> None:
    with ctx.session_factory() as session:
        session.get_one(ApplicationRecord, app_id).state = state
        session.commit()


def _stored(ctx: EngineContext, app_id: uuid.UUID) -> tuple[dict[str, Any], str]:
    """The state as the mapped column reads it, and its text as the database holds it."""
    key = app_id.hex if ctx.session_factory.kw["bind"].dialect.name == "sqlite" else app_id
    with ctx.session_factory() as session:
        state = session.get_one(ApplicationRecord, app_id).state
        raw = session.execute(
            text("SELECT CAST(state AS TEXT) FROM applications WHERE id = :id"), {"id": key}
        ).scalar_one()
    return state, raw


@pytest.mark.parametrize("scenario_file", SCENARIOS, ids=lambda p: f"{p.parts[-3]}/{p.stem}")
def test_every_shipped_scenario_state_round_trips_through_the_column(
    ctx: EngineContext, scenario_file: Path
) -> None:
    app_id = _application(ctx)
    scenario = json.loads(scenario_file.read_text())
    runtime = WorkflowRuntime()
    loaded = runtime.load_spec("rt", compile_model(read_package_dir(scenario_file.parents[1])).spec)
    outcome = runtime.start(loaded, scenario["data"], NOW)
    for step in [*scenario["steps"], None]:
        _store(ctx, app_id, outcome.state)
        state, raw = _stored(ctx, app_id)
        assert state == outcome.state
        assert json.loads(raw) == outcome.state  # the standard library reads the same
        if step is None:
            break
        ready = {s.element_id: s for s in outcome.steps if s.state == "ready"}
        # The next step runs on what the database gave back.
        outcome = runtime.complete(loaded, state, ready[step["task"]].task_id, step["data"], NOW)
        assert outcome.error is None, outcome.error
    assert outcome.completed


def _column(ctx: EngineContext) -> tuple[str, str]:
    with ctx.session_factory() as session:
        row = session.execute(
            text(
                "SELECT format_type(atttypid, atttypmod), attcompression FROM pg_attribute "
                "WHERE attrelid = 'applications'::regclass AND attname = 'state'"
            )
        ).one()
    return row[0], row[1]


def _has_lz4(ctx: EngineContext) -> bool:
    with ctx.session_factory() as session:
        try:
            session.execute(text("SET LOCAL default_toast_compression = lz4"))
        except Exception:  # a server built without lz4 refuses the setting
            return False
        finally:
            session.rollback()
    return True


def test_migration_0020_keeps_every_state_both_ways(ctx: EngineContext, db_url: str) -> None:
    app_id = _application(ctx)
    before, _ = _stored(ctx, app_id)
    postgres = ctx.session_factory.kw["bind"].dialect.name == "postgresql"
    if postgres:  # text since migration 0023
        assert _column(ctx) == ("text", "l" if _has_lz4(ctx) else "")

    downgrade(db_url, "0019_listing_indexes")
    state, raw = _stored(ctx, app_id)
    assert state == before and json.loads(raw) == before
    if postgres:
        assert _column(ctx) == ("jsonb", "")

    upgrade(db_url)
    state, raw = _stored(ctx, app_id)
    assert state == before and json.loads(raw) == before
    if postgres:
        assert _column(ctx)[0] == "text"
    # The workflow goes on from the migrated state.
    actor, _ = make_user(ctx, "front-office")
    view = applications.get_application(ctx, actor, app_id)
    assert [t.element_id for t in view.tasks if t.state == "ready"] == ["step_1"]


def test_migration_0023_keeps_every_state_both_ways(ctx: EngineContext, db_url: str) -> None:
    """0023 makes the column `text` (no JSON check per write); the documents stay as written."""
    app_id = _application(ctx)
    before = _stored(ctx, app_id)
    postgres = ctx.session_factory.kw["bind"].dialect.name == "postgresql"
    downgrade(db_url, "0022_drop_events_region_index")
    try:
        assert _stored(ctx, app_id) == before  # the head's column reads a `json` column too
        if postgres:
            assert _column(ctx) == ("json", "l" if _has_lz4(ctx) else "")
    finally:
        upgrade(db_url)
    assert _stored(ctx, app_id) == before
    if postgres:
        assert _column(ctx) == ("text", "l" if _has_lz4(ctx) else "")
    actor, _ = make_user(ctx, "front-office")
    view = applications.get_application(ctx, actor, app_id)
    assert [t.element_id for t in view.tasks if t.state == "ready"] == ["step_1"]


def test_a_state_encoded_by_the_runtime_is_written_as_its_text(ctx: EngineContext) -> None:
    """The column binds an `EncodedJson`'s text as it is (not encoding the dict again),
    and a plain dict as before."""
    app_id = _application(ctx)
    _store(ctx, app_id, EncodedJson({"a": [1, "é"]}, '{"a": [1, "\\u00e9"]}'))
    assert _stored(ctx, app_id) == ({"a": [1, "é"]}, '{"a": [1, "\\u00e9"]}')
    _store(ctx, app_id, {"b": [1, "é"]})
    assert _stored(ctx, app_id) == ({"b": [1, "é"]}, '{"b":[1,"é"]}')
