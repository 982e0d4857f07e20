"""Event triggers written by reference: `<bpmn:eventDefinitionRef>` to a root definition.

BPMN lets an event name its trigger by reference to an event definition declared once at
the top of the file (`<bpmn:timerEventDefinition id="t1">` beside the processes;
`<bpmn:eventDefinitionRef>t1</bpmn:eventDefinitionRef>` in the event), as iGrafx and MID
Innovator write it. SpiffWorkflow 3.2.0 and our own checks read only definitions inside
the event: such an event looked like one without a trigger, and a timer would never fire.
Each reference is replaced, in the tree under check (the stored bytes stay as uploaded),
by a copy of the definition it names, placed where the BPMN schema puts definitions.
"""

from __future__ import annotations

import copy

from engine.modeling.bpmn import ModelScan, kind, q


def inline_event_definitions(scan: ModelScan) -> None:
    """Replace every `eventDefinitionRef` by a copy of the definition it names; a
    reference to nothing, or to something that is not an event definition, is a problem.
    Run after `structure.index_ids` (the copies carry no id: they would collide)."""
    for ref in list(scan.root.iter(q("eventDefinitionRef"))):
        event = ref.getparent()
        target = scan.by_id.get((ref.text or "").strip())
        if target is None or not (kind(target) or "").endswith("EventDefinition"):
            scan.add(
                f"{scan.label(event)} names the trigger {(ref.text or '').strip()!r} "
                "(eventDefinitionRef), but the file defines no event definition with that id",
                ref,
                element_id=event.get("id"),
            )
            continue
        definition = copy.deepcopy(target)
        definition.attrib.pop("id", None)
        ref.addprevious(definition)
        event.remove(ref)

