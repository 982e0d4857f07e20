"""Lay out a BPMN model's diagram (BPMNDiagram DI) so it opens in Camunda Modeler / bpmn.io.

    python tools/layout_diagram.py process_models/3273/pbg/model.bpmn [...]

Reads the process, its lanes and sequence flows, and (re)writes only the
`bpmndi:BPMNDiagram` element: the semantic XML above it is left byte for byte as written.
Layout: one column per rank (longest path from the start, loops ignored), one horizontal
band per lane in `laneSet` order, elements of one lane and rank stacked; flows are
orthogonal, loops run back above or below their target.
"""

from __future__ import annotations

import itertools
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN}
SIZES = {"task": (100, 80), "gateway": (50, 50), "event": (36, 36), "data": (36, 50)}
COLUMN, ROW, LANE_X, POOL_X, TOP, LEFT = 160, 120, 160, 130, 80, 230


@dataclass
class Box:
    """A laid-out shape: its top-left corner and size."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


def shape_kind(element: etree._Element) -> str:
    """`task`, `gateway` or `event` for a flow node."""
    local = etree.QName(element).localname
    if local.endswith("Gateway"):
        return "gateway"
    if local in DATA_REFERENCES:
        return "data"
    return "event" if local.endswith("Event") else "task"


def ranks(nodes: dict[str, etree._Element], flows: list[etree._Element]) -> tuple[dict, set]:
    """Column of each node (longest forward path) and the ids of loop-back flows."""
    out: dict[str, list[etree._Element]] = {n: [] for n in nodes}
    for flow in flows:
        out[flow.get("sourceRef")].append(flow)
    back, state = set(), {}

    def visit(node: str) -> None:  # depth-first; a flow into the current path is a loop
        state[node] = "open"
        for flow in out[node]:
            target = flow.get("targetRef")
            if state.get(target) == "open":
                back.add(flow.get("id"))
            elif target not in state:
                visit(target)
        state[node] = "done"

    for start in [n for n, e in nodes.items() if etree.QName(e).localname == "startEvent"]:
        visit(start)
    for node in nodes:  # what no start reaches (an event sub-process, say)
        if node not in state:
            visit(node)
    rank = dict.fromkeys(nodes, 0)
    for _ in nodes:  # Bellman-Ford style relaxation over the acyclic forward flows
        for flow in flows:
            if flow.get("id") not in back:
                source, target = flow.get("sourceRef"), flow.get("targetRef")
                step = 0 if isinstance(flow, _Virtual) else 1
                rank[target] = max(rank[target], rank[source] + step)
    return rank, back


def layout(process: etree._Element, lanes: list[etree._Element]) -> tuple[dict, dict, dict]:
    """Boxes of the flow nodes and of the lanes, and the graph (nodes, flows, loop-back ids).

    A process without lanes (a sub-process's own plane) is one band. A boundary event sits
    on its host's lower edge and what follows it goes one column right of the host; a data
    object reference goes below the activity that reads or writes it.
    """
    nodes = {e.get("id"): e for e in process if _is_node(e)}
    boundaries = {e.get("id"): e for e in process.findall("bpmn:boundaryEvent", NS)}
    data_refs = {e.get("id"): e for e in process if _local(e) in DATA_REFERENCES}
    flows = process.findall("bpmn:sequenceFlow", NS)
    attached = [_Virtual(b.get("attachedToRef"), b_id) for b_id, b in boundaries.items()]
    rank, back = ranks({**nodes, **boundaries}, [*flows, *attached])
    for b_id, b in boundaries.items():  # on its host: its followers one column right
        rank[b_id] = rank[b.get("attachedToRef")]
    data_links = _data_links(process, data_refs)
    for ref, activity in data_links:
        rank[ref] = rank.get(activity, 0)
    lane_of = {ref.text.strip(): lane.get("id") for lane in lanes
               for ref in lane.findall("bpmn:flowNodeRef", NS)}
    for ref, activity in data_links:
        lane_of.setdefault(ref, lane_of.get(activity))
    slots: dict[tuple[str | None, int], list[str]] = {}
    for node in [*nodes, *dict.fromkeys(ref for ref, _ in data_links)]:
        slots.setdefault((lane_of.get(node), rank[node]), []).append(node)
    bands = [lane.get("id") for lane in lanes] or [None]
    depth = dict.fromkeys(bands, 1)
    for (lane, _), members in slots.items():
        depth[lane] = max(depth[lane], len(members))
    lane_boxes, y = {}, TOP
    width = LEFT - LANE_X + COLUMN * (max(rank.values(), default=0) + 1)
    for lane in bands:
        lane_boxes[lane] = Box(LANE_X, y, width, ROW * depth[lane])
        y += ROW * depth[lane]
    boxes = {}
    for (lane, column), members in slots.items():
        for index, node in enumerate(members):
            w, h = SIZES[shape_kind(nodes.get(node, data_refs.get(node)))]
            cx = LEFT + COLUMN * column + 50
            cy = lane_boxes[lane].y + ROW * index + ROW / 2
            boxes[node] = Box(cx - w / 2, cy - h / 2, w, h)
    seen: dict[str, int] = {}
    for b_id, b in boundaries.items():
        host = boxes[b.get("attachedToRef")]
        k = seen[b.get("attachedToRef")] = seen.get(b.get("attachedToRef"), -1) + 1
        boxes[b_id] = Box(host.x + host.w - 36 - 10 - 40 * k, host.y + host.h - 18, 36, 36)
    nodes.update(boundaries)
    nodes.update(data_refs)
    if lanes == []:
        lane_boxes = {}
    return boxes, lane_boxes, {"flows": flows, "back": back, "nodes": nodes,
                               "data": _data_edges(process)}


DATA_REFERENCES = ("dataObjectReference", "dataStoreReference")


class _Virtual:
    """A boundary event's tie to its host, ranked like a flow (not drawn)."""

    def __init__(self, source: str, target: str) -> None:
        self._attrs = {"sourceRef": source, "targetRef": target, "id": f"{source}->{target}"}

    def get(self, name: str) -> str:
        return self._attrs[name]


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _data_edges(process: etree._Element) -> list[tuple[str, str, str]]:
    """(association id, source id, target id) of the data associations of the activities."""
    edges = []
    for activity in process:
        for association in activity.findall("bpmn:dataInputAssociation", NS):
            source = association.findtext("bpmn:sourceRef", namespaces=NS)
            if source:
                edges.append((association.get("id"), source.strip(), activity.get("id")))
        for association in activity.findall("bpmn:dataOutputAssociation", NS):
            target = association.findtext("bpmn:targetRef", namespaces=NS)
            if target:
                edges.append((association.get("id"), activity.get("id"), target.strip()))
    return edges


def _data_links(process: etree._Element, refs: dict) -> list[tuple[str, str]]:
    """(data reference id, the first activity that uses it)."""
    first: dict[str, str] = {}
    for _, source, target in _data_edges(process):
        ref, activity = (source, target) if source in refs else (target, source)
        first.setdefault(ref, activity)
    return [(ref, first.get(ref, "")) for ref in refs if ref in first] + [
        (ref, "") for ref in refs if ref not in first]


def _is_node(element: etree._Element) -> bool:
    if not isinstance(element.tag, str) or etree.QName(element).namespace != BPMN:
        return False
    local = etree.QName(element).localname
    if local == "boundaryEvent":
        return False
    return local.endswith(("Task", "Event", "Gateway", "SubProcess")) or local in (
        "task", "subProcess", "transaction", "callActivity")


Points = list[tuple[float, float]]


def waypoints(source: Box, target: Box, loop: bool, others: list[Box], drawn: list[Points]):
    """Orthogonal waypoints from source to target, avoiding shapes and drawn flows."""
    options = _loop_routes(source, target) if loop else _forward_routes(source, target)
    # Options come most direct first; each later one pays a point for being less so.
    scored = [(_penalty(points, others, drawn) + i, i) for i, points in enumerate(options)]
    return options[min(scored)[1]]


def _forward_routes(source: Box, target: Box) -> list[list[tuple[float, float]]]:
    if abs(source.cy - target.cy) < 1:
        return [[(source.x + source.w, source.cy), (target.x, target.cy)]]
    down = target.cy > source.cy
    leave = source.y + source.h if down else source.y  # bottom or top of the source
    enter = target.y if down else target.y + target.h  # top or bottom of the target
    middle = target.x - 30
    return [
        [(source.cx, leave), (source.cx, target.cy), (target.x, target.cy)],
        [(source.x + source.w, source.cy), (target.cx, source.cy), (target.cx, enter)],
        [(source.x + source.w, source.cy), (middle, source.cy), (middle, target.cy),
         (target.x, target.cy)],
    ]


def _loop_routes(source: Box, target: Box) -> list[list[tuple[float, float]]]:
    below = max(source.y + source.h, target.y + target.h) + 15
    above = min(source.y, target.y) - 15
    routes = [
        [(source.cx, source.y + source.h), (source.cx, below), (target.cx, below),
         (target.cx, target.y + target.h)],
        [(source.cx, source.y), (source.cx, above), (target.cx, above), (target.cx, target.y)],
    ]
    if target.cy > source.cy:  # back and down: enter the target from above
        lane = target.y - 15
        routes[:0] = [
            [(source.x, source.cy), (target.cx, source.cy), (target.cx, target.y)],
            [(source.cx, source.y + source.h), (source.cx, lane), (target.cx, lane),
             (target.cx, target.y)],
        ]
    elif target.cy < source.cy:  # back and up: enter the target from below
        lane = target.y + target.h + 15
        routes[:0] = [
            [(source.x, source.cy), (target.cx, source.cy), (target.cx, target.y + target.h)],
            [(source.cx, source.y), (source.cx, lane), (target.cx, lane),
             (target.cx, target.y + target.h)],
        ]
    return routes


def _penalty(points: Points, boxes: list[Box], drawn: list[Points]) -> int:
    """10 per shape crossed, 5 per stretch run along a drawn flow, 1 per flow crossed."""
    score = 0
    for a, b in itertools.pairwise(points):
        for box in boxes:
            grown = Box(box.x - 5, box.y - 5, box.w + 10, box.h + 10)
            score += 10 * _touches(a, b, grown)
        for other in drawn:
            for c, d in itertools.pairwise(other):
                score += _meets(a, b, c, d)
    return score


def _touches(a: tuple[float, float], b: tuple[float, float], box: Box) -> bool:
    return (min(a[0], b[0]) < box.x + box.w and max(a[0], b[0]) > box.x
            and min(a[1], b[1]) < box.y + box.h and max(a[1], b[1]) > box.y)


def _meets(a, b, c, d) -> int:
    """5 if two axis-parallel segments overlap along a stretch, 1 if they cross, else 0."""
    if a[1] == b[1] == c[1] == d[1] or a[0] == b[0] == c[0] == d[0]:
        axis = 0 if a[1] == b[1] else 1
        low, high = max(min(a[axis], b[axis]), min(c[axis], d[axis])), min(
            max(a[axis], b[axis]), max(c[axis], d[axis]))
        return 5 if high - low > 1 else 0
    box = Box(min(c[0], d[0]), min(c[1], d[1]), abs(c[0] - d[0]), abs(c[1] - d[1]))
    inside = _touches(a, b, Box(box.x - 0.5, box.y - 0.5, box.w + 1, box.h + 1))
    return 1 if inside else 0


def diagram_xml(root: etree._Element) -> str:
    """The text of fresh `bpmndi:BPMNDiagram`s: the document's first participant (or its
    process), then one plane per sub-process, drawn collapsed with its own diagram as
    Camunda Modeler 5 draws them."""
    collaboration = root.find("bpmn:collaboration", NS)
    if collaboration is not None:
        participant = collaboration.find("bpmn:participant", NS)
        process = root.find(f"bpmn:process[@id='{participant.get('processRef')}']", NS)
    else:
        participant, process = None, root.find("bpmn:process", NS)
    key = process.get("id").replace("-", "_")
    lines = _plane(process, participant, collaboration, key)
    for sub in process.iter(*(f"{{{BPMN}}}{k}" for k in SUBPROCESSES)):
        lines += _plane(sub, None, sub, sub.get("id"))
    return "\n".join(lines)


SUBPROCESSES = ("subProcess", "transaction", "adHocSubProcess")


def _plane(process: etree._Element, participant, owner, key: str) -> list[str]:
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    boxes, lane_boxes, graph = layout(process, lanes)
    owner_id = (owner if owner is not None else process).get("id")
    lines = [f'  <bpmndi:BPMNDiagram id="diagram_{key}">',
             f'    <bpmndi:BPMNPlane id="plane_{key}" bpmnElement="{owner_id}">']
    if participant is not None:
        first = next(iter(lane_boxes.values()), None) or _extent(boxes)
        pool = Box(POOL_X, first.y, first.w + LANE_X - POOL_X,
                   sum(b.h for b in lane_boxes.values()) or first.h)
        lines += _shape(participant.get("id"), pool, horizontal=True)
    for lane_id, box in lane_boxes.items():
        lines += _shape(lane_id, box, horizontal=True)
    for node_id, box in boxes.items():
        element = graph["nodes"][node_id]
        label = shape_kind(element) not in ("task", "data") and element.get("name")
        expanded = _local(element) in SUBPROCESSES
        lines += _shape(node_id, box, label=label, expanded=expanded)
    drawn: list[Points] = []
    for flow in graph["flows"]:
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        others = [box for node, box in boxes.items() if node not in (source, target)]
        loop = flow.get("id") in graph["back"]
        points = waypoints(boxes[source], boxes[target], loop, others, drawn)
        drawn.append(points)
        lines += _edge(flow.get("id"), points, bool(flow.get("name")))
    for association, source, target in graph["data"]:
        a, b = boxes[source], boxes[target]
        down = a.cy < b.cy
        points = [(a.cx, a.y + a.h), (b.cx, b.y)] if down else [(a.cx, a.y), (b.cx, b.y + b.h)]
        lines += _edge(association, points, False)
    return [*lines, "    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>"]


def _extent(boxes: dict) -> Box:
    x0 = min(b.x for b in boxes.values()) - 30
    y0 = min(b.y for b in boxes.values()) - 30
    x1 = max(b.x + b.w for b in boxes.values()) + 30
    y1 = max(b.y + b.h for b in boxes.values()) + 30
    return Box(x0, y0, x1 - x0, y1 - y0)


def _shape(element_id: str, box: Box, horizontal: bool = False, label: str | bool = False,
           expanded: bool = False):
    extra = ' isHorizontal="true"' if horizontal else ""
    extra += ' isExpanded="false"' if expanded else ""
    lines = [f'      <bpmndi:BPMNShape id="{element_id}_di" bpmnElement="{element_id}"{extra}>',
             f"        {_bounds(box)}"]
    if label:
        label_box = Box(box.cx - 45, box.y + box.h + 5, 90, 27)
        lines.append(f"        <bpmndi:BPMNLabel>{_bounds(label_box)}</bpmndi:BPMNLabel>")
    return [*lines, "      </bpmndi:BPMNShape>"]


def _edge(flow_id: str, points: list[tuple[float, float]], named: bool) -> list[str]:
    lines = [f'      <bpmndi:BPMNEdge id="{flow_id}_di" bpmnElement="{flow_id}">']
    lines += [f'        <di:waypoint x="{x:g}" y="{y:g}" />' for x, y in points]
    if named:
        (x1, y1), (x2, y2) = points[0], points[1]
        label = Box(min(x1, x2) + 5, min(y1, y2) - 20 if y1 == y2 else (y1 + y2) / 2 - 7, 40, 14)
        lines.append(f"        <bpmndi:BPMNLabel>{_bounds(label)}</bpmndi:BPMNLabel>")
    return [*lines, "      </bpmndi:BPMNEdge>"]


def _bounds(box: Box) -> str:
    return f'<dc:Bounds x="{box.x:g}" y="{box.y:g}" width="{box.w:g}" height="{box.h:g}" />'


def rewrite(path: Path) -> None:
    """Replace (or add) the diagram of the BPMN file at `path`."""
    text = path.read_text("utf-8")
    root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False))
    diagram = diagram_xml(root)
    pattern = re.compile(r"  <bpmndi:BPMNDiagram.*?</bpmndi:BPMNDiagram>\n?", re.S)
    text = pattern.sub("", text)
    text = text.replace("</bpmn:definitions>", f"{diagram}\n</bpmn:definitions>")
    path.write_text(_declare_di_namespaces(text), "utf-8")


DI_NAMESPACES = {
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}


def _declare_di_namespaces(text: str) -> str:
    """Declare the DI prefixes on `bpmn:definitions` when a file drawn without DI lacks them."""
    start = text.index("<bpmn:definitions")
    end = text.index(">", start)
    missing = "".join(
        f' xmlns:{prefix}="{uri}"'
        for prefix, uri in DI_NAMESPACES.items()
        if f"xmlns:{prefix}=" not in text[start:end]
    )
    cut = start + len("<bpmn:definitions")
    return text[:cut] + missing + text[cut:]


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        rewrite(Path(argument))
        print(f"laid out {argument}")
