"""Annotate a model drawn in another tool the way an analyst would, and no further.

DESIGN.md §2 asks of a model: one executable process whose id is the model key and whose
name is the title; a process `sla`; on every step (user, manual or plain task) a role (its
lane, or `camunda:candidateGroups`), `sla`, `fee` and a form of the package. That is all
this adds; everything else in the file (gateways, events, scripts, vendor extensions, the
diagram) is left as the other tool wrote it, so the engine meets the model as drawn.

- A file with no executable process gets its largest process marked executable (an analyst
  ticks "executable" in the modeller).
- The executable process's id becomes `key` (every reference to it follows).
- A lane whose id and name are no role (`_6-61`, "Sales Dept.") gets a role as its name
  (`sales-dept`), as an analyst renames the lane; a step in no lane gets candidate groups.
- Each step gets its own form `<step id>.json`: the fields of its `camunda:formData`, or a
  single `catatan` text. Forms named by `camunda:formKey` are replaced by these.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
STEPS = ("userTask", "manualTask", "task")
ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
GENERATED = re.compile(r"^(lane_[0-9a-z]{1,12}|sid-[0-9a-f-]+|_.*|.*[0-9a-f]{8}-[0-9a-f]{4}-.*)$")
FIELD_TYPES = {"long": "integer", "boolean": "boolean", "enum": "string", "date": "string"}


class NotAModelError(Exception):
    """The file is not a BPMN 2.0 model with a process (a diagram interchange file, a DMN
    table): nothing to annotate."""


@dataclass
class Annotated:
    bpmn: bytes
    forms: dict[str, bytes] = field(default_factory=dict)
    key: str = ""
    # element id -> data that its form accepts (what an officer would type)
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    # string literals the model's conditions compare with ('Yes'): what an officer would
    # answer, in turn, to leave a loop the first answer keeps going round
    answers: list[str] = field(default_factory=list)


def _q(name: str, ns: str = BPMN) -> str:
    return f"{{{ns}}}{name}"


def annotate(raw: bytes, key: str) -> Annotated:
    """`raw` annotated per DESIGN §2, with `key` as its model key."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise NotAModelError(f"not well-formed XML: {exc}") from exc
    if root.tag != _q("definitions"):
        raise NotAModelError(f"root element is {root.tag}, not BPMN 2.0 definitions")
    processes = root.findall(_q("process"))
    if not processes:
        raise NotAModelError("no process")
    executable = [p for p in processes if p.get("isExecutable") == "true"]
    if not executable:
        biggest = max(processes, key=lambda p: len(list(p.iter())))
        biggest.set("isExecutable", "true")
        executable = [biggest]
    process = executable[0]
    for other in executable[1:]:
        other.set("isExecutable", "false")
    _rekey(root, process, key)
    if not (process.get("name") or "").strip():
        process.set("name", f"Izin {key}")
    _properties(process, {"sla": "P14D"})
    result = Annotated(b"", key=key)
    lanes = {ref.text.strip(): lane for lane in process.iter(_q("lane"))
             for ref in lane.findall(_q("flowNodeRef")) if ref.text}
    for n, lane in enumerate(process.iter(_q("lane")), start=1):
        _name_lane(lane, n)
    for task in process.iter(*(_q(s) for s in STEPS)):
        _step(task, lanes, result)
    for condition in process.iter(_q("conditionExpression")):
        for literal in re.findall(r"'([^'\\]{1,40})'|\"([^\"\\]{1,40})\"", condition.text or ""):
            text = literal[0] or literal[1]
            if text not in result.answers:
                result.answers.append(text)
    result.bpmn = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return result


def _rekey(root: etree._Element, process: etree._Element, key: str) -> None:
    old = process.get("id")
    process.set("id", key)
    if not old:
        return
    for element in root.iter(etree.Element):  # the pool and the diagram name it
        for name in ("processRef", "bpmnElement"):
            if element.get(name) == old:
                element.set(name, key)


def _name_lane(lane: etree._Element, n: int) -> None:
    lane_id = (lane.get("id") or "").strip().lower()
    if ROLE.match(lane_id) and not GENERATED.match(lane_id):
        return
    name = (lane.get("name") or "").strip().lower()
    if ROLE.match(name):
        return
    slug = re.sub(r"[^a-z0-9]+", "-", name).strip("-")[:60]
    lane.set("name", slug if slug and slug[0].isalpha() else f"peran-{n}")


def _step(task: etree._Element, lanes: dict[str, etree._Element], out: Annotated) -> None:
    task_id = task.get("id") or ""
    if not any(h.get("id") in lanes for h in [task, *task.iterancestors()]) and \
            task.get(_q("candidateGroups", CAMUNDA)) is None:
        task.set(_q("candidateGroups", CAMUNDA), "petugas")
    form, data = _form(task)
    name = f"{task_id}.json"
    for attr in (_q("formKey", CAMUNDA), _q("formRef", CAMUNDA)):
        task.attrib.pop(attr, None)
    for extensions in task.findall(_q("extensionElements")):
        for definition in extensions.findall(_q("formDefinition", ZEEBE)):
            extensions.remove(definition)
    _properties(task, {"sla": "P2D", "fee": "0", "form": name})
    out.forms[name] = json.dumps(form).encode()
    out.data[task_id] = data


def _form(task: etree._Element) -> tuple[dict[str, Any], dict[str, Any]]:
    """A JSON Schema from the step's `camunda:formData`, and data that fills it in."""
    props: dict[str, Any] = {"catatan": {"type": "string", "title": "Catatan"}}
    data: dict[str, Any] = {"catatan": "diperiksa"}
    for form_field in task.iter(_q("formField", CAMUNDA)):
        name = form_field.get("id") or ""
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            continue
        kind = FIELD_TYPES.get(form_field.get("type") or "string", "string")
        props[name] = {"type": kind, "title": form_field.get("label") or name}
        values = [v.get("id") for v in form_field.iter(_q("value", CAMUNDA)) if v.get("id")]
        if values:
            props[name]["enum"] = values
        default = form_field.get("defaultValue")
        if values:
            data[name] = values[0]
        elif kind == "integer":
            data[name] = int(default) if (default or "").lstrip("-").isdigit() else 1
        elif kind == "boolean":
            data[name] = default != "false"
        elif form_field.get("type") == "date":
            data[name] = "2027-01-04"
        else:
            data[name] = default or "ya"
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "title": task.get("name") or task.get("id"), "properties": props}
    return schema, data


def _properties(element: etree._Element, values: dict[str, str]) -> None:
    """Set camunda:properties on `element` (extension elements made when absent)."""
    extensions = element.find(_q("extensionElements"))
    if extensions is None:
        extensions = etree.Element(_q("extensionElements"))
        # extensionElements come first after documentation
        docs = element.findall(_q("documentation"))
        at = element.index(docs[-1]) + 1 if docs else 0
        element.insert(at, extensions)
    props = extensions.find(_q("properties", CAMUNDA))
    if props is None:
        props = etree.SubElement(extensions, _q("properties", CAMUNDA), nsmap={"camunda": CAMUNDA})
    for name, value in values.items():
        for old in props.findall(_q("property", CAMUNDA)):
            if old.get("name") == name:
                props.remove(old)
        etree.SubElement(props, _q("property", CAMUNDA), name=name, value=value)
