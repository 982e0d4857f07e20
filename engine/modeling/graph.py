"""The sequence-flow graph of the chosen process: references, dangling nodes, splits, order.

Each process and sub-process is its own graph: a flow may only connect flow nodes that
are direct children of the same container. SpiffWorkflow accepts flows that point
nowhere and silently drops nodes it cannot reach, so every check here is ours.

Implicit splits (a task or event with several outgoing flows) are refused with a hint to
draw the gateway: SpiffWorkflow rejects them, and rewriting them behind the analyst's back
would put elements into the running spec that the diagram does not show.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.modeling.bpmn import ACTIVITIES, FLOW_NODES, GATEWAYS, ModelScan, children, kind
from engine.modeling.links import is_link, pair_links

_NO_INCOMING_OK = frozenset({"startEvent", "boundaryEvent"})
MAX_PATH = 300


@dataclass
class Scope:
    """One container's flow nodes and the flows between them."""

    element: etree._Element
    nodes: dict[str, etree._Element] = field(default_factory=dict)
    incoming: dict[str, list[etree._Element]] = field(default_factory=dict)
    outgoing: dict[str, list[etree._Element]] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)  # (throw id, catch id)


def build_scopes(scan: ModelScan) -> list[Scope]:
    """Index every scope of the process and report flows whose ends are not its nodes."""
    scopes = []
    for container in scan.scopes():
        scope = Scope(container)
        for node in container:
            if kind(node) in FLOW_NODES and node.get("id"):
                scope.nodes[node.get("id")] = node
        for flow in children(container, "sequenceFlow"):
            _add_flow(scan, scope, flow)
        scope.links = pair_links(scan, scope.nodes, scope.incoming, scope.outgoing)
        scopes.append(scope)
    return scopes


def _add_flow(scan: ModelScan, scope: Scope, flow: etree._Element) -> None:
    ends = {"sourceRef": scope.outgoing, "targetRef": scope.incoming}
    resolved = True
    for attribute in ends:
        ref = flow.get(attribute)
        if not ref:
            scan.add(f"sequence flow {flow.get('id')!r} has no {attribute}", flow)
            resolved = False
        elif ref not in scope.nodes:
            where = _where(scan.by_id.get(ref))
            scan.add(
                f"sequence flow {flow.get('id')!r} has {attribute}={ref!r}, which {where}; "
                "connect it to a task, event or gateway of the same process",
                flow,
            )
            resolved = False
    if resolved:
        for attribute, mapping in ends.items():
            mapping.setdefault(flow.get(attribute), []).append(flow)


def _where(target: etree._Element | None) -> str:
    if target is None:
        return "does not exist"
    if kind(target) in FLOW_NODES:
        return "belongs to another process or sub-process"
    return "is not a task, event or gateway"


def check_connections(scan: ModelScan, scopes: list[Scope]) -> None:
    """Dangling nodes and implicit splits."""
    for scope in scopes:
        if kind(scope.element) == "adHocSubProcess":
            continue  # ad-hoc activities are unordered by definition
        for node_id, node in scope.nodes.items():
            if _outside_flow(node):
                continue
            _check_node(
                scan, node, scope.incoming.get(node_id, []), scope.outgoing.get(node_id, [])
            )


def _outside_flow(node: etree._Element) -> bool:
    """Event sub-processes and compensation handlers are started by events, not flows; a
    compensation boundary event reaches its handler by an association, not a flow."""
    return (
        node.get("triggeredByEvent") == "true"
        or node.get("isForCompensation") == "true"
        or (kind(node) == "boundaryEvent" and bool(children(node, "compensateEventDefinition")))
    )


def _check_node(
    scan: ModelScan, node: etree._Element, incoming: list[Any], outgoing: list[Any]
) -> None:
    node_kind = kind(node) or ""
    label = scan.label(node)
    if is_link(node) and not (incoming and outgoing):
        return  # an unpaired link event: `pair_links` said why
    if not incoming and node_kind not in _NO_INCOMING_OK:
        scan.add(f"{label} is dangling: no sequence flow leads to it", node)
    # An activity with no outgoing flow ends its path there (BPMN's implicit end, as in
    # Camunda and SpiffWorkflow); `bpmn_fixups` draws the end event SpiffWorkflow needs.
    if not outgoing and node_kind != "endEvent" and node_kind not in ACTIVITIES:
        scan.add(
            f"{label} is dangling: no sequence flow leaves it; connect it to the next "
            "step or to an end event",
            node,
        )
    if len(outgoing) > 1 and node_kind not in GATEWAYS and node_kind != "startEvent":
        scan.add(
            f"{label} has {len(outgoing)} outgoing flows; draw a gateway instead: a "
            "parallel gateway to take all paths, an exclusive gateway with conditions "
            "to take one",
            node,
        )


