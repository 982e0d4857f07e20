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

from lxml import etree

from engine.modeling.bpmn import FLOW_NODES, GATEWAYS, ModelScan, children, kind

_NO_INCOMING_OK = frozenset({"startEvent", "boundaryEvent"})


@dataclass
class Scope:
    """One container's flow nodes and the flows between them."""

    element: etree._Element
    nodes: dict[str, etree._Element] = field(default_factory=dict)
    incoming: dict[str, list[etree._Element]] = field(default_factory=dict)
    outgoing: dict[str, list[etree._Element]] = field(default_factory=dict)


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
            where = ("belongs to another process or sub-process" if ref in scan.by_id
                     else "does not exist")
            scan.add(f"sequence flow {flow.get('id')!r} has {attribute}={ref!r}, which {where}; "
                     "connect it to a task, event or gateway of the same process", flow)
            resolved = False
    if resolved:
        for attribute, mapping in ends.items():
            mapping.setdefault(flow.get(attribute), []).append(flow)


def check_connections(scan: ModelScan, scopes: list[Scope]) -> None:
    """Dangling nodes and implicit splits."""
    for scope in scopes:
        if kind(scope.element) == "adHocSubProcess":
            continue  # ad-hoc activities are unordered by definition
        for node_id, node in scope.nodes.items():
            if _outside_flow(node):
                continue
            _check_node(scan, node, scope.incoming.get(node_id, []),
                        scope.outgoing.get(node_id, []))


def _outside_flow(node: etree._Element) -> bool:
    """Event sub-processes and compensation handlers are started by events, not flows."""
    return node.get("triggeredByEvent") == "true" or node.get("isForCompensation") == "true"


def _check_node(scan: ModelScan, node: etree._Element, incoming: list, outgoing: list) -> None:
    node_kind = kind(node) or ""
    label = scan.label(node)
    if not incoming and node_kind not in _NO_INCOMING_OK:
        scan.add(f"{label} is dangling: no sequence flow leads to it", node)
    if not outgoing and node_kind != "endEvent":
        scan.add(f"{label} is dangling: no sequence flow leaves it; connect it to the next "
                 "step or to an end event", node)
    if len(outgoing) > 1 and node_kind not in GATEWAYS and node_kind != "startEvent":
        scan.add(f"{label} has {len(outgoing)} outgoing flows; draw a gateway instead: a "
                 "parallel gateway to take all paths, an exclusive gateway with conditions "
                 "to take one", node)


def check_boundaries(scan: ModelScan, scopes: list[Scope]) -> None:
    """A boundary event is attached to an activity of its own scope."""
    for scope in scopes:
        for node in scope.nodes.values():
            if kind(node) != "boundaryEvent":
                continue
            host = scope.nodes.get(node.get("attachedToRef") or "")
            if host is None or kind(host) in GATEWAYS or kind(host) in ("startEvent", "endEvent"):
                scan.add(f"boundary event {node.get('id')!r} is attached to "
                         f"{node.get('attachedToRef')!r}, which is not a task or sub-process "
                         "of the same process", node, field="attachedToRef")


def walk_order(scopes: list[Scope]) -> dict[str, int]:
    """Position of each flow node in a breadth-first walk from the process start events.

    Edges are sequence flows, activity -> its boundary events, and sub-process -> its
    start events; so a step reached only through an escalation timer still gets a place.
    Positions start at 1.
    """
    edges: dict[str, list[str]] = {}
    for scope in scopes:
        for source, flows in scope.outgoing.items():
            edges.setdefault(source, []).extend(f.get("targetRef") for f in flows)
        for node_id, node in scope.nodes.items():
            if kind(node) == "boundaryEvent":
                edges.setdefault(node.get("attachedToRef") or "", []).append(node_id)
            elif kind(node) in ("subProcess", "transaction", "adHocSubProcess"):
                edges.setdefault(node_id, []).extend(_entry_ids(node))
    starts = [n for n, node in scopes[0].nodes.items() if kind(node) == "startEvent"] if scopes else []
    return _bfs(starts, edges)


def _entry_ids(container: etree._Element) -> list[str]:
    entries = children(container, "startEvent")
    if kind(container) == "adHocSubProcess":
        entries = [c for c in container if kind(c) in FLOW_NODES]
    return [e.get("id") for e in entries if e.get("id")]


def _bfs(starts: list[str], edges: dict[str, list[str]]) -> dict[str, int]:
    order: dict[str, int] = {}
    queue = deque(starts)
    while queue:
        node_id = queue.popleft()
        if node_id in order:
            continue
        order[node_id] = len(order) + 1
        queue.extend(n for n in edges.get(node_id, []) if n not in order)
    return order
