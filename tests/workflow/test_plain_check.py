"""The plain-JSON check before orjson writes a state skips only the texts of task dicts.

`serialization._plain_detached` walks everything of a state but each task's id, parent,
children, spec name and type name (and the task dicts' own containers); a typed value
anywhere else must still send the state the standard library's way (tagged).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.modeling import compile_model
from engine.modeling.package import read_package_dir
from engine.workflow import serialization
from engine.workflow.runtime import WorkflowRuntime
from engine.workflow.serialization import WorkflowCodec
from engine.workflow.spiff_compat import all_tasks
from tests.factories import ROOT

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
PBG = ROOT / "process_models" / "3273" / "pbg"
TYPED = uuid.UUID(int=7)
CHECKED = ("last_state_change", "state", "triggered", "internal_data", "data", "delta")


def _workflow() -> tuple[WorkflowRuntime, Any, Any]:
    scenario = json.loads((PBG / "scenarios" / "happy_path.json").read_text())
    runtime = WorkflowRuntime()
    loaded = runtime.load_spec("pbg", compile_model(read_package_dir(PBG)).spec)
    outcome = runtime.start(loaded, scenario["data"], NOW)
    step = scenario["steps"][0]
    ready = {s.element_id: s for s in outcome.steps if s.state == "ready"}
    outcome = runtime.complete(loaded, outcome.state, ready[step["task"]].task_id,
                               step["data"], NOW)
    return runtime, loaded, runtime.restore(loaded, outcome.state)


def _put_in_root_data(workflow: Any) -> None:
    workflow.task_tree.data["typed"] = TYPED


def _put_in_a_tasks_own_data(workflow: Any) -> None:
    all_tasks(workflow)[-1].data["typed"] = TYPED  # saved in its delta


def _put_in_internal_data(workflow: Any) -> None:
    all_tasks(workflow)[-1].internal_data["typed"] = TYPED


def _put_in_workflow_data(workflow: Any) -> None:
    workflow.data["typed"] = TYPED


@pytest.mark.parametrize("put", [_put_in_root_data, _put_in_a_tasks_own_data,
                                 _put_in_internal_data, _put_in_workflow_data])
def test_a_typed_value_anywhere_but_the_task_texts_is_written_tagged(put: Any) -> None:
    _, _, workflow = _workflow()
    put(workflow)
    state = WorkflowCodec().state_to_dict(workflow)
    assert '"typename":"UUID"' in state.text  # the standard library's way, tagged
    assert '"00000000-0000-0000-0000-000000000007"' in state.text


def test_what_the_check_skips_is_text_in_every_saved_task() -> None:
    _, _, workflow = _workflow()
    codec = WorkflowCodec()
    registry = codec._serializer.registry
    registry._encoder_mode = True  # as `state_to_dict` converts
    try:
        dct = codec._serializer.to_dict(workflow)
    finally:
        registry._encoder_mode = False
    serialization._order_tasks(dct)
    skipped = 0
    for scope in (dct, *dct["subprocesses"].values()):
        for key, task in scope["ordered_tasks"]:
            assert type(key) is str
            for name, value in task.items():
                if name not in CHECKED:
                    skipped += 1
                    assert value is None or type(value) is str or (
                        type(value) is list and all(type(v) is str for v in value)), name
    assert skipped
    assert serialization._plain_detached(dct)
