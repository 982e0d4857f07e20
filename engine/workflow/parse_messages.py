"""SpiffWorkflow's parser messages in plain words, without Python object reprs.

The parser speaks SpiffArena's language ("A Service Task must have an operator": an
operator is a SpiffArena connector) and sometimes quotes an lxml element's repr
(`<Element {http://...}sourceRef at 0x7f...>`). An analyst drawing in Camunda Modeler can
act on neither; each known message becomes a sentence that says what to draw or write,
and any other object repr is cut out. The problem keeps the element id and line.
"""

from __future__ import annotations

import re
from typing import Any

_ELEMENT_REPR = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>")
_OBJECT_REPR = re.compile(r"<[^<>]* at 0x[0-9a-f]+>")

_KNOWN = (
    ("A Service Task must have an operator",
     "{label} says nothing the engine can run: make it an external task (Implementation: "
     'External with a topic, camunda:type="external" camunda:topic="..."), or draw a user '
     "task for work a person does or a script task for a calculation"),
    ("Cannot resolve dataInputAssociation",
     "a data input association of {label} comes from no data object of this process: "
     "connect it to a data object reference drawn in the same process"),
    ("Cannot resolve dataOutputAssociation",
     "a data output association of {label} goes to no data object of this process: "
     "connect it to a data object reference drawn in the same process"),
    ("No DMN Diagram available",
     "{label} calls a DMN decision table, which a model package cannot hold: write the "
     "rule as a script task or as conditions on an exclusive gateway"),
    ("No start event found", "{label} has no start event: draw one where it begins"),
    ("A SubWorkflow Must contain an End event", "{label} has no end event"),
    ("There is no support implemented for this task type",
     "{label} is a kind of element the engine cannot run: use a user, script or "
     "manual task"),
    ("Unknown Time Specification",
     "the timer of {label} has no time: give it a date, a duration or a cycle"),
    ("Conditional event definition with missing condition",
     "the conditional event {label} has no condition: write one"),
)


def plain_parse_message(text: str, exc: Any) -> str:
    """`text` (the parser's message for `exc`) as an analyst should read it."""
    for start, message in _KNOWN:
        if text.startswith(start):
            return message.format(label=_label(exc))
    text = _ELEMENT_REPR.sub(lambda m: f"its {m.group(1)}", text)
    return _OBJECT_REPR.sub("an element", text)


def _label(exc: Any) -> str:
    tag = str(getattr(exc, "tag", "") or "").removeprefix("bpmn:") or "element"
    element_id = getattr(exc, "id", "") or ""
    return f"{tag} {element_id!r}" if element_id else f"the {tag}"
