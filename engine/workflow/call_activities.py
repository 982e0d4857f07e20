"""Call activities: a model calls another published model of its region by key.

The call activity names the called model's key (`calledElement`, or Zeebe's
`zeebe:calledElement processId`); which version runs is its binding: the latest published
version when the application starts (default), a fixed one (`camunda:calledElementBinding=
"version"` with `camunda:calledElementVersion`), or the one that was latest when the caller
was uploaded (`deployment`, pinned to a number at upload). The service layer resolves the
bindings when an application starts, stores them with it, and hands the runtime the caller's
spec joined with the called specs (`compose`): SpiffWorkflow 3.2.0 runs a call activity as a
sub-workflow of the spec its `subprocess_specs` hold under the called key.

Variables: with no mapping, every variable goes in and comes back (SpiffWorkflow's own
behaviour, which also honours a called process's ioSpecification). `camunda:in`/`camunda:out`
(`source`/`target`, `variables="all"`) and Zeebe's `zeebe:input`/`zeebe:output` of a plain
variable (`source="=name"`) narrow that, as Camunda does: with mappings only the mapped
variables (plus all of them for `variables="all"`) go in or come back; the caller keeps its
own variables either way.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.spiff.serializer.task_spec import SubWorkflowTaskConverter
from SpiffWorkflow.spiff.specs.defaults import CallActivity

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
BINDINGS = ("latest", "version", "deployment")


@dataclass(frozen=True, slots=True)
class CallMapping:
    """Which variables cross the call in one direction: all of them, and/or named ones."""

    all: bool = True
    pairs: tuple[tuple[str, str], ...] = ()  # (source in the giving scope, target)

    def as_dict(self) -> dict[str, Any]:
        return {"all": self.all, "pairs": [list(p) for p in self.pairs]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CallMapping:
        if not data:
            return cls()
        return cls(bool(data.get("all")), tuple((str(s), str(t)) for s, t in data["pairs"]))


ALL = CallMapping()


class CalledProcess(CallActivity):
    """SpiffWorkflow's call activity with a binding and Camunda/Zeebe variable mappings."""

    def __init__(
        self,
        wf_spec: Any,
        bpmn_id: str,
        subworkflow_spec: str,
        binding: str = "latest",
        version: int | None = None,
        in_mapping: dict[str, Any] | None = None,
        out_mapping: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(wf_spec, bpmn_id, subworkflow_spec, **kwargs)
        self.binding = binding
        self.version = version
        # Not `inputs`/`outputs`: SpiffWorkflow's TaskSpec uses those for its graph.
        self.in_mapping = CallMapping.from_dict(in_mapping)
        self.out_mapping = CallMapping.from_dict(out_mapping)

    def copy_data(self, my_task: Any, subworkflow: Any) -> None:
        if self.in_mapping == ALL:
            super().copy_data(my_task, subworkflow)
            return
        start = subworkflow.get_next_task(
            subworkflow.task_tree, skip_subprocesses=True, spec_name="Start"
        )
        given = dict(my_task.data) if self.in_mapping.all else {}
        for source, target in self.in_mapping.pairs:
            if source in my_task.data:
                given[target] = my_task.data[source]
        start.set_data(**copy.deepcopy(given))

    def update_data(self, my_task: Any, subworkflow: Any) -> None:
        if self.in_mapping == ALL and self.out_mapping == ALL:
            super().update_data(my_task, subworkflow)
            return
        result = dict(subworkflow.last_task.data)
        data = copy.deepcopy(dict(my_task.data))
        if self.out_mapping.all:
            data.update(copy.deepcopy(result))
        for source, target in self.out_mapping.pairs:
            if source in result:
                data[target] = copy.deepcopy(result[source])
        my_task.data = data


def called_key(node: etree._Element) -> str:
    """The key a call activity element calls ('' when it names none)."""
    key = (node.get("calledElement") or "").strip()
    if key:
        return key
    for called in node.iter(f"{{{ZEEBE}}}calledElement"):
        return str(called.get("processId") or "").strip()
    return ""


def binding_of(node: etree._Element) -> tuple[str, str | None]:
    """(binding, version text) as the element declares them; the binding in lower case."""
    binding = node.get(f"{{{CAMUNDA}}}calledElementBinding")
    version = node.get(f"{{{CAMUNDA}}}calledElementVersion")
    for called in node.iter(f"{{{ZEEBE}}}calledElement"):
        binding = binding or called.get("bindingType")
    return (binding or "latest").strip().lower(), version


def mappings_of(node: etree._Element) -> tuple[CallMapping, CallMapping, list[str]]:
    """(inputs, outputs, problems) from `camunda:in`/`out` and `zeebe:ioMapping`."""
    problems: list[str] = []
    found = []
    for direction in ("in", "out"):
        declared = list(node.iter(f"{{{CAMUNDA}}}{direction}"))
        zeebe = list(node.iter(f"{{{ZEEBE}}}{'input' if direction == 'in' else 'output'}"))
        if not declared and not zeebe:
            found.append(ALL if _zeebe_propagates(node, direction) else CallMapping(False))
            continue
        take_all, pairs = False, []
        for item in declared:
            if item.get("businessKey") is not None:
                continue  # permitflow has no business key: the tracking code plays that part
            if item.get("variables") == "all":
                take_all = True
            elif item.get("sourceExpression") is not None:
                problems.append(
                    f"camunda:{direction} sourceExpression is not supported: compute the "
                    "value in a script task before the call and map it with source= and target="
                )
            elif item.get("source") and item.get("target"):
                pairs.append((str(item.get("source")), str(item.get("target"))))
            else:
                problems.append(
                    f'camunda:{direction} needs source= and target= (or variables="all")'
                )
        for item in zeebe:
            source = (item.get("source") or "").strip().lstrip("=").strip()
            if not source.isidentifier() or not item.get("target"):
                problems.append(
                    "zeebe input/output mappings must copy a plain variable (source=\"=name\" "
                    "target=\"name\")"
                )
            else:
                pairs.append((source, str(item.get("target"))))
        if zeebe and not declared:  # Zeebe: mapped outputs only; inputs all unless told
            take_all = direction == "in" and _zeebe_propagates(node, direction)
        found.append(CallMapping(take_all, tuple(pairs)))
    return found[0], found[1], problems


def _zeebe_propagates(node: etree._Element, direction: str) -> bool:
    attribute = "propagateAllParentVariables" if direction == "in" else "propagateAllChildVariables"
    for called in node.iter(f"{{{ZEEBE}}}calledElement"):
        return called.get(attribute) != "false"
    return True


class CallActivityParser(SpiffTaskParser):
    """Builds `CalledProcess` with the key, binding and mappings of the element."""

    def create_task(self) -> CalledProcess:
        key = called_key(self.node)
        if not key:
            raise ValidationException(
                'No "calledElement" attribute for Call Activity.', node=self.node,
                file_name=self.filename,
            )
        binding, version = binding_of(self.node)
        inputs, outputs, _ = mappings_of(self.node)  # problems were reported at upload
        extensions = self.parse_extensions()
        return CalledProcess(
            self.spec,
            self.bpmn_id,
            subworkflow_spec=key,
            binding=binding,
            version=int(version) if version and version.strip().isdigit() else None,
            in_mapping=inputs.as_dict(),
            out_mapping=outputs.as_dict(),
            prescript=extensions.get("preScript"),
            postscript=extensions.get("postScript"),
            **self.bpmn_attributes,
        )


class CalledProcessConverter(SubWorkflowTaskConverter):
    """Stores the binding and the mappings with the spec."""

    def to_dict(self, spec: CalledProcess) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(spec)
        dct["binding"], dct["version"] = spec.binding, spec.version
        dct["in_mapping"] = spec.in_mapping.as_dict()
        dct["out_mapping"] = spec.out_mapping.as_dict()
        return dct


@dataclass(frozen=True, slots=True)
class CallSite:
    """A call activity of a spec: which key it calls and how it binds the version."""

    element_id: str
    key: str
    binding: str
    version: int | None


def call_sites(spec: Any, subprocess_specs: Mapping[str, Any]) -> list[CallSite]:
    """The call activities of a model version's own spec (not of the models it calls)."""
    found = []
    for process in (spec, *subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            if isinstance(task_spec, CalledProcess):
                found.append(CallSite(
                    task_spec.bpmn_id, task_spec.spec, task_spec.binding, task_spec.version
                ))
    return found


def _spec_task_dicts(spec_dict: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for process in (spec_dict["process"], *spec_dict["subprocesses"].values()):
        yield from process["task_specs"].values()


def pin_versions(spec_dict: dict[str, Any], versions: Mapping[str, int]) -> dict[str, Any]:
    """A copy of a stored spec whose call activities named in `versions` (element id ->
    version number) bind that version: how `deployment` becomes a number at upload."""
    pinned: dict[str, Any] = json.loads(json.dumps(spec_dict))
    for task in _spec_task_dicts(pinned):
        if task.get("bpmn_id") in versions and "binding" in task:
            task["binding"], task["version"] = "version", versions[task["bpmn_id"]]
    return pinned


class CallConflictError(Exception):
    """The specs of a caller and the models it calls cannot run together."""


def join_specs(
    spec: Any,
    subprocess_specs: Mapping[str, Any],
    called: Mapping[str, tuple[Any, Mapping[str, Any]]],
) -> dict[str, Any]:
    """The sub-process specs of a caller joined with the models it calls (key -> (spec,
    its sub-process specs)): what `BpmnWorkflow(spec, subprocess_specs)` runs.

    Raises: CallConflictError when two of them use the same name (a called model's
    embedded sub-process with the id of one of the caller's, say).
    """
    joined = dict(subprocess_specs)
    for key, (called_spec, called_subs) in called.items():
        for name, sub in {key: called_spec, **called_subs}.items():
            if name == spec.name or (name in joined and joined[name] is not sub):
                raise CallConflictError(
                    f"the called model {key!r} and its caller both use the id {name!r} "
                    "for a process or sub-process; rename one of them"
                )
            joined[name] = sub
    return joined
