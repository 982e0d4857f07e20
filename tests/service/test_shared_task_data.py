"""A script cannot hide an unstorable value in the data of a task that finished earlier.

SpiffWorkflow gives a child task shallow copies of its parent's values, so the nested list
`a["b"]` of step 1 (finished in an earlier call) is the very list step 2's post-script sees.
The script changes it in place and drops its own name `a`: only step 1's data, saved again
with the state, still holds the value. Every task's data is measured (`state_bounds`), and
so is the fallback state, where the step's post-script runs again: the completion is
refused, nothing is written. Before, the value was saved (or, for the shared halves, the
serializer wrote 2**50 items).
"""

from __future__ import annotations

import html
import json

import pytest

from engine.context import EngineContext
from engine.domain import errors
from engine.services import applications, tasks
from tests.factories import make_region, make_user, tiny_bpmn, upload

SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
HIDDEN = {
    "NUL in text": 'a["b"].append(chr(0))',
    "lone surrogate": 'a["b"].append(chr(0xD800))',
    "nan": 'a["b"].append(float("nan"))',
    "huge int": 'a["b"].append(10 ** 30)',
    "date": 'a["b"].append(date(2027, 1, 4))',
    "deep nesting": "x = []\nfor i in range(100):\n    x = [x]\na['b'].append(x)\ndel x",
    "shared halves": "x = []\nfor i in range(50):\n    x = [x, x]\na['b'].append(x)\ndel x",
    "itself": 'a["b"].append(a["b"])',
}


def _with_post_script(script: str) -> bytes:
    """Three steps in a line; step 2 runs `script` when it completes, then drops `a`."""
    opening = b'<bpmn:userTask id="step_2" name="Langkah 2"><bpmn:extensionElements>'
    post = f'<spiffworkflow:postScript xmlns:spiffworkflow="{SPIFF}">'
    post += html.escape(script + "\ndel a") + "</spiffworkflow:postScript>"
    bpmn = tiny_bpmn(steps=3)
    assert opening in bpmn
    return bpmn.replace(opening, opening + post.encode())


def _saved_state(ctx: EngineContext, app_id) -> str:
    with ctx.uow() as uow:
        record = uow.repos.applications.get(app_id)
        assert record is not None
        return json.dumps(record.state, allow_nan=False)


@pytest.mark.parametrize("script", HIDDEN.values(), ids=HIDDEN.keys())
def test_a_post_script_cannot_hide_a_value_in_a_finished_tasks_data(
    ctx: EngineContext, script: str
) -> None:
    make_region(ctx, "3273")
    officer, _ = make_user(ctx, "front-office")
    upload(ctx, "3273", _with_post_script(script))
    app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
    app = tasks.complete_task(ctx, officer, app.tasks[0].id, {"a": {"b": ["ok"]}})
    before = _saved_state(ctx, app.id)
    (second,) = [t for t in app.tasks if t.state == "ready"]
    with pytest.raises(errors.InvalidInputError) as refused:
        tasks.complete_task(ctx, officer, second.id, {"note": "lanjut"})
    assert "/a/b/1" in refused.value.problems[0].message
    after = _saved_state(ctx, app.id)
    assert after == before and "\\u0000" not in after and "\\ud800" not in after


def test_the_same_post_script_with_a_storable_value_completes(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    officer, _ = make_user(ctx, "front-office")
    upload(ctx, "3273", _with_post_script('a["b"].append("fine")'))
    app = applications.start_application(ctx, officer, "3273", "tiny", {}, {})
    app = tasks.complete_task(ctx, officer, app.tasks[0].id, {"a": {"b": ["ok"]}})
    (second,) = [t for t in app.tasks if t.state == "ready"]
    done = tasks.complete_task(ctx, officer, second.id, {"note": "lanjut"})
    assert done.status == "running" and done.error is None
    assert '"fine"' in _saved_state(ctx, app.id)  # kept in step 1's data, as SpiffWorkflow does
