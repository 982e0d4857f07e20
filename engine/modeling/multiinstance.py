"""Multi-instance over a collection, as Camunda Modeler draws it, for SpiffWorkflow.

Camunda 7 writes `camunda:collection="${documents}" camunda:elementVariable="document"` on
`multiInstanceLoopCharacteristics`; Camunda 8 (Zeebe) writes `zeebe:loopCharacteristics
inputCollection="=documents" inputElement="document"` (and optionally `outputCollection`
and `outputElement`) in its extension elements. SpiffWorkflow reads the BPMN standard's
`loopDataInputRef`/`inputDataItem` (and `loopDataOutputRef`/`outputDataItem`) instead,
which `engine.workflow.spiff_compat.bpmn_rewrites` writes from what is read here. Only plain
task-data names are accepted: an expression (`${applicant.documents}`, `=count(x)`) is refused with
what to write instead, never guessed at.
"""

from __future__ import annotations

import keyword
import re

from lxml import etree

from engine.domain.definitions import InstanceCollection
from engine.modeling.bpmn import CAMUNDA, NS, ModelScan, children

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
_CAMUNDA_REF = re.compile(r"^\$\{\s*(?P<name>[^{}]*?)\s*\}$")
DEFAULT_ITEM = "item"  # Camunda 7 makes the element variable optional


def read_collections(scan: ModelScan) -> list[InstanceCollection]:
    """Every activity that fans out over a collection; each problem reported on `scan`."""
    found = []
    for activity in scan.flow_nodes():
        for loop in children(activity, "multiInstanceLoopCharacteristics"):
            declared = _camunda(scan, activity, loop) or _zeebe(scan, activity, loop)
            if declared is None:
                continue
            if children(loop, "loopCardinality", "loopDataInputRef"):
                scan.add(
                    f"{scan.label(activity)} declares its instances twice (a collection and "
                    "a loop cardinality or input reference): keep one",
                    loop,
                    element_id=activity.get("id"),
                )
                continue
            found.append(declared)
    return found


def _camunda(
    scan: ModelScan, activity: etree._Element, loop: etree._Element
) -> InstanceCollection | None:
    raw = loop.get(f"{{{CAMUNDA}}}collection")
    if raw is None:
        return None
    match = _CAMUNDA_REF.fullmatch(raw.strip())
    collection = _name(scan, activity, loop, match["name"] if match else raw.strip(),
                       "camunda:collection", raw)
    item = _name(scan, activity, loop, loop.get(f"{{{CAMUNDA}}}elementVariable", DEFAULT_ITEM),
                 "camunda:elementVariable")
    if collection is None or item is None:
        return None
    return InstanceCollection(activity.get("id", ""), collection, item)


def _zeebe(
    scan: ModelScan, activity: etree._Element, loop: etree._Element
) -> InstanceCollection | None:
    found = loop.xpath("bpmn:extensionElements/zeebe:loopCharacteristics", namespaces=NS)
    if not found:
        return None
    spec = found[0]
    raw = spec.get("inputCollection", "")
    collection = _name(scan, activity, spec, raw.strip().removeprefix("="),
                       "zeebe inputCollection", raw)
    item = _name(scan, activity, spec, spec.get("inputElement", DEFAULT_ITEM),
                 "zeebe inputElement")
    output = output_item = None
    if spec.get("outputCollection") is not None or spec.get("outputElement") is not None:
        output = _name(scan, activity, spec, spec.get("outputCollection", ""),
                       "zeebe outputCollection")
        raw_item = spec.get("outputElement", "")
        output_item = _name(scan, activity, spec, raw_item.strip().removeprefix("="),
                            "zeebe outputElement", raw_item)
        if output is None or output_item is None:
            return None
    if collection is None or item is None:
        return None
    return InstanceCollection(activity.get("id", ""), collection, item, output, output_item)


def _name(
    scan: ModelScan,
    activity: etree._Element,
    holder: etree._Element,
    name: str,
    what: str,
    raw: str | None = None,
) -> str | None:
    """`name` if it is a plain task-data name the engine can also use as an element id."""
    if _NAME.fullmatch(name) and not keyword.iskeyword(name) and name not in scan.by_id:
        return name
    why = ("is also the id of an element; rename one" if name in scan.by_id
           else "must name a task-data variable (letters, digits, '_'), not an expression")
    scan.add(
        f"{what} {raw if raw is not None else name!r} of {scan.label(activity)} {why}, "
        "e.g. documents",
        holder,
        element_id=activity.get("id"),
        field=what,
    )
    return None
