"""Warnings an upload answers with: what a model draws that is accepted but not applied.

A warning never refuses the model (docs/bpmn-coverage.md's *gap* rows are accepted); it
tells the analyst, on the element and its line, that the engine does something else, so a
drawn assignment or due date is not mistaken for one in force.
"""

from __future__ import annotations

from typing import Any

from engine.modeling.xmlsafe import parse_bpmn

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"

# camunda attribute -> what permitflow does instead (docs/bpmn-coverage.md, row
# "camunda:assignee, camunda:candidateUsers, due and follow-up dates").
IGNORED_ATTRIBUTES = {
    "assignee": "the step goes to every officer of its lane's role (or its "
    "camunda:candidateGroups), not to one user",
    "candidateUsers": "the step goes to every officer of its lane's role (or its "
    "camunda:candidateGroups), not to named users",
    "dueDate": "the step's due time comes from its sla property and the region's calendar",
    "followUpDate": "the step's due time comes from its sla property and the region's calendar",
}


def ignored_attributes(bpmn: bytes, filename: str = "model.bpmn") -> list[dict[str, Any]]:
    """One warning per camunda attribute in `bpmn` that permitflow accepts and does not
    apply: {element_id, line, field, file, message}. An unreadable file has none (its
    problems are the compiler's)."""
    root, problems = parse_bpmn(bpmn, filename)
    if root is None or problems:
        return []
    warnings = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name, instead in IGNORED_ATTRIBUTES.items():
            value = element.get(f"{{{CAMUNDA}}}{name}")
            if value is None:
                continue
            element_id = element.get("id")
            warnings.append({
                "element_id": element_id,
                "line": element.sourceline,
                "field": f"camunda:{name}",
                "file": filename,
                "message": f"{element_id!r} sets camunda:{name}={value!r}, which permitflow "
                f"accepts and does not apply: {instead}",
            })
    return warnings
