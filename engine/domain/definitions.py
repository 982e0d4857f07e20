"""What a process model declares, as plain values read once at upload.

`engine.modeling` produces a `CompiledModel` from a `ModelPackage`; the runtime, the
service standard, replication and the catalog read these values and never re-parse XML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

APPLICANT_ROLES = frozenset({"applicant", "pemohon"})

StepKind = Literal["userTask", "manualTask", "task"]
TimerKind = Literal["duration", "date", "cycle"]


@dataclass(frozen=True, slots=True)
class ModelPackage:
    """The files of one model as uploaded: BPMN bytes, form files, the optional standard and
    DMN decision tables (`decisions/*.dmn`, by file name) its fee formulas name."""

    bpmn: bytes
    forms: dict[str, bytes] = field(default_factory=dict)
    standard: bytes | None = None
    bpmn_name: str = "model.bpmn"
    decisions: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StepDefinition:
    """A human step (user, manual or plain task) with its declared role, SLA, fee and form."""

    element_id: str
    name: str
    kind: StepKind
    role: str
    sla: str | None
    fee: int
    form: str | None
    order: int
    line: int | None = None
    # A fee computed by a published formula of the standard (`engine.domain.fees_formula`):
    # its name, hash and definition; `fee` is then 0.
    fee_formula: dict[str, Any] | None = None

    @property
    def applicant_step(self) -> bool:
        """Whether this step waits on the applicant (pauses the process SLA)."""
        return self.role in APPLICANT_ROLES

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored with the model version."""
        return {
            "element_id": self.element_id,
            "name": self.name,
            "kind": self.kind,
            "role": self.role,
            "sla": self.sla,
            "fee": self.fee,
            "form": self.form,
            "order": self.order,
            "line": self.line,
            **({"fee_formula": self.fee_formula} if self.fee_formula else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepDefinition:
        """Inverse of `as_dict`."""
        return cls(**data)


@dataclass(frozen=True, slots=True)
class CallDefinition:
    """A call activity: the model key it calls and how it binds the version (`latest`,
    `version` with `version`, or `deployment`: the latest when the caller is uploaded)."""

    element_id: str
    key: str
    binding: str = "latest"
    version: int | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class TimerDefinition:
    """A timer event: where it sits, what kind, and its ISO-8601 text or expression."""

    element_id: str
    kind: TimerKind
    expression: str
    attached_to: str | None = None
    interrupting: bool = True
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored with the model version."""
        return {
            "element_id": self.element_id,
            "kind": self.kind,
            "expression": self.expression,
            "attached_to": self.attached_to,
            "interrupting": self.interrupting,
            "line": self.line,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TimerDefinition:
        """Inverse of `as_dict`."""
        return cls(**data)


@dataclass(frozen=True, slots=True)
class InstanceCollection:
    """A multi-instance activity that runs once per element of a task-data collection.

    `collection` is the task-data list (or mapping) to fan out over and `item` the variable
    each instance sees its element in; `output`/`output_item`, when given, gather each
    instance's `output_item` back into the list `output`.
    """

    element_id: str
    collection: str
    item: str
    output: str | None = None
    output_item: str | None = None


@dataclass(frozen=True, slots=True)
class CompiledModel:
    """A validated model, ready to store as a version and to run.

    `spec` is the SpiffWorkflow process spec (and its sub-process specs) in the
    serializer's dict form: parsed once here, stored once per version, never again
    inside an application's state.
    """

    key: str
    title: str
    process_sla: str | None
    steps: tuple[StepDefinition, ...]
    timers: tuple[TimerDefinition, ...]
    forms: dict[str, dict[str, Any]]
    standard: dict[str, Any] | None
    bpmn: bytes
    spec: dict[str, Any]
    # Silence past the process SLA means approval (fiktif positif); issue #15 item 1.
    deemed_approval: bool = False
    # The call activities, checked against the region's published models at upload.
    calls: tuple[CallDefinition, ...] = ()
    # End events that issue a document: [{element_id, template: {...}}] (issue #14 item 3).
    documents: tuple[dict[str, Any], ...] = ()

    def step(self, element_id: str) -> StepDefinition | None:
        """The step with this element id, if the model has one."""
        return next((s for s in self.steps if s.element_id == element_id), None)


class ImportOutcome(StrEnum):
    """What importing a shipped model package did (`permitflow models import`)."""

    IMPORTED = "imported"  # published as a new version
    UNCHANGED = "unchanged"  # this content was imported before: no new version
    KEPT_UPLOAD = "kept-upload"  # the latest version is someone's upload: not replaced
