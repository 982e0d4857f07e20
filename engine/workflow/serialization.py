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
        # that is `dct` itself, which then holds none of the workflow's own objects
        # (`_plain_detached`; decoding 127 KB took 0.35 ms and made 20,000 objects);
        # else the text decoded.
        return EncodedJson(dct if by_orjson else json_codec.loads(text), text)

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
    one walk, `_plain_detached`, which also copies what the state shares with the
    workflow), and the standard library writes the rest, as it wrote every state before;
    both texts decode to the same document. The size check reads this compact text, which
    is what the column stores. orjson refuses what it cannot write exactly (integers
    beyond 64 bits, lone surrogates, nesting past its bound), and those states go the
    standard library's way too.
    """
    if _plain_detached(dct):
        try:
            return orjson.dumps(dct).decode(), True
        except TypeError:
            pass
    return json.dumps(dct, cls=encoder_cls, separators=(",", ":")), False


class _NotPlainError(Exception):
    """A value orjson and the standard library would not write alike."""


def _plain_detached(dct: dict[str, Any]) -> bool:
    """Whether the ordered state `dct` (`_order_tasks`) holds plain JSON values only
    (`_plain`). When it does, every container in it that the workflow holds too has been
    replaced by a copy, tuples by lists: `dct` is what its text decodes to, and the next
    step changing the workflow's data in place cannot change it. (When it does not, some
    may have been replaced by equal copies.)"""
    try:
        for scope in (dct, *dct.get("subprocesses", {}).values()):
            for key, value in scope.items():
                if key == _ORDERED:
                    for _, task in value:
                        _detach_task(task)
                elif key != "subprocesses" or scope is not dct:
                    scope[key] = _plain_copy(value)
    except _NotPlainError:
        return False
    return True


def _detach_task(task: dict[str, Any]) -> None:
    """Check and detach one task dict. The converters (`task_dicts`, and the library's for
    any other sub-workflow) make its dicts and lists for this state and its texts (ids,
    children, spec and type names) with `str()`; what they hand over of the workflow's own
    are the values of `internal_data` and of the delta's `updates`, and a root task's
    `data` dict itself. So only those are copied, and only where they are containers."""
    if type(task["state"]) is not int or type(task["triggered"]) is not bool:
        _plain_copy([task["state"], task["triggered"]])
    changed = task["last_state_change"]
    if type(changed) is not float or not math.isfinite(changed):
        _plain_copy(changed)
    task["internal_data"] = _values_detached(task["internal_data"])
    data = task["data"]
    if data or task["parent"] is None:
        task["data"] = _plain_copy(data)
    delta = task["delta"]
    if delta:
        delta["updates"] = _values_detached(delta["updates"])
        for name in delta["deletions"]:
            if type(name) is not str:
                _plain_copy(name)


def _values_detached(made: Any) -> Any:
    """A dict the converters made, its values checked and each container among them copied."""
    if type(made) is not dict:
        return _plain_copy(made)
    flat = _FLAT
    for key, value in made.items():
        if type(key) is not str:
            raise _NotPlainError
        if type(value) not in flat:
            made[key] = _plain_copy(value)  # an existing key: iterating stays valid
    return made


def _plain_copy(value: Any, depth: int = 0) -> Any:
    """A copy of `value` sharing no container with it, tuples as lists, if it is plain JSON.

    Raises: _NotPlainError when it is not, or is nested deeper than orjson writes.
    """
    kind, flat = type(value), _FLAT
    if kind is dict:
        if depth > _MAX_DEPTH:
            raise _NotPlainError
        copied = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlainError
            copied[key] = item if type(item) in flat else _plain_copy(item, depth + 1)
        return copied
    if kind is list or kind is tuple:  # both write a tuple as an array
        if depth > _MAX_DEPTH:
            raise _NotPlainError
        return [item if type(item) in flat else _plain_copy(item, depth + 1) for item in value]
    if kind in flat or (kind is float and math.isfinite(value)):
        return value
    raise _NotPlainError


_FLAT = frozenset({str, int, bool, type(None)})
_MAX_DEPTH = 254  # orjson refuses deeper values (and so takes the standard library's way)


def _plain(value: Any) -> bool:
    """Whether `value` is made of text-keyed dicts, lists and tuples, text, integers,
    finite floats, booleans and null only: what orjson and the standard library write
    alike."""
    try:
        _plain_copy(value)
    except _NotPlainError:
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
