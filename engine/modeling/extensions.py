"""Reading Camunda, Zeebe and SpiffArena extensions the way each modeler writes them.

- properties: `bpmn:extensionElements/{camunda,zeebe,spiffworkflow}:properties/*:property`
  with `name=` and `value=`;
- candidate groups: `camunda:candidateGroups="a, b"` or
  `zeebe:assignmentDefinition candidateGroups="a, b"`;
- form: `camunda:formKey="..."` or `zeebe:formDefinition formKey=".."` (or `formId=`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from engine.modeling.bpmn import CAMUNDA, NS, ModelScan

_PROPERTY_XPATH = (
    "bpmn:extensionElements/camunda:properties/camunda:property"
    " | bpmn:extensionElements/zeebe:properties/zeebe:property"
    " | bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
)


@dataclass(frozen=True, slots=True)
class Declared:
    """A value as written in the file, with the element that carries it (for its line)."""

    value: str
    element: etree._Element


def read_properties(scan: ModelScan, owner: etree._Element) -> dict[str, Declared]:
    """The owner's extension properties by name; malformed ones are reported."""
    found: dict[str, Declared] = {}
    for prop in owner.xpath(_PROPERTY_XPATH, namespaces=NS):
        name, value = prop.get("name"), prop.get("value")
        if not name or value is None:
            # SpiffWorkflow itself fails with a KeyError on such a property.
            scan.add(
                f"a property of {scan.label(owner)} lacks name= or value=",
                prop,
                element_id=owner.get("id"),
            )
            continue
        earlier = found.get(name)
        if earlier is not None and earlier.value != value:
            scan.add(
                f"{scan.label(owner)} sets the property {name!r} twice, to "
                f"{earlier.value!r} and {value!r}; keep one",
                prop,
                element_id=owner.get("id"),
                field=name,
            )
        found[name] = Declared(value, prop)
    return found


def candidate_group(scan: ModelScan, task: etree._Element) -> Declared | None:
    """The first candidate group, trimmed and lower-cased, if the task names any.

    Only the first group becomes the step's role: a step has exactly one responsible
    role (DESIGN §2), and officers who share work hold that role.
    """
    declared = _camunda_groups(task) or _zeebe_groups(task)
    if declared is None or not declared.value.strip():
        return None
    if declared.value.lstrip().startswith("="):
        scan.add(
            f"{scan.label(task)} gives candidate groups as an expression "
            f"({declared.value!r}); write plain group names, e.g. front-office",
            declared.element,
            element_id=task.get("id"),
            field="candidateGroups",
        )
        return None
    first = declared.value.split(",")[0].strip().lower()
    return Declared(first, declared.element) if first else None


def _camunda_groups(task: etree._Element) -> Declared | None:
    value = task.get(f"{{{CAMUNDA}}}candidateGroups")
    return Declared(value, task) if value is not None else None


def _zeebe_groups(task: etree._Element) -> Declared | None:
    for assignment in task.xpath(
        "bpmn:extensionElements/zeebe:assignmentDefinition[@candidateGroups]", namespaces=NS
    ):
        return Declared(assignment.get("candidateGroups"), assignment)
    return None


def form_key(task: etree._Element) -> Declared | None:
    """`camunda:formKey`, or Zeebe's `formDefinition formKey=`/`formId=`, as written."""
    value = task.get(f"{{{CAMUNDA}}}formKey")
    if value:
        return Declared(value, task)
    for definition in task.xpath("bpmn:extensionElements/zeebe:formDefinition", namespaces=NS):
        value = definition.get("formKey") or definition.get("formId")
        if value:
            return Declared(value, definition)
    return None
