"""Rewriting a source BPMN for a replication: the copy is a file an analyst could have drawn.

The overrides are written into the XML itself, so the stored file is exactly what runs and
what an analyst downloads and opens in Camunda Modeler (DESIGN §5):

- a step's `sla`/`fee`: every property of that name under camunda:, zeebe: or
  spiffworkflow: properties gets the new value; a `camunda:property` is added when the
  step has none;
- role mapping (`roles`): lanes whose id is the source role get the target role as id, the
  DI shapes that point at a renamed lane follow, and candidate groups naming the role are
  renamed too;
- a step's `role` (a role of the copy, after the mapping): the step's `flowNodeRef` moves
  to the lane of that role (and that lane's parent lanes); the lane is created in the laneSet
  of the step's current lane when missing. A step whose role comes from candidate groups
  gets its candidate groups set instead, and so does a step inside a sub-process, whose
  lane is inherited from the sub-process;
- process `sla`/`title`: the process's `sla` property and its `name`;
- a new key: the process id, and every `processRef`/`bpmnElement` naming it.

Diagram interchange (DI) is left as drawn: shapes keep their bounds, so a moved step is
still drawn inside its old lane until the analyst drags it, and a created lane has no
shape. The semantic model (flowNodeRef), which decides the role, is always right; the
alternative, recomputing lane geometry, would move shapes the analyst placed by hand.

Every other element id stays as it was, so the diff between source and copy lines up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lxml import etree

from engine.domain.errors import InvalidInputError, ModelInvalidError
from engine.domain.problems import Problem
from engine.modeling.bpmn import CAMUNDA, NS, ModelScan, children, kind, q, text_of
from engine.modeling.overrides import Overrides, check_overrides
from engine.modeling.steps import id_is_role, lane_index
from engine.modeling.structure import KEY_PATTERN, choose_process, index_ids
from engine.modeling.xmlsafe import parse_bpmn

_PROPERTY_XPATH = " | ".join(
    f"bpmn:extensionElements/{p}:properties/{p}:property"
    for p in ("camunda", "zeebe", "spiffworkflow")
)
_CANDIDATES = f"{{{CAMUNDA}}}candidateGroups"
_ZEEBE_ASSIGNMENT = f"{{{NS['zeebe']}}}assignmentDefinition"


def rewrite_model(data: bytes, *, key: str, overrides: Any, filename: str = "model.bpmn") -> bytes:
    """The source BPMN with `overrides` applied and its process id set to `key`.

    Raises: ModelInvalidError when the source cannot be read; InvalidInputError listing
    every override that does not fit the source.
    """
    root, problems = parse_bpmn(data, filename)
    if root is None:
        raise ModelInvalidError("the source model cannot be read", problems)
    scan = ModelScan(root, filename)
    index_ids(scan)
    choose_process(scan)
    if scan.process is None:
        raise ModelInvalidError("the source model has no runnable process", scan.problems)
    checked, problems = check_overrides(scan, overrides)
    if not problems:
        problems = _apply(scan, key, checked)
    if problems:
        raise InvalidInputError(f"{len(problems)} override(s) cannot be applied", problems)
    return _serialize(root)


def _serialize(root: etree._Element) -> bytes:
    # lxml would write the declaration with single quotes; keep the modelers' form.
    body = etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + bytes(body) + b"\n"


def _apply(scan: ModelScan, key: str, overrides: Overrides) -> list[Problem]:
    problems: list[Problem] = []
    _rename_process(scan, key, problems)
    _map_roles(scan, overrides.roles, problems)
    for step_id, values in overrides.steps.items():
        task = scan.by_id[step_id]
        for name in ("sla", "fee"):
            if name in values:
                set_property(task, name, values[name])
        if "fee" in values:  # a fixed fee replaces a published fee formula
            remove_property(task, "feeFormula")
        if "role" in values:
            _assign_role(scan, task, values["role"], problems)
    process = scan.process
    assert process is not None
    if "sla" in overrides.process:
        set_property(process, "sla", overrides.process["sla"])
    if "title" in overrides.process:
        process.set("name", overrides.process["title"])
    return problems


def _ids(root: etree._Element) -> set[str]:
    return {str(e.get("id")) for e in root.iter(etree.Element) if e.get("id")}


def _rename_process(scan: ModelScan, key: str, problems: list[Problem]) -> None:
    process = scan.process
    assert process is not None
    old = process.get("id")
    if key == old:
        return
    if not KEY_PATTERN.fullmatch(key or ""):
        problems.append(
            Problem(
                f"the key {key!r} must start with a letter and hold only "
                "letters, digits, '-' and '_' (at most 64)",
                field="key",
            )
        )
    elif key in _ids(scan.root):
        problems.append(
            Problem(
                f"the key {key!r} is already the id of another element of the source model",
                element_id=key,
                field="key",
            )
        )
    else:
        _rename_references(scan.root, {str(old): key}, ("processRef", "bpmnElement"))
        process.set("id", key)


def _rename_references(
    root: etree._Element, renames: dict[str, str], attributes: Iterable[str]
) -> None:
    """One pass, so that swapped names (a->b, b->a) do not collide half-way."""
    for element in root.iter(etree.Element):
        for attribute in attributes:
            value = element.get(attribute)
            if value in renames:
                element.set(attribute, renames[value])


def _map_roles(scan: ModelScan, roles: dict[str, str], problems: list[Problem]) -> None:
    if not roles:
        return
    assert scan.process is not None
    lanes = list(scan.process.iter(q("lane")))
    for lane in lanes:  # a lane whose made-up id is no role stands for the role in its name
        name = (lane.get("name") or "").strip().lower()
        if not id_is_role(str(lane.get("id")).lower()) and name in roles:
            lane.set("name", roles[name])
    renames = {
        str(lane.get("id")): roles[str(lane.get("id")).lower()]
        for lane in lanes
        if str(lane.get("id")).lower() in roles
    }
    final = [renames.get(str(lane.get("id")), str(lane.get("id"))) for lane in lanes]
    others = _ids(scan.root) - {str(lane.get("id")) for lane in lanes}
    for old, new in renames.items():
        if final.count(new) > 1 or new in others:
            problems.append(
                Problem(
                    f"mapping the role {old.lower()!r} to {new!r} gives the lane {old!r} "
                    "an id that another lane or element already has; "
                    "map each role to a distinct new role",
                    element_id=old,
                    field=f"/overrides/roles/{old.lower()}",
                )
            )
    if problems:
        return
    for lane in lanes:
        lane.set("id", renames.get(str(lane.get("id")), str(lane.get("id"))))
    _rename_references(scan.root, renames, ("bpmnElement",))
    for holder in _group_holders(scan):
        attribute = "candidateGroups" if holder.tag == _ZEEBE_ASSIGNMENT else _CANDIDATES
        groups = [g.strip() for g in str(holder.get(attribute)).split(",") if g.strip()]
        holder.set(attribute, ", ".join(roles.get(g.lower(), g) for g in groups))


def _group_holders(scan: ModelScan) -> list[etree._Element]:
    assert scan.process is not None
    return [
        e
        for e in scan.process.iter(etree.Element)
        if e.get(_CANDIDATES) is not None
        or (e.tag == _ZEEBE_ASSIGNMENT and e.get("candidateGroups") is not None)
    ]


def _assign_role(scan: ModelScan, task: etree._Element, role: str, problems: list[Problem]) -> None:
    zeebe = task.xpath(
        "bpmn:extensionElements/zeebe:assignmentDefinition[@candidateGroups]", namespaces=NS
    )
    if zeebe:
        zeebe[0].set("candidateGroups", role)
        return
    current = lane_index(scan.root).get(str(task.get("id")))
    if task.get(_CANDIDATES) is not None or current is None:
        task.set(_CANDIDATES, role)  # candidate groups decide, or the lane is inherited
        return
    if str(current.get("id")).lower() == role:
        return
    target = _lane_of(scan, role)
    if target is None:
        target = _new_lane(scan, current, role, task, problems)
    if target is not None:
        _move_ref(scan, str(task.get("id")), target)


def _lane_of(scan: ModelScan, role: str) -> etree._Element | None:
    assert scan.process is not None
    return next(
        (lane for lane in scan.process.iter(q("lane")) if str(lane.get("id")).lower() == role), None
    )


def _new_lane(
    scan: ModelScan,
    beside: etree._Element,
    role: str,
    task: etree._Element,
    problems: list[Problem],
) -> etree._Element | None:
    if role in _ids(scan.root):
        problems.append(
            Problem(
                f"step {task.get('id')!r} cannot move to a new lane {role!r}: another element "
                "already has that id",
                element_id=task.get("id"),
                field=f"/overrides/steps/{task.get('id')}/role",
            )
        )
        return None
    lane_set = beside.getparent()
    assert lane_set is not None
    lane = etree.Element(q("lane"), id=role, name=role)
    _append(lane_set, lane)
    return lane


def _move_ref(scan: ModelScan, task_id: str, target: etree._Element) -> None:
    assert scan.process is not None
    for lane in scan.process.iter(q("lane")):
        for ref in children(lane, "flowNodeRef"):
            if text_of(ref).strip() == task_id:
                _remove(lane, ref)
    for lane in [target, *target.iterancestors(q("lane"))]:
        ref = etree.Element(q("flowNodeRef"))
        ref.text = task_id
        refs = children(lane, "flowNodeRef")
        child_sets = children(lane, "childLaneSet")
        if refs:
            _insert_after(lane, refs[-1], ref)
        elif child_sets:  # flowNodeRef comes before childLaneSet (BPMN XSD order)
            ref.tail = _indent_of(child_sets[0])
            child_sets[0].addprevious(ref)
        else:
            _append(lane, ref)


# Layout: new elements are indented like their siblings, so the file stays readable.


def _indent_of(element: etree._Element) -> str:
    """The whitespace in front of `element` ("\n" when there is none)."""
    previous, parent = element.getprevious(), element.getparent()
    space = previous.tail if previous is not None else parent.text if parent is not None else None
    return space if space and not space.strip() else "\n"


def _remove(parent: etree._Element, child: etree._Element) -> None:
    """Remove `child`, leaving the indentation of what remains as it was."""
    if child.getnext() is None:
        previous = child.getprevious()
        if previous is not None:
            previous.tail = child.tail
        else:
            parent.text = child.tail
    parent.remove(child)


def _insert_after(parent: etree._Element, anchor: etree._Element, child: etree._Element) -> None:
    child.tail = anchor.tail
    if anchor.getnext() is None:
        anchor.tail = _indent_of(anchor)
    anchor.addnext(child)


def _append(parent: etree._Element, child: etree._Element) -> None:
    """Append `child` as the last child of `parent`."""
    if len(parent):
        _insert_after(parent, parent[-1], child)
        return
    outer = _indent_of(parent) if parent.getparent() is not None else "\n"
    parent.text, child.tail = outer + "  ", outer
    parent.append(child)


def remove_property(owner: etree._Element, name: str) -> None:
    """Drop every extension property `name` of `owner`."""
    for prop in owner.xpath(_PROPERTY_XPATH, namespaces=NS):
        if prop.get("name") == name:
            prop.getparent().remove(prop)


def set_property(owner: etree._Element, name: str, value: str) -> None:
    """Set the extension property `name` wherever `owner` writes it; add a
    `camunda:property` when it writes it nowhere."""
    found = [p for p in owner.xpath(_PROPERTY_XPATH, namespaces=NS) if p.get("name") == name]
    for prop in found:
        prop.set("value", value)
    if found:
        return
    nsmap = None if CAMUNDA in owner.nsmap.values() else {"camunda": CAMUNDA}
    extensions = _extension_elements(owner)
    props = extensions.find(f"{{{CAMUNDA}}}properties")
    if props is None:
        props = etree.Element(f"{{{CAMUNDA}}}properties", nsmap=nsmap)
        _append(extensions, props)
    _append(props, etree.Element(f"{{{CAMUNDA}}}property", name=name, value=value))


def _extension_elements(owner: etree._Element) -> etree._Element:
    """The owner's extensionElements, created right after its documentation (BPMN XSD order)."""
    found = children(owner, "extensionElements")
    if found:
        return found[0]
    position = max((i + 1 for i, c in enumerate(owner) if kind(c) == "documentation"), default=0)
    extensions = etree.Element(q("extensionElements"))
    if len(owner) == 0:
        _append(owner, extensions)
    else:
        owner.insert(position, extensions)
        extensions.tail = _indent_of(extensions)
    return extensions
