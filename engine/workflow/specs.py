"""Building a SpiffWorkflow process spec from a checked BPMN tree, without surprises.

The only place model compilation touches SpiffWorkflow. Everything SpiffWorkflow raises
(ValidationException, but also raw TypeError, KeyError, AttributeError, RecursionError
on real files) becomes a located `Problem`: the element id from the exception where it
has one, the line from our own tree (SpiffWorkflow's `line_number` is always empty).

The BPMN 2.0 XSD (SpiffWorkflow's copy) is run here too, with lxml directly and all
errors kept: SpiffWorkflow's validator reports only the last error, and the SpiffArena
schema it adds rejects `spiffworkflow:` extensions that the parser reads fine. The plain
BPMN XSD accepts Camunda, Zeebe and SpiffArena extension attributes and elements (it
allows foreign namespaces there), and catches misspelt BPMN elements and bad values that
SpiffWorkflow would silently ignore or misread.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import warnings
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH
from SpiffWorkflow.bpmn.parser.event_parsers import (
    CANCEL_EVENT_XPATH,
    CONDITIONAL_EVENT_XPATH,
    ERROR_EVENT_XPATH,
    ESCALATION_EVENT_XPATH,
    MESSAGE_EVENT_XPATH,
    SIGNAL_EVENT_XPATH,
    TERMINATION_EVENT_XPATH,
    TIMER_EVENT_XPATH,
)
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.event_parsers import SpiffEndEventParser, SpiffStartEventParser
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, SpiffProcessParser

from engine.domain.problems import Problem
from engine.workflow.call_activities import CallActivityParser, CalledProcess
from engine.workflow.external_tasks import ExternalServiceTask, ExternalTaskParser
from engine.workflow.parse_messages import plain_parse_message
from engine.workflow.serialization import WorkflowCodec
from engine.workflow.spiff_compat import mark_event_subprocesses, subprocess_specs

_NAMESPACES = {
    "http://www.omg.org/spec/BPMN/20100524/MODEL": "bpmn",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
}
# The caller checks ids (unique, well-formed) and flow ends itself and says it plainer;
# libxml2 reports a duplicate id as "not a valid value of the atomic type 'xs:ID'".
_SKIPPED_XSD = re.compile(r"xs:ID'|xs:IDREF'|attribute '(sourceRef|targetRef)' is required")


def build_spec(
    tree: etree._Element, process_id: str, *, filename: str = "model.bpmn"
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parse `tree` with a new SpiffBpmnParser and serialize the spec of `process_id`.

    Returns (spec dict as `WorkflowCodec.spec_to_dict` makes it, []) or (None, problems).
    The dict is checked to survive JSON and to restore with `spec_from_dict`.
    """
    try:
        specs = _parse(tree, process_id, filename)
    except Exception as exc:  # anything SpiffWorkflow raises is a problem of the model
        return None, [_problem(tree, exc, filename)]
    codec = WorkflowCodec()
    try:
        data = codec.spec_to_dict(*specs)
        data = json.loads(json.dumps(data))
        codec.spec_from_dict(data)
    except Exception as exc:
        message = f"the compiled model cannot be stored and restored: {_describe(exc)}"
        return None, [Problem(message, file=filename)]
    return data, []


def _parse(tree: etree._Element, process_id: str, filename: str) -> tuple[Any, dict[str, Any]]:
    with warnings.catch_warnings():
        # SpiffWorkflow warns about deprecated SpiffArena extensions; a warning is not a
        # reason to refuse a model (and the test suite turns warnings into errors).
        # catch_warnings is process-global before Python 3.14; uploads are rare enough.
        warnings.simplefilter("ignore")
        parser = _Parser()  # one per compile: a parser keeps every process it saw
        parser.add_bpmn_xml(tree, filename=filename)
        spec = parser.get_spec(process_id)
        # A call activity's called model is another model version, joined at run time
        # (`call_activities`): not required here, and left out of this version's spec.
        # (spiff_compat: the library requires them again inside an embedded sub-process)
        found = subprocess_specs(parser, process_id)
    subs = {name: sub for name, sub in found.items() if sub is not None}
    mark_event_subprocesses(tree, [spec, *subs.values()])
    return spec, subs


class _ProcessParser(SpiffProcessParser):
    """SpiffWorkflow 3.2.0 indexes a process with the XPath `.//*[@id]`, which libxml2
    evaluates in time quadratic in the number of elements (8,000 text annotations: 1.1 s,
    16,000: 17 s). The same walk over `iter()` is linear and yields the same nodes in the
    same (document) order: the process's descendants that carry an id."""

    def _index_process_nodes(self) -> None:
        nodes = self.node.iter(etree.Element)
        next(nodes)  # the process itself: `.//` starts below it
        for node in nodes:
            node_id = node.get("id")
            if node_id is None:
                continue
            self.nodes_by_id[node_id] = node
            tag = node.tag
            if tag.endswith("sequenceFlow"):
                self.outgoing_sequence_flows.setdefault(node.get("sourceRef"), []).append(node)
            elif tag.endswith("boundaryEvent"):
                attached = node.get("attachedToRef")
                self.boundary_events_by_attached.setdefault(attached, []).append(node)
            elif tag.endswith("dataObjectReference"):
                self.data_object_references[node_id] = node
            elif tag.endswith("dataStoreReference"):
                self.data_store_references[node_id] = node


