"""Modelling constructs SpiffWorkflow 3.2.0 rejects confusingly or runs differently.

For each we either report a clear problem naming the element, or (timers, JUEL
conditions) rewrite the copy handed to SpiffWorkflow elsewhere. Found by trying each
construct against SpiffWorkflow; see `tests/unit/modeling/test_constructs.py`.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from engine.modeling.bpmn import ACTIVITIES, NS, ModelScan, children, kind, q, text_of
from engine.modeling.graph import Scope

_CONDITIONAL_GATEWAYS = ("exclusiveGateway", "inclusiveGateway")
# Event definitions that point at a root element, and the kind of element they must name.
_EVENT_REFS = {
    "messageEventDefinition": ("messageRef", "message"),
    "signalEventDefinition": ("signalRef", "signal"),
    "errorEventDefinition": ("errorRef", "error"),
    "escalationEventDefinition": ("escalationRef", "escalation"),
}


def check_gateways(scan: ModelScan, scopes: list[Scope]) -> None:
    """Conditions sit exactly where SpiffWorkflow evaluates them."""
    for scope in scopes:
        for source_id, flows in scope.outgoing.items():
            source = scope.nodes[source_id]
            if kind(source) in _CONDITIONAL_GATEWAYS:
                _check_conditional_split(scan, source, flows)
            else:
                _check_unconditional(scan, source, flows)


def _check_conditional_split(
    scan: ModelScan, gateway: etree._Element, flows: list[Any]
) -> None:
    default = gateway.get("default")
    flow_ids = {f.get("id") for f in flows}
    if default and default not in flow_ids:
        scan.add(
            f"{scan.label(gateway)} names default={default!r}, which is not one of its "
            "outgoing flows",
            gateway,
            field="default",
        )
    if len(flows) < 2:
        return  # a merging gateway: SpiffWorkflow takes its one flow as the default
    for flow in flows:
        if flow.get("id") != default and not _condition(flow).strip():
            scan.add(
                f"sequence flow {flow.get('id')!r} leaves {scan.label(gateway)} without a "
                "condition and is not its default flow: give it a condition (a Python "
                "expression, e.g. approved == True) or make it the default",
                flow,
            )


def _check_unconditional(scan: ModelScan, source: etree._Element, flows: list[Any]) -> None:
    for flow in flows:
        if _condition(flow).strip():
            scan.add(
                f"sequence flow {flow.get('id')!r} has a condition, but conditions are "
                f"only evaluated on flows leaving an exclusive or inclusive gateway; "
                f"{scan.label(source)} ignores it: put an exclusive gateway before it",
                flow,
            )


def _condition(flow: etree._Element) -> str:
    return text_of(next(iter(children(flow, "conditionExpression")), None))


def check_unsupported(scan: ModelScan) -> None:
    """Constructs the engine cannot run, each refused with what to draw instead."""
    for gateway in scan.elements("complexGateway"):
        scan.add(
            f"{scan.label(gateway)}: complex gateways are not supported; use exclusive, "
            "inclusive or parallel gateways",
            gateway,
        )
    for container in scan.elements("subProcess", "transaction"):
        _check_subprocess(scan, container)
        _check_nested_handler(scan, container)
    _check_data_stores(scan)
    _check_compensation(scan)
    _check_event_refs(scan)
    _check_cancel_activity(scan)


def _check_data_stores(scan: ModelScan) -> None:
    # A data store drawn for documentation is harmless; SpiffWorkflow fails on any data
    # association to one ("Cannot resolve dataOutputAssociation") and on bpmn:dataStore.
    for store in scan.root.iter(q("dataStore")):
        scan.add(
            f"{scan.label(store)}: data stores are not supported by the workflow engine; remove it",
            store,
        )
    stores = {e.get("id") for e in scan.elements("dataStoreReference")}
    for ref in scan.root.xpath(
        "//bpmn:dataInputAssociation/bpmn:sourceRef | //bpmn:dataOutputAssociation/bpmn:targetRef",
        namespaces=NS,
    ):
        if text_of(ref).strip() in stores:
            activity = ref.getparent().getparent()
            scan.add(
                f"{scan.label(activity)} reads or writes the data store "
                f"{text_of(ref).strip()!r}; data stores are not supported by the workflow "
                "engine: keep the data in task data or a data object",
                ref,
                element_id=activity.get("id"),
            )


def _check_subprocess(scan: ModelScan, container: etree._Element) -> None:
    starts, ends = children(container, "startEvent"), children(container, "endEvent")
    if not starts and not ends:
        scan.add(
            f"{scan.label(container)} is empty: draw its steps between one start event "
            "and an end event, or use a task instead",
            container,
        )
    elif len(starts) != 1:
        scan.add(
            f"{scan.label(container)} has {len(starts)} start events; a sub-process "
            "needs exactly one",
            container,
        )
    elif not ends and not _ends_implicitly(container):
        scan.add(f"{scan.label(container)} has no end event", container)


def _ends_implicitly(container: etree._Element) -> bool:
    """Whether an activity of `container` has no outgoing flow: its path ends there."""
    sources = {flow.get("sourceRef") for flow in children(container, "sequenceFlow")}
    return any(
        kind(node) in ACTIVITIES and node.get("id") not in sources
        for node in container
        if isinstance(node.tag, str)
    )


_TRIGGERS = ("errorEventDefinition", "escalationEventDefinition", "messageEventDefinition",
             "signalEventDefinition", "conditionalEventDefinition")


def _check_nested_handler(scan: ModelScan, container: etree._Element) -> None:
    # SpiffWorkflow 3.2.0 starts an event sub-process by an error, escalation, message,
    # signal or condition only at the process level; inside a sub-process it never would.
    parent = container.getparent()
    if container.get("triggeredByEvent") != "true" or parent is None or parent is scan.process:
        return
    for start in children(container, "startEvent"):
        if any(children(start, trigger) for trigger in _TRIGGERS):
            scan.add(
                f"{scan.label(container)} is an event sub-process started by an error, "
                "escalation, message, signal or condition inside a sub-process, which the "
                "engine cannot start: move it to the process level, or use a boundary event "
                f"on {scan.label(parent)}",
                start,
                element_id=container.get("id"),
            )


def _check_compensation(scan: ModelScan) -> None:
    # SpiffWorkflow 3.2.0 has no compensation: it would read a compensation event as one
    # without a trigger and never run the handler. Refused, once per event.
    for definition in scan.elements("compensateEventDefinition"):
        event = definition.getparent()
        scan.add(
            f"{scan.label(event)}: compensation is not supported by the workflow engine (its "
            "handler would never run); draw the undo steps as ordinary steps on an error "
            "or escalation path",
            event,
        )


def _check_event_refs(scan: ModelScan) -> None:
    for definition_kind, (attribute, target_kind) in _EVENT_REFS.items():
        for definition in scan.elements(definition_kind):
            ref = definition.get(attribute)
            target = scan.by_id.get(ref or "")
            if ref and (target is None or kind(target) != target_kind):
                event = definition.getparent()
                scan.add(
                    f"{scan.label(event)} refers to {attribute}={ref!r}, but the file "
                    f"defines no bpmn:{target_kind} with that id",
                    event,
                    field=attribute,
                )


def _check_cancel_activity(scan: ModelScan) -> None:
    # SpiffWorkflow reads anything but "true" as non-interrupting; the XSD allows "1" and "0".
    for event in scan.elements("boundaryEvent"):
        value = event.get("cancelActivity")
        if value is not None and value not in ("true", "false"):
            scan.add(
                f"{scan.label(event)} has cancelActivity={value!r}; write true or false",
                event,
                field="cancelActivity",
            )


_START_TRIGGERS = {
    "timerEventDefinition": "a timer",
    "signalEventDefinition": "a signal",
    "conditionalEventDefinition": "a condition",
}


def check_not_run(scan: ModelScan) -> None:
    """Constructs the engine would accept and then not run as the standard says: each is
    refused with what to draw instead (issue #10: nothing accepted that then stalls)."""
    _check_start_events(scan)
    for adhoc in scan.elements("adHocSubProcess"):
        scan.add(
            f"{scan.label(adhoc)}: ad-hoc sub-processes are not supported (the workflow "
            "engine would run its steps in sequence, not in any order); draw an embedded "
            "sub-process, with a parallel or inclusive gateway for steps done in any order",
            adhoc,
        )
    for kind_ in ("intermediateThrowEvent", "endEvent"):
        for event in scan.elements(kind_):
            if children(event, "messageEventDefinition"):
                scan.add(
                    f"{scan.label(event)} sends a message, and permitflow sends no messages "
                    'itself: draw a send task with camunda:type="external" camunda:topic="..." '
                    "(an external worker fetches it and sends the message), then a plain event",
                    event,
                )
    _check_camunda_extensions(scan)


def _check_start_events(scan: ModelScan) -> None:
    assert scan.process is not None
    for start in children(scan.process, "startEvent"):
        for definition, what in _START_TRIGGERS.items():
            if children(start, definition):
                scan.add(
                    f"{scan.label(start)} starts the process by {what}, which the engine "
                    "cannot do: an application starts when it is submitted (POST "
                    ".../applications, a none start event) or by a message (a message start "
                    "event, POST /api/v1/messages)",
                    start,
                )


_LISTENERS = ("executionListener", "taskListener")


def _extensions(element: etree._Element, namespace: str, name: str) -> list[Any]:
    """The `namespace:name` elements in `element`'s own extensionElements (not its children's)."""
    return [
        found
        for ext in children(element, "extensionElements")
        for found in ext.iter(f"{{{NS[namespace]}}}{name}")
    ]


def _check_camunda_extensions(scan: ModelScan) -> None:
    assert scan.process is not None
    nodes = [*scan.flow_nodes(), *scan.elements("sequenceFlow")]
    for element in nodes:
        for mapping in _extensions(element, "camunda", "inputOutput"):
            scan.add(
                f"{scan.label(element)} has camunda:inputOutput mappings, which permitflow "
                "does not apply: set the variables in a script task before it (or, on a call "
                "activity, use camunda:in and camunda:out)",
                mapping,
                element_id=element.get("id"),
                field="camunda:inputOutput",
            )
        if kind(element) != "callActivity":
            for mapping in _extensions(element, "zeebe", "ioMapping"):
                scan.add(
                    f"{scan.label(element)} has zeebe:ioMapping, which permitflow does not "
                    "apply here: set the variables in a script task before it",
                    mapping,
                    element_id=element.get("id"),
                    field="zeebe:ioMapping",
                )
    for element in [scan.process, *nodes]:
        for name in _LISTENERS:
            for listener in _extensions(element, "camunda", name):
                scan.add(
                    f"{scan.label(element)} has a camunda:{name}, code that permitflow does "
                    "not run: draw what it does as a script task, or a service task worked "
                    "by an external worker",
                    listener,
                    element_id=element.get("id"),
                    field=f"camunda:{name}",
                )
