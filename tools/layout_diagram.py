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
SIZES = {"task": (100, 80), "gateway": (50, 50), "event": (36, 36)}
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
    rank = dict.fromkeys(nodes, 0)
    for _ in nodes:  # Bellman-Ford style relaxation over the acyclic forward flows
        for flow in flows:
            if flow.get("id") not in back:
                source, target = flow.get("sourceRef"), flow.get("targetRef")
                rank[target] = max(rank[target], rank[source] + 1)
    return rank, back


def layout(process: etree._Element, lanes: list[etree._Element]) -> tuple[dict, dict, dict]:
    """Boxes of the flow nodes and of the lanes, and the graph (nodes, flows, loop-back ids)."""
    nodes = {e.get("id"): e for e in process if _is_node(e)}
    flows = process.findall("bpmn:sequenceFlow", NS)
    rank, back = ranks(nodes, flows)
    lane_of = {ref.text.strip(): lane.get("id") for lane in lanes
               for ref in lane.findall("bpmn:flowNodeRef", NS)}
    slots: dict[tuple[str, int], list[str]] = {}
    for node in nodes:
        slots.setdefault((lane_of[node], rank[node]), []).append(node)
    depth = {lane.get("id"): 1 for lane in lanes}
    for (lane, _), members in slots.items():
        depth[lane] = max(depth[lane], len(members))
    lane_boxes, y = {}, TOP
    width = LEFT - LANE_X + COLUMN * (max(rank.values()) + 1)
    for lane in lanes:
        lane_boxes[lane.get("id")] = Box(LANE_X, y, width, ROW * depth[lane.get("id")])
        y += ROW * depth[lane.get("id")]
    boxes = {}
    for (lane, column), members in slots.items():
        for index, node in enumerate(members):
            w, h = SIZES[shape_kind(nodes[node])]
            cx = LEFT + COLUMN * column + 50
            cy = lane_boxes[lane].y + ROW * index + ROW / 2
            boxes[node] = Box(cx - w / 2, cy - h / 2, w, h)
    return boxes, lane_boxes, {"flows": flows, "back": back, "nodes": nodes}


def _is_node(element: etree._Element) -> bool:
    if not isinstance(element.tag, str) or etree.QName(element).namespace != BPMN:
        return False
    local = etree.QName(element).localname
    return local.endswith(("Task", "Event", "Gateway")) or local in ("task", "subProcess")


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
    """The text of a fresh `bpmndi:BPMNDiagram` for the document's first participant."""
    collaboration = root.find("bpmn:collaboration", NS)
    participant = collaboration.find("bpmn:participant", NS)
    process = root.find(f"bpmn:process[@id='{participant.get('processRef')}']", NS)
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    boxes, lane_boxes, graph = layout(process, lanes)
    first = next(iter(lane_boxes.values()))
    pool = Box(POOL_X, first.y, first.w + LANE_X - POOL_X,
               sum(b.h for b in lane_boxes.values()))
    key = process.get("id").replace("-", "_")
    lines = [f'  <bpmndi:BPMNDiagram id="diagram_{key}">',
             f'    <bpmndi:BPMNPlane id="plane_{key}" bpmnElement="{collaboration.get("id")}">']
    lines += _shape(participant.get("id"), pool, horizontal=True)
    for lane_id, box in lane_boxes.items():
        lines += _shape(lane_id, box, horizontal=True)
    for node_id, box in boxes.items():
        element = graph["nodes"][node_id]
        label = shape_kind(element) != "task" and element.get("name")
        lines += _shape(node_id, box, label=label)
    drawn: list[Points] = []
    for flow in graph["flows"]:
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        others = [box for node, box in boxes.items() if node not in (source, target)]
        loop = flow.get("id") in graph["back"]
        points = waypoints(boxes[source], boxes[target], loop, others, drawn)
        drawn.append(points)
        lines += _edge(flow.get("id"), points, bool(flow.get("name")))
    lines += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>"]
    return "\n".join(lines)


def _shape(element_id: str, box: Box, horizontal: bool = False, label: str | bool = False):
    extra = ' isHorizontal="true"' if horizontal else ""
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
    pattern = re.compile(r"  <bpmndi:BPMNDiagram.*?</bpmndi:BPMNDiagram>", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: diagram, text)
    else:
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