class _StartEventParser(SpiffStartEventParser):
    """SpiffWorkflow 3.2.0 reads only message, signal, timer and conditional start events:
    an error or escalation start event of an event sub-process becomes a none start, so
    the handler ran as soon as the process started. Read those two as well; the process
    then starts the event sub-process when an end event throws its error or escalation."""

    def create_task(self) -> Any:
        event_definition = self.get_event_definition(
            [MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, TIMER_EVENT_XPATH,
             CONDITIONAL_EVENT_XPATH, ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH]
        )
        task = self._create_task(event_definition)
        self.spec.start.connect(task)
        return task


class _EndEventParser(SpiffEndEventParser):
    """SpiffWorkflow 3.2.0 reads message, cancel, error, escalation and terminate end events
    only: a signal end event became a none end event and its signal was never sent. Read
    signals as well; the end event then throws its signal as an intermediate one does."""

    def create_task(self) -> Any:
        event_definition = self.get_event_definition(
            [MESSAGE_EVENT_XPATH, CANCEL_EVENT_XPATH, ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH,
             TERMINATION_EVENT_XPATH, SIGNAL_EVENT_XPATH]
        )
        task = self._create_task(event_definition)
        task.connect(self.spec.end)
        return task


class _Parser(SpiffBpmnParser):
    """SpiffWorkflow's parser with the process indexing and start events above, service
    tasks worked by external workers (`external_tasks`) and call activities with their
    bindings and variable mappings (`call_activities`)."""

    PROCESS_PARSER_CLASS = _ProcessParser
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): (
            _StartEventParser, SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("startEvent")][1]
        ),
        full_tag("endEvent"): (
            _EndEventParser, SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("endEvent")][1]
        ),
        full_tag("serviceTask"): (ExternalTaskParser, ExternalServiceTask),
        full_tag("sendTask"): (ExternalTaskParser, ExternalServiceTask),
        full_tag("callActivity"): (CallActivityParser, CalledProcess),
    }


def _problem(tree: etree._Element, exc: Exception, filename: str) -> Problem:
    element_id = (getattr(exc, "id", "") or None) if isinstance(exc, ValidationException) else None
    line = None
    if element_id:
        found = tree.xpath("//*[@id=$i]", i=element_id)
        line = found[0].sourceline if found else None
    if isinstance(exc, RecursionError) or "RecursionError" in str(exc):
        message = (
            "the process is too long or too deeply nested for the workflow engine "
            "to read; split it into sub-processes"
        )
    else:
        message = f"the workflow engine cannot build the model: {_describe(exc)}"
    return Problem(message, element_id=element_id, line=line, file=filename)


def _describe(exc: Exception) -> str:
    text = str(exc) if isinstance(exc, ValidationException) else f"{type(exc).__name__}: {exc}"
    text = plain_parse_message(text.strip(), exc) or type(exc).__name__
    # Some wrapped errors quote a whole XML element; the line points there already.
    return text if len(text) <= 300 else text[:300] + "..."


_SCHEMA_LOCK = threading.Lock()  # one XMLSchema object, one error_log: validate in turn


@functools.cache
def _bpmn_schema() -> etree.XMLSchema:
    # Compiled once per process, on first use (~20 ms), never at import time.
    return etree.XMLSchema(etree.parse(XSD_PATH))


def schema_problems(tree: etree._Element, *, filename: str = "model.bpmn") -> list[Problem]:
    """Every BPMN 2.0 XSD violation, each with its line and nearest element id."""
    schema = _bpmn_schema()
    with _SCHEMA_LOCK:
        if schema.validate(tree):
            return []
        entries = list(schema.error_log)
    lines = _elements_by_line(tree)
    problems = []
    for entry in entries:
        if _SKIPPED_XSD.search(entry.message):
            continue
        element = lines.get(entry.line)
        problems.append(
            Problem(
                f"the file does not follow the BPMN 2.0 schema: {_plain(entry.message)}",
                element_id=_nearest_id(element),
                line=entry.line or None,
                file=filename,
            )
        )
    return problems


def _elements_by_line(tree: etree._Element) -> dict[int, etree._Element]:
    found: dict[int, etree._Element] = {}
    for element in tree.iter(etree.Element):
        found.setdefault(element.sourceline, element)
    return found


def _nearest_id(element: etree._Element | None) -> str | None:
    while element is not None:
        if element.get("id"):
            return str(element.get("id"))
        element = element.getparent()
    return None


def _plain(message: str) -> str:
    for uri, prefix in _NAMESPACES.items():
        message = message.replace("{" + uri + "}", prefix + ":")
    # libxml2 then lists every element it would accept: long, and rarely what was meant.
    return message.split(". Expected is ")[0].rstrip(".")
