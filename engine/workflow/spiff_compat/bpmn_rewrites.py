"""Rewrites of an uploaded BPMN tree so that SpiffWorkflow 3.2.0 runs it as drawn.

Applied to a deep copy handed to SpiffWorkflow; the uploaded bytes stay as they are and
are what the model version stores and serves. `engine.modeling` decides the texts
(after checking them); this module only knows where SpiffWorkflow reads them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

from lxml import etree

from engine.domain.definitions import InstanceCollection

_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_TIMER_TEXTS = ("timeDate", "timeDuration", "timeCycle")  # SpiffWorkflow's lookup order


def spiff_copy(
    root: etree._Element,
    process_id: str,
    *,
    conditions: Mapping[str, str],
    timers: Mapping[str, str],
    collections: Iterable[InstanceCollection] = (),
    links: Iterable[tuple[str, str]] = (),
) -> etree._Element:
    """A copy of `root` fixed up for SpiffWorkflow (source lines are kept).

    `conditions`: sequence-flow id -> Python condition (e.g. translated from JUEL).
    `timers`: event id -> Python timer text (plain ISO-8601 comes quoted: `"PT4H"`).
    `collections`: multi-instance activities that fan out over task data (Camunda's own
    attributes, read by `engine.modeling.multiinstance`).
    `links`: (throw event id, catch event id) pairs of link events, checked upstream.
    """
    tree = copy.deepcopy(root)
    by_id = {e.get("id"): e for e in tree.iter(etree.Element) if e.get("id")}
    # Camunda marks only the pool it runs; SpiffWorkflow refuses isExecutable="false"
    # and we may have chosen the single process with flow nodes that lacks the flag.
    by_id[process_id].set("isExecutable", "true")
    for flow_id, text in conditions.items():
        _first(by_id[flow_id], "conditionExpression").text = text
    for event_id, text in timers.items():
        _timer_text(by_id[event_id]).text = text
    for collection in collections:
        _fan_out(_first(by_id[collection.element_id], "multiInstanceLoopCharacteristics"),
                 collection)
    _join_links(tree, by_id, links)
    _name_timers_by_id(tree)
    _end_implicit_ends(tree)
    return tree


_ACTIVITIES = frozenset({
    "userTask", "manualTask", "task", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction",
})


def _end_implicit_ends(tree: etree._Element) -> None:
    # An activity with no outgoing flow ends its path (BPMN's implicit end). SpiffWorkflow
    # 3.2.0 completes the task and stops there: the path never reaches its scope's end, so
    # a sub-process ended so never completes and the process's data is never set. An end
    # event after each such activity makes the end explicit.
    ids = {e.get("id") for e in tree.iter(etree.Element)}
    sources = {f.get("sourceRef") for f in tree.iter(_BPMN + "sequenceFlow")}  # ids are unique
    for activity in list(tree.iter(*(_BPMN + kind for kind in _ACTIVITIES))):
        scope = activity.getparent()
        activity_id = activity.get("id")
        if (scope is None or not activity_id or activity_id in sources
                or scope.tag == _BPMN + "adHocSubProcess" or _started_by_event(activity)):
            continue
        end_id = _fresh(f"{activity_id}-implicit-end", ids)
        flow_id = _fresh(f"{activity_id}-implicit-flow", ids)
        scope.append(etree.Element(_BPMN + "endEvent", id=end_id))
        scope.append(etree.Element(_BPMN + "sequenceFlow", id=flow_id,
                                   sourceRef=activity_id, targetRef=end_id))


def _started_by_event(activity: etree._Element) -> bool:
    return activity.get("triggeredByEvent") == "true" or activity.get("isForCompensation") == "true"


def _fresh(wanted: str, ids: set[str | None]) -> str:
    name, n = wanted, 1
    while name in ids:
        n += 1
        name = f"{wanted}-{n}"
    ids.add(name)
    return name


def _join_links(
    tree: etree._Element, by_id: dict[str, etree._Element], links: Iterable[tuple[str, str]]
) -> None:
    # SpiffWorkflow 3.2.0 has no link events: a throw/catch pair becomes a sequence flow
    # between two pass-through (none) intermediate events, which run as nothing at all.
    ids = {e.get("id") for e in tree.iter(etree.Element)}
    for throw_id, catch_id in links:
        throw = by_id[throw_id]
        flow_id, n = f"{throw_id}-link", 1
        while flow_id in ids:
            n += 1
            flow_id = f"{throw_id}-link-{n}"
        ids.add(flow_id)
        parent = throw.getparent()
        assert parent is not None
        parent.append(
            etree.Element(_BPMN + "sequenceFlow", id=flow_id, sourceRef=throw_id,
                          targetRef=catch_id)
        )
    for event_id in {i for pair in links for i in pair}:
        event = by_id[event_id]
        for definition in event.findall(_BPMN + "linkEventDefinition"):
            event.remove(definition)
        event.tag = _BPMN + "intermediateThrowEvent"


def _fan_out(loop: etree._Element, collection: InstanceCollection) -> None:
    # SpiffWorkflow reads the standard's data references; the variable names double as the
    # data items' ids, which is where it takes the name to set (checked unique upstream).
    # Placed before any completion condition, in the schema's order.
    made = [etree.Element(_BPMN + "loopDataInputRef")]
    made[0].text = collection.collection
    if collection.output is not None:
        made.append(etree.Element(_BPMN + "loopDataOutputRef"))
        made[-1].text = collection.output
    made.append(etree.Element(_BPMN + "inputDataItem", id=collection.item, name=collection.item))
    if collection.output_item is not None:
        item = collection.output_item
        made.append(etree.Element(_BPMN + "outputDataItem", id=item, name=item))
    after = [c for c in loop if etree.QName(c).localname == "extensionElements"]
    at = loop.index(after[-1]) + 1 if after else 0
    for offset, element in enumerate(made):
        loop.insert(at + offset, element)


def _first(element: etree._Element, local: str) -> etree._Element:
    return next(element.iter(_BPMN + local))


def _timer_text(event: etree._Element) -> etree._Element:
    definition = _first(event, "timerEventDefinition")
    return next(h for local in _TIMER_TEXTS for h in definition.iter(_BPMN + local))


def _name_timers_by_id(tree: etree._Element) -> None:
    # SpiffWorkflow matches timer events by class and *name* (the event's name, or its id
    # when unnamed): two timers both named "3 hari" fire together on one send_event.
    # Naming each timer event after its element id makes the match exact, and lets the
    # runtime find a timer's event by `TimerDefinition.element_id`.
    for definition in tree.iter(_BPMN + "timerEventDefinition"):
        event = definition.getparent()
        if event is not None and event.get("id"):
            event.set("name", event.get("id"))
