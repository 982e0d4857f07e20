"""SpiffWorkflow (de)serialization: specs once per model version, states by reference.

SpiffWorkflow's default serializer embeds the whole process spec in every saved state
(55-85 % of the bytes, and half the load cost). We store the spec once with the model
version and save each application's state with the spec left out; restoring joins the
two again. The registry must match the parser (`SPIFF_CONFIG` for `SpiffBpmnParser`).
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task

from engine.domain import json_codec
from engine.domain.encoded_json import EncodedJson
from engine.workflow.call_activities import CalledProcess, CalledProcessConverter
from engine.workflow.external_tasks import ExternalServiceTask, ExternalServiceTaskConverter
from engine.workflow.state_bounds import check_serialized_size
from engine.workflow.task_dicts import flow_to_dict, id_memo


class _SpecRefWorkflowConverter(BpmnWorkflowConverter):
    """Leaves the process spec and sub-process specs out of the saved state; builds the
    tasks' dicts itself (`task_dicts`: what the library's converters return, faster)."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        registry, ids = self.registry, id_memo(workflow)
        dct = flow_to_dict(registry, workflow, ids)
        dct["spec_name"] = workflow.spec.name
        dct["subprocesses"] = {
            str(key): self._subworkflow_to_dict(sub, ids)
            for key, sub in workflow.subprocesses.items()
        }
        dct["bpmn_events"] = registry.convert(workflow.bpmn_events)
        return dct

    def _subworkflow_to_dict(self, sub: Any, ids: dict[Any, str]) -> dict[str, Any]:
        """`BpmnSubWorkflowConverter.to_dict` through the registry, as the library does."""
        registry = self.registry
        if type(sub) is not BpmnSubWorkflow:
            return registry.convert(sub)
        dct = flow_to_dict(registry, sub, ids)
        dct["parent_task_id"] = str(sub.parent_task_id)
        dct["spec"] = sub.spec.name
        dct["typename"] = registry.typenames[BpmnSubWorkflow]
        return dct


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    # `task_dicts` writes what these two converters write (and the test compares them).
    assert config[Task] is TaskConverter
    assert config[BpmnSubWorkflow] is BpmnSubWorkflowConverter
    config[BpmnWorkflow] = _SpecRefWorkflowConverter
    config[ExternalServiceTask] = ExternalServiceTaskConverter
    config[CalledProcess] = CalledProcessConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


class WorkflowCodec:
    """Turns specs and workflow states into JSON-ready dicts and back."""

    def __init__(self) -> None:
        self._serializer = _make_serializer()

    def spec_to_dict(
        self, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]
    ) -> dict[str, Any]:
        """The parsed spec of a model version, for storing once with that version."""
        convert = self._serializer.to_dict
        return {
            "process": convert(spec),
            "subprocesses": {name: convert(sub) for name, sub in subprocess_specs.items()},
        }

    def spec_from_dict(
        self, data: dict[str, Any]
    ) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
        """Inverse of `spec_to_dict` (the dict is not modified)."""
        data = _copy(data)  # the registry pops keys; keep the caller's copy
        restore = self._serializer.from_dict
        subprocesses = {name: restore(sub) for name, sub in data["subprocesses"].items()}
        return restore(data["process"]), subprocesses

    def state_to_dict(
        self, workflow: BpmnWorkflow, max_bytes: int | None = None
    ) -> dict[str, Any]:
        """An application's workflow state, without its spec.

        Raises: StateTooLargeError when it serializes to more than `max_bytes`.
        """
        registry = self._serializer.registry
        registry._encoder_mode = True  # SpiffWorkflow converts datetimes etc. in this mode
        try:
            dct: dict[str, Any] = self._serializer.to_dict(workflow)
        finally:
            registry._encoder_mode = False
        dct[self._serializer.VERSION_KEY] = self._serializer.VERSION
        _order_tasks(dct)
        text, by_orjson = _encode(dct, self._serializer._encoder_cls)
        if max_bytes is not None:
            check_serialized_size(text, max_bytes, workflow)
        # What we return is exactly what a database returns, and it carries the text: the
        # state column writes it without encoding it again. When orjson wrote the text,
        # that is `dct` itself once it holds none of the workflow's own objects (`_detach`;
        # decoding 127 KB costs 0.35 ms and 20,000 objects); else the text decoded.
        if by_orjson:
            return EncodedJson(_detach(dct), text)
        return EncodedJson(json_codec.loads(text), text)

    def state_from_dict(
        self,
        data: dict[str, Any],
        spec: BpmnProcessSpec,
        subprocess_specs: dict[str, BpmnProcessSpec],
    ) -> BpmnWorkflow:
        """Rebuild a workflow from its saved state and its version's spec."""
        dct = self._working_copy(data)
        _unorder_tasks(dct)
        self._serializer.migrate(dct)
        dct.pop("spec_name", None)
        dct["spec"] = spec  # the registry returns non-dict values unchanged
        dct["subprocess_specs"] = dict(subprocess_specs)
        workflow: BpmnWorkflow = self._serializer.from_dict(dct)
        return workflow

    def _working_copy(self, data: dict[str, Any]) -> dict[str, Any]:
        """What restoring may change, copied: the caller's state stays as it was.

        SpiffWorkflow's restore pops keys of the top-level and sub-process dicts and builds
        new containers for task data, so copying those two levels is enough for a state in
        the current format; an older one goes through a full copy before migration.
        """
        if data.get(self._serializer.VERSION_KEY) != self._serializer.VERSION:
            return _copy(data)
        dct = dict(data)
        dct["subprocesses"] = {k: dict(v) for k, v in data.get("subprocesses", {}).items()}
        return dct


