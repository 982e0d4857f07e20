"""What went wrong in a run, in words an analyst can act on: the element and the cause.

SpiffWorkflow's own messages name data objects by element id, gateways not at all
("No conditions satisfied for ...", with the spec but not the task), and so on; these
become plain sentences here. The rest pass through with their element id and line.
"""

from __future__ import annotations

import re
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask

from engine.workflow.spiff_compat import task_of

_GATEWAYS = ((ExclusiveGateway, "exclusive"), (InclusiveGateway, "inclusive"))


def describe_error(exc: BaseException) -> dict[str, Any]:
    """{message, type, element_id?, line?} of an error a run raised."""
    task = task_of(exc)
    # An exclusive gateway's "no condition" error carries its spec, not its task (3.2.0).
    spec = getattr(task, "task_spec", None) or getattr(exc, "task_spec", None)
    message = (
        _data_message(exc, spec) or _gateway_message(exc, spec)
        or _collection_message(exc, spec) or _name_message(str(exc)) or str(exc)
        or type(exc).__name__
    )
    error: dict[str, Any] = {"message": message, "type": type(exc).__name__}
    if spec is not None:
        error["element_id"] = spec.bpmn_id or spec.name
    line = getattr(exc, "line_number", None)
    if isinstance(line, int) and line > 0:
        error["line"] = line
    return error


def _data_message(exc: BaseException, spec: Any) -> str | None:
    """SpiffWorkflow's data-object errors in plain words: which step, which data object,
    under which key of the step's data (3.2.0 keys a data object by its element id)."""
    if not isinstance(exc, WorkflowDataException) or spec is None:
        return None
    step = spec.bpmn_name or spec.bpmn_id
    if exc.data_output is not None:
        item = exc.data_output
        return (
            f"step {step!r} should leave a value for the data object "
            f"{item.bpmn_name or item.bpmn_id!r} (under the key {item.bpmn_id!r} of its data) "
            "and did not: give that key in the step's data or remove the data association"
        )
    if exc.data_input is not None:
        item = exc.data_input
        return (
            f"step {step!r} reads the data object {item.bpmn_name or item.bpmn_id!r} "
            f"(key {item.bpmn_id!r}), which has no value yet: an earlier step must set it"
        )
    return None


def _gateway_message(exc: BaseException, spec: Any) -> str | None:
    """A gateway none of whose conditions holds, without a default flow."""
    kind = next((k for cls, k in _GATEWAYS if isinstance(spec, cls)), None)
    if kind is None or not str(exc).startswith("No conditions satisfied"):
        return None
    name = f"{spec.bpmn_name!r} ({spec.bpmn_id})" if spec.bpmn_name else repr(spec.bpmn_id)
    return (
        f"no condition of the {kind} gateway {name} holds and it has no default flow: "
        "give it a default flow or a condition for this case"
    )


def _collection_message(exc: BaseException, spec: Any) -> str | None:
    """A multi-instance step whose input collection is not in the data (3.2.0: a bare
    "'NoneType' object is not iterable")."""
    if not isinstance(spec, MultiInstanceTask) or not isinstance(exc, TypeError):
        return None
    source = spec.data_input.bpmn_id if spec.data_input is not None else None
    if source is None:
        return None
    step = spec.bpmn_name or spec.bpmn_id
    return (
        f"the multi-instance step {step!r} runs once per item of {source!r}, which is not "
        f"a list in the process data: an earlier step or the start data must set {source!r}"
    )


_MISSING_NAME = re.compile(r"NameError:\s*name '(?P<name>\w+)' is not defined")
_EXPRESSION = re.compile(r"^Error evaluating expression '(?P<expression>.*?)'\.")
_SCRIPT_PART = {"Pre-Script": "the pre-script", "Post-Script": "the post-script"}


def _name_message(text: str) -> str | None:
    """An expression or script reading a variable the data does not have (3.2.0: "Error
    evaluating expression 'x > 1'. . NameError:name 'x' is not defined")."""
    missing = _MISSING_NAME.search(text)
    if missing is None:
        return None
    name = missing["name"]
    where = next((w for k, w in _SCRIPT_PART.items() if k in text), "the script")
    if expression := _EXPRESSION.match(text):
        where = f"the expression {expression['expression']!r}"
    return (
        f"{where} reads {name!r}, which is not in the process data: an earlier step, the "
        "start data or a retry with that value must set it"
    )