def check_boundaries(scan: ModelScan, scopes: list[Scope]) -> None:
    """A boundary event is attached to an activity of its own scope."""
    for scope in scopes:
        for node in scope.nodes.values():
            if kind(node) != "boundaryEvent":
                continue
            host = scope.nodes.get(node.get("attachedToRef") or "")
            if host is None or kind(host) in GATEWAYS or kind(host) in ("startEvent", "endEvent"):
                scan.add(
                    f"boundary event {node.get('id')!r} is attached to "
                    f"{node.get('attachedToRef')!r}, which is not a task or sub-process "
                    "of the same process",
                    node,
                    field="attachedToRef",
                )
            if not any((kind(c) or "").endswith("EventDefinition") for c in node):
                scan.add(
                    f"boundary event {node.get('id')!r} has no trigger: make it a timer, "
                    "message, signal, error or escalation event",
                    node,
                )


def walk_order(scan: ModelScan, scopes: list[Scope]) -> dict[str, int]:
    """Position of each flow node in a breadth-first walk from the process start events.

    Edges are sequence flows, activity -> its boundary events, and sub-process -> its
    start events; so a step reached only through an escalation timer still gets a place.
    Positions start at 1. A path longer than MAX_PATH is reported: SpiffWorkflow parses
    and runs a process recursively, one level per node, and fails near 490.
    """
    starts = [n for n, node in scopes[0].nodes.items() if kind(node) == "startEvent"]
    order, depth = _bfs(starts, _edges(scopes))
    _report_unreachable(scan, scopes, order)
    if depth > MAX_PATH:
        scan.add(
            f"the process has a path of {depth} tasks, events and gateways in a row; the "
            f"workflow engine runs at most {MAX_PATH}: split it into sub-processes",
            scan.process,
        )
    return order


def _report_unreachable(scan: ModelScan, scopes: list[Scope], order: dict[str, int]) -> None:
    # SpiffWorkflow silently drops what it cannot reach. Nodes without incoming flows are
    # already reported as dangling, and an unreachable sub-process stands for its content.
    for scope in scopes:
        if scope.element is not scan.process and scope.element.get("id") not in order:
            continue
        for node_id, node in scope.nodes.items():
            if node_id in order or _outside_flow(node) or not scope.incoming.get(node_id):
                continue
            scan.add(f"{scan.label(node)} cannot be reached from the start event", node)


def _edges(scopes: list[Scope]) -> dict[str, list[str]]:
    edges: dict[str, list[str]] = {}
    for scope in scopes:
        for source, flows in scope.outgoing.items():
            edges.setdefault(source, []).extend(f.get("targetRef") for f in flows)
        for node_id, node in scope.nodes.items():
            if kind(node) == "boundaryEvent":
                edges.setdefault(node.get("attachedToRef") or "", []).append(node_id)
            elif kind(node) in ("subProcess", "transaction", "adHocSubProcess"):
                edges.setdefault(node_id, []).extend(_entry_ids(node))
    return edges


def _entry_ids(container: etree._Element) -> list[str]:
    entries = children(container, "startEvent")
    if kind(container) == "adHocSubProcess":
        entries = [c for c in container if kind(c) in FLOW_NODES]
    return [e.get("id") for e in entries if e.get("id")]


def _bfs(starts: list[str], edges: dict[str, list[str]]) -> tuple[dict[str, int], int]:
    """(node id -> visiting position, the deepest level reached)."""
    order: dict[str, int] = {}
    queue = deque((start, 1) for start in starts)
    deepest = 0
    while queue:
        node_id, level = queue.popleft()
        if node_id in order:
            continue
        order[node_id] = len(order) + 1
        deepest = max(deepest, level)
        queue.extend((n, level + 1) for n in edges.get(node_id, []) if n not in order)
    return order, deepest