def _encode(dct: dict[str, Any], encoder_cls: type[json.JSONEncoder]) -> tuple[str, bool]:
    """The state as JSON text, encoded once, and whether orjson wrote it.

    SpiffWorkflow's encoder class turns the typed values task data may hold (UUIDs,
    datetimes, time spans) into tagged dicts; orjson would write a UUID as plain text. So
    orjson writes the state only when it holds nothing but plain JSON values (checked by
    one walk: 0.4 ms for a 127 KB state, where the standard library takes 0.8-1.1 ms and
    orjson 0.05 ms), and the standard library writes the rest, as it wrote every state
    before; both texts decode to the same document. The size check reads this compact
    text, which is what the column stores (before: the library's text with spaces).
    orjson refuses what it cannot write exactly (integers beyond 64 bits, lone
    surrogates), and those states go the standard library's way too. The walk skips
    what `task_dicts` writes as text for every task (`_values_to_check`).
    """
    if _plain(_values_to_check(dct)):
        try:
            return orjson.dumps(dct).decode(), True
        except TypeError:
            pass
    return json.dumps(dct, cls=encoder_cls, separators=(",", ":")), False


def _detach(dct: dict[str, Any]) -> dict[str, Any]:
    """`dct` (a state orjson wrote: plain JSON values only, which orjson writes exactly, so
    the text decodes to `dct`) with every container it may share with the workflow
    copied: what `_values_to_check` walks. SpiffWorkflow's converters hand over the
    workflow's own objects there (a root task's `data` dict, the values of task data,
    internal data and correlations, the event list), which the next step changes in place;
    the rest (the scopes, task dicts, deltas' lists of names, `ordered_tasks`) they or
    `task_dicts` made for this state. Tuples become lists, as in the decoded text."""
    for scope in (dct, *dct.get("subprocesses", {}).values()):
        for key, value in scope.items():
            if key == _ORDERED:
                for _, task in value:
                    for name in _TASK_CONTAINERS:
                        task[name] = _copy_plain(task[name])
            elif key != "subprocesses" or scope is not dct:
                scope[key] = _copy_plain(value)
    return dct


_TASK_CONTAINERS = ("internal_data", "data", "delta")


def _copy_plain(value: Any) -> Any:
    """A copy of a plain JSON value (`_plain`) sharing no container with it; tuples as lists.
    Recursive: orjson wrote it, so it is at most 255 levels deep (orjson's own bound)."""
    kind = type(value)
    if kind is dict:
        return {
            k: (_copy_plain(v) if type(v) in _CONTAINERS else v) for k, v in value.items()
        }
    if kind is list or kind is tuple:
        return [_copy_plain(v) if type(v) in _CONTAINERS else v for v in value]
    return value


_CONTAINERS = frozenset({dict, list, tuple})


_SCALARS = frozenset({str, int, bool, type(None)})
# A task dict's values that come from the task as they are; the others (`id`, `parent`,
# `children`, `task_spec`, `typename`) are text `task_dicts` makes (`str()`, a spec's name).
_TASK_VALUES = ("last_state_change", "state", "triggered", "internal_data", "data", "delta")


def _values_to_check(dct: dict[str, Any]) -> list[Any]:
    """What of an ordered state (`_order_tasks`) may hold other than plain JSON: all but
    the texts of its tasks' dicts, so 300 tasks' ids are not walked on every save."""
    values: list[Any] = []
    for scope in (dct, *dct.get("subprocesses", {}).values()):
        for key, value in scope.items():
            if key == _ORDERED:
                for _, task in value:
                    values.extend([task[name] for name in _TASK_VALUES])
            elif key != "subprocesses" or scope is not dct:
                values.append(value)
    return values


def _plain(value: Any) -> bool:
    """Whether `value` is made of text-keyed dicts, lists and tuples, text, integers,
    finite floats, booleans and null only: what orjson and the standard library write
    alike)."""
    scalars, isfinite = _SCALARS, math.isfinite
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            push(item.values())
        elif kind is list or kind is tuple:  # both write a tuple as an array
            push(item)
        elif kind is float:
            if not isfinite(item):
                return False
        elif kind not in scalars:
            return False
    return True


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON document (a stored spec or state)."""
    copied: dict[str, Any] = json_codec.loads(json_codec.dumps(data))
    return copied


# SpiffWorkflow restores tasks in the order of the `tasks` mapping and stores each task's
# data as a delta against its parent's, so that order matters. PostgreSQL's JSONB does not
# keep object key order (the column was JSONB until migration 0020 and states saved then
# are still read); we store every `tasks` mapping as an ordered list of pairs.
_ORDERED = "ordered_tasks"


def _order_tasks(dct: dict[str, Any]) -> None:
    for scope in (dct, *dct.get("subprocesses", {}).values()):
        scope[_ORDERED] = [[key, task] for key, task in scope.pop("tasks").items()]
        for _, task in scope[_ORDERED]:
            # A delta lists the keys a task dropped in its parent's key order, which a
            # restore from JSONB changes (data leaving a sub-process drops keys): sorted,
            # the same state always saves as the same document.
            deletions = (task.get("delta") or {}).get("deletions")
            if deletions:
                task["delta"]["deletions"] = sorted(deletions)


def _unorder_tasks(dct: dict[str, Any]) -> None:
    if _ORDERED in dct:
        dct["tasks"] = dict(dct.pop(_ORDERED))
    for sub in dct.get("subprocesses", {}).values():
        if _ORDERED in sub:
            sub["tasks"] = dict(sub.pop(_ORDERED))
