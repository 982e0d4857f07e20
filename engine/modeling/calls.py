"""Call activities: each names a model key, a binding and plain variable mappings.

Whether the key is published in the region (and the version exists, and no cycle of
calls forms) needs the database: the service layer checks that at upload
(`engine/services/calls.py`); here the element itself is checked and read.
"""

from __future__ import annotations

from engine.domain.definitions import CallDefinition
from engine.modeling.bpmn import ModelScan
from engine.workflow.call_activities import BINDINGS, binding_of, called_key, mappings_of


def read_calls(scan: ModelScan) -> list[CallDefinition]:
    """The call activities of the process, each checked; problems go to `scan`."""
    assert scan.process is not None
    own_key = scan.process.get("id")
    found = []
    for call in scan.elements("callActivity"):
        key = called_key(call)
        if not key:
            scan.add(
                f"{scan.label(call)} names no model to call: write the key (process id) of a "
                "published model of the region in calledElement (Camunda Modeler: Called "
                "element)",
                call,
                field="calledElement",
            )
            continue
        if "${" in key or "#{" in key or key.startswith("="):
            scan.add(
                f"{scan.label(call)} calls {key!r}, an expression; a call activity must name "
                "the key of a published model",
                call,
                field="calledElement",
            )
            continue
        if key == own_key:
            scan.add(
                f"{scan.label(call)} calls its own model {key!r}: a process may not call "
                "itself",
                call,
                field="calledElement",
            )
        binding, text = binding_of(call)
        version = None
        if binding not in BINDINGS:
            scan.add(
                f"{scan.label(call)} has calledElementBinding={binding!r}; write latest, "
                "version (with calledElementVersion) or deployment",
                call,
                field="camunda:calledElementBinding",
            )
        elif binding == "version":
            if text is None or not text.strip().isdigit() or int(text) < 1:
                scan.add(
                    f"{scan.label(call)} binds a fixed version but calledElementVersion is "
                    f"{text!r}: write the version number (1, 2, ...)",
                    call,
                    field="camunda:calledElementVersion",
                )
            else:
                version = int(text)
        for problem in mappings_of(call)[2]:
            scan.add(f"{scan.label(call)}: {problem}", call, field="camunda:in")
        found.append(CallDefinition(str(call.get("id")), key, binding, version, call.sourceline))
    return found
