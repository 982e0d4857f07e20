"""Document-level checks: which process runs, its key and title, ids, size.

Decisions (DESIGN §2):
- The process that runs is the only executable one with flow nodes. In a collaboration
  the other pools may be empty or non-executable. When no process says
  `isExecutable="true"` but exactly one has flow nodes, that one runs.
- The title is the process `name`; Camunda Modeler often names only the pool, so the
  participant's `name` is the fallback. A model with neither is refused: the title is
  shown to citizens and an id is not a title.
"""

from __future__ import annotations

import re

from lxml import etree

from engine.modeling.bpmn import FLOW_NODES, OMG_NAMESPACES, ModelScan, children, kind, q

MAX_FLOW_NODES = 1000
KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_XML_ID = re.compile(r"^[^\W\d][\w.\-]*$")  # an XML NCName, as the BPMN schema requires
# Task spec names SpiffWorkflow creates itself; an element with such an id replaces the
# synthetic spec and the workflow breaks at run time ("No output task connected").
RESERVED_IDS = frozenset({"Start", "End", "Root", "StartEventSplit", "StartEventJoin"})
RESERVED_SUFFIXES = (".EndJoin", ".BoundaryEventSplit", ".BoundaryEventJoin", " [child]")


def choose_process(scan: ModelScan) -> None:
    """Set `scan.process` to the process that runs, or record why there is none.

    A process marked `isExecutable="false"` is documentation (another party's pool in a
    collaboration) and is never counted as runnable beside one that is not so marked.
    """
    processes = children(scan.root, "process")
    with_nodes = [p for p in processes if _has_flow_nodes(p)]
    marked = [p for p in with_nodes if p.get("isExecutable") == "true"]
    unmarked = [p for p in with_nodes if p.get("isExecutable") not in ("true", "false")]
    candidates = marked or unmarked or with_nodes
    if len(candidates) == 1:
        scan.process = candidates[0]
    elif not processes:
        scan.add("the file holds no bpmn:process", scan.root)
    elif not candidates:
        scan.add("the process has no tasks or events: draw the procedure first", processes[0])
    else:
        _report_choice(scan, candidates, none_marked=not marked and not unmarked)


def _report_choice(
    scan: ModelScan, candidates: list[etree._Element], *, none_marked: bool
) -> None:
    ids = ", ".join(repr(p.get("id")) for p in candidates)
    if none_marked:
        message = (
            f"none of the {len(candidates)} processes with tasks ({ids}) is executable: "
            'each says isExecutable="false"; mark the one to run isExecutable="true"'
        )
    else:
        message = (
            f"the file holds {len(candidates)} runnable processes ({ids}); mark exactly "
            'one isExecutable="true" (and the other pools isExecutable="false")'
        )
    scan.add(message, candidates[1])


def _has_flow_nodes(process: etree._Element) -> bool:
    return any(kind(child) in FLOW_NODES for child in process)


def key_and_title(scan: ModelScan) -> tuple[str, str]:
    """The model key (process id) and title (process or pool name), checked."""
    process = scan.process
    assert process is not None
    key = process.get("id") or ""
    if not KEY_PATTERN.fullmatch(key):
        scan.add(
            f"the process id {key!r} is the model key and must start with a letter and "
            "hold only letters, digits, '-' and '_' (at most 64), e.g. 'sip-dokter'",
            process,
            field="id",
        )
    title = (process.get("name") or _pool_name(scan, key)).strip()
    if not title:
        scan.add(
            "the process has no name: give the process (or its pool) the title shown to citizens",
            process,
            field="name",
        )
    return key, title


def _pool_name(scan: ModelScan, process_id: str) -> str:
    for participant in scan.root.iter(q("participant")):
        if participant.get("processRef") == process_id and participant.get("name"):
            return str(participant.get("name"))
    return ""


def index_ids(scan: ModelScan) -> None:
    """Fill `scan.by_id`; every repeated or malformed id is a problem (both lines named).

    Only elements of the BPMN and BPMN DI namespaces carry BPMN ids (`xsd:ID`); a tool's
    own extension elements (`adonis:instance id="..."`, `signavio:...`) have ids of their
    own kind, which are neither checked nor indexed.
    """
    for element in scan.root.iter(etree.Element):
        if etree.QName(element).namespace not in OMG_NAMESPACES:
            continue
        element_id = element.get("id")
        if element_id is None:
            continue
        if not _XML_ID.fullmatch(element_id):
            scan.add(
                f"the id {element_id!r} is not a valid XML id: start with a letter or "
                "'_' and use only letters, digits, '_', '-' and '.'",
                element,
            )
        first = scan.by_id.setdefault(element_id, element)
        if first is not element:
            scan.add(
                f"the id {element_id!r} is used twice: line {first.sourceline} and "
                f"line {element.sourceline}; every id must be unique",
                element,
            )


def check_ids(scan: ModelScan) -> None:
    """Every flow node and flow has an id, and none collides with SpiffWorkflow's own."""
    for flow in scan.elements("sequenceFlow"):
        if not flow.get("id"):  # SpiffWorkflow would take it for the gateway's default
            scan.add("a sequence flow has no id", flow)
    for element in scan.flow_nodes():
        element_id = element.get("id")
        if not element_id:
            scan.add(f"a {kind(element)} has no id", element)
        elif element_id in RESERVED_IDS or element_id.endswith(RESERVED_SUFFIXES):
            scan.add(
                f"the id {element_id!r} of {scan.label(element)} is reserved by the "
                "workflow engine for a task of its own; give the element another id",
                element,
            )


def check_size(scan: ModelScan) -> bool:
    """Refuse models past MAX_FLOW_NODES. Returns whether the model is small enough."""
    count = sum(1 for _ in scan.flow_nodes())
    if count > MAX_FLOW_NODES:
        scan.add(
            f"the process has {count} tasks, events and gateways; the limit is "
            f"{MAX_FLOW_NODES}: split the procedure",
            scan.process,
        )
        return False
    return True
