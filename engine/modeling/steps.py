"""Steps: the human tasks of a model with their role, SLA, fee and form (DESIGN §2)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from typing import TypeVar

from lxml import etree

from engine.domain.definitions import StepDefinition, StepKind
from engine.domain.formats import ROLE
from engine.modeling.bpmn import ACTIVITIES, STEP_KINDS, ModelScan, children, kind, q, text_of
from engine.modeling.extensions import Declared, candidate_group, form_key, read_properties
from engine.modeling.values import canonical_sla, form_file_name, parse_fee

T = TypeVar("T")

_HOW_TO = 'add <camunda:property name="{0}" value="{1}"/> under the task\'s extension properties'


def read_steps(
    scan: ModelScan, forms: Collection[str], walk: dict[str, int]
) -> list[StepDefinition]:
    """Every step of the process, numbered 1.. in walk order; unreachable steps come last."""
    lanes = lane_index(scan.root)
    found: list[tuple[float, int, StepDefinition]] = []
    for position, task in enumerate(scan.elements(*STEP_KINDS)):
        step = _read_step(scan, task, lanes, frozenset(forms))
        if step is not None:
            found.append((walk.get(step.element_id, math.inf), position, step))
    found.sort(key=lambda item: item[:2])
    return [_renumber(step, number) for number, (_, _, step) in enumerate(found, start=1)]


def _renumber(step: StepDefinition, order: int) -> StepDefinition:
    return StepDefinition(**{**step.as_dict(), "order": order})


def lane_index(root: etree._Element) -> dict[str, etree._Element]:
    """Flow node id -> the innermost lane that lists it (nested lane sets included)."""
    best: dict[str, tuple[int, etree._Element]] = {}
    for lane in root.iter(q("lane")):
        depth = sum(1 for a in lane.iterancestors(q("lane")))
        for ref in children(lane, "flowNodeRef"):
            node_id = text_of(ref).strip()
            if node_id and depth >= best.get(node_id, (-1, lane))[0]:
                best[node_id] = (depth, lane)
    return {node_id: lane for node_id, (_, lane) in best.items()}


def _read_step(
    scan: ModelScan,
    task: etree._Element,
    lanes: dict[str, etree._Element],
    forms: frozenset[str],
) -> StepDefinition | None:
    before = len(scan.problems)
    props = read_properties(scan, task)
    role = _role(scan, task, lanes)
    sla = _sla(scan, task, props.get("sla"))
    formula = props.get("feeFormula")
    fee = 0 if formula is not None and "fee" not in props else _fee(scan, task, props.get("fee"))
    if formula is not None and fee:
        scan.add(
            f"step {task.get('id')!r} declares both fee {fee} and feeFormula "
            f"{formula.value!r}; keep one",
            formula.element,
            element_id=task.get("id"),
            field="feeFormula",
        )
    form = _form(scan, task, props.get("form") or form_key(task), forms)
    if len(scan.problems) > before or role is None or sla is None or fee is None:
        return None
    step_kind: StepKind = kind(task)  # type: ignore[assignment]  # one of STEP_KINDS
    return StepDefinition(
        element_id=task.get("id"),
        name=(task.get("name") or "").strip() or task.get("id"),
        kind=step_kind,
        role=role,
        sla=sla,
        fee=fee,
        form=form,
        order=0,
        line=task.sourceline,
        fee_formula={"name": formula.value.strip()} if formula is not None else None,
    )


def _role(scan: ModelScan, task: etree._Element, lanes: dict[str, etree._Element]) -> str | None:
    # camunda:candidateGroups (or Zeebe's) overrides the lane, as in Camunda itself.
    group = candidate_group(scan, task)
    if group is not None:
        return group.value
    for holder in [task, *task.iterancestors()]:
        if holder is not task and kind(holder) not in ACTIVITIES:
            continue  # a step inside a sub-process inherits the sub-process's lane
        lane = lanes.get(holder.get("id") or "")
        if lane is not None:
            return lane_role(scan, lane, task)
    scan.add(
        f"step {task.get('id')!r} is in no lane and has no candidate groups: put it in "
        "the lane of the role that does it",
        task,
        field="role",
    )
    return None


# Ids modelling tools make up for a lane: Camunda's Lane_0abc123, Signavio's sid-<uuid>,
# and the _<uuid> or bare UUIDs of others. Nobody holds such a role.
_GENERATED_ID = re.compile(
    r"^(lane_[0-9a-z]{1,12}|sid-[0-9a-f-]+|_.*|.*[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-.*)$"
)


def id_is_role(lane_id: str) -> bool:
    """Whether a lane's id (lower-cased) names its role, rather than being made up."""
    return ROLE.matches(lane_id) and not _GENERATED_ID.match(lane_id)


def lane_role(scan: ModelScan, lane: etree._Element, task: etree._Element) -> str | None:
    """The role a lane stands for: its id when that is a role name (front-office), else
    its name when that is one (a modeller made up the id); else a problem at the lane."""
    lane_id = str(lane.get("id") or "").strip().lower()
    if id_is_role(lane_id):
        return lane_id
    name = (lane.get("name") or "").strip().lower()
    if ROLE.matches(name):
        return name
    if any(p.element_id == lane.get("id") and p.field == "role" for p in scan.problems):
        return None  # said once per lane
    said = f"named {lane.get('name')!r}" if name else "without a name"
    scan.add(
        f"the lane {lane.get('id')!r} {said} (it holds step {task.get('id')!r}) is no role "
        "a user can hold: name the lane after the role that does its steps, e.g. "
        f"front-office ({ROLE.hint})",
        lane,
        field="role",
    )
    return None


def _sla(scan: ModelScan, task: etree._Element, declared: Declared | None) -> str | None:
    hint = "(P3D = 3 working days, PT4H = 4 working hours)"
    return _required(scan, task, declared, ("sla", "SLA"), "P3D", hint, canonical_sla)


def _fee(scan: ModelScan, task: etree._Element, declared: Declared | None) -> int | None:
    hint = "(whole rupiah, 0 for no fee)"
    return _required(scan, task, declared, ("fee", "fee"), "0", hint, parse_fee)


def _required(
    scan: ModelScan,
    task: etree._Element,
    declared: Declared | None,
    names: tuple[str, str],
    example: str,
    hint: str,
    parse: Callable[[str], T],
) -> T | None:
    """A property every step must declare, parsed; a problem when missing or malformed.

    `names` is the property's name and how a message calls it."""
    name, label = names
    if declared is None:
        scan.add(
            f"step {task.get('id')!r} has no {label}: {_HOW_TO.format(name, example)} {hint}",
            task,
            field=name,
        )
        return None
    try:
        return parse(declared.value)
    except ValueError as exc:
        scan.add(
            f"step {task.get('id')!r}: {exc}",
            declared.element,
            element_id=task.get("id"),
            field=name,
        )
        return None


def _form(
    scan: ModelScan, task: etree._Element, declared: Declared | None, forms: frozenset[str]
) -> str | None:
    if declared is None or not declared.value.strip():
        return None
    name = form_file_name(declared.value, forms)
    if name not in forms:
        have = ", ".join(sorted(forms)) or "no forms"
        scan.add(
            f"step {task.get('id')!r} uses the form {name!r}, which is not in the "
            f"package's forms/ (it has: {have})",
            declared.element,
            element_id=task.get("id"),
            field="form",
        )
    return name
