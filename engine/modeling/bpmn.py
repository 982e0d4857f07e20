"""BPMN vocabulary and the shared state of one model check.

Namespaces, the element kinds the checks care about, and `ModelScan`: the parsed
document, the chosen process, an index of ids and the problems found so far. Every
check module takes a `ModelScan` and adds located `Problem`s to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from engine.domain.problems import Problem

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "camunda": CAMUNDA, "zeebe": ZEEBE, "spiffworkflow": SPIFF}
# The namespaces of the BPMN 2.0 standard itself: the model and its diagram interchange.
OMG_NAMESPACES = frozenset(
    {
        BPMN,
        "http://www.omg.org/spec/BPMN/20100524/DI",
        "http://www.omg.org/spec/DD/20100524/DC",
        "http://www.omg.org/spec/DD/20100524/DI",
    }
)

STEP_KINDS = ("userTask", "manualTask", "task")
ACTIVITIES = frozenset(
    {
        *STEP_KINDS,
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "subProcess",
        "transaction",
        "adHocSubProcess",
        "callActivity",
    }
)
GATEWAYS = frozenset(
    {
        "exclusiveGateway",
        "inclusiveGateway",
        "parallelGateway",
        "eventBasedGateway",
        "complexGateway",
    }
)
EVENTS = frozenset(
    {
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
    }
)
FLOW_NODES = ACTIVITIES | GATEWAYS | EVENTS
# Containers whose direct children form one sequence-flow graph.
SCOPES = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})


def q(local: str) -> str:
    """The Clark name of a BPMN element, e.g. `{...MODEL}userTask`."""
    return f"{{{BPMN}}}{local}"


def kind(element: etree._Element) -> str | None:
    """Local name of a BPMN-namespace element, None for anything else (DI, comments, ...)."""
    tag = element.tag
    if not isinstance(tag, str) or not tag.startswith(f"{{{BPMN}}}"):
        return None
    return tag[len(BPMN) + 2 :]


def children(element: etree._Element, *kinds: str) -> list[etree._Element]:
    """Direct BPMN children of `element` of the given kinds."""
    return [child for child in element if kind(child) in kinds]


def text_of(element: etree._Element | None) -> str:
    """The element's text, '' when there is none."""
    return (element.text or "") if element is not None else ""


@dataclass
class ModelScan:
    """One model under check: its tree, the chosen process and the problems so far."""

    root: etree._Element
    filename: str
    process: etree._Element | None = None
    problems: list[Problem] = field(default_factory=list)
    by_id: dict[str, etree._Element] = field(default_factory=dict)

    def add(
        self,
        message: str,
        element: etree._Element | None = None,
        *,
        line: int | None = None,
        element_id: str | None = None,
        field: str | None = None,
    ) -> None:
        """Record a problem located at `element` (its id and source line) unless told otherwise."""
        if element is not None:
            element_id = element_id or element.get("id")
            line = line or element.sourceline
        self.problems.append(
            Problem(
                message,
                element_id=element_id,
                line=line,
                field=field,
                file=self.filename,
            )
        )

    def flow_nodes(self) -> Iterator[etree._Element]:
        """Every flow node of the chosen process, nested sub-processes included."""
        if self.process is None:
            return
        for element in self.process.iter(etree.Element):
            if kind(element) in FLOW_NODES:
                yield element

    def elements(self, *kinds: str) -> Iterator[etree._Element]:
        """Every element of the given kinds inside the chosen process."""
        if self.process is None:
            return
        yield from self.process.iter(*(q(k) for k in kinds))

    def scopes(self) -> Iterator[etree._Element]:
        """The process and every sub-process in it: each holds its own flow graph."""
        if self.process is None:
            return
        yield self.process
        yield from self.elements("subProcess", "transaction", "adHocSubProcess")

    def label(self, element: etree._Element) -> str:
        """How a message names an element: `userTask 'verify'`."""
        return f"{kind(element) or etree.QName(element).localname} '{element.get('id', '?')}'"
