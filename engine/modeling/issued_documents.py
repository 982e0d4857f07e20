"""Issued documents at upload: end events that name a template, checked against the package.

An end event of the process issues a document when it carries the extension property
`document` (`camunda:properties`, or the same under `zeebe:`/`spiffworkflow:`) naming a
template that `standard.json` declares under `documents`. Refused, each at its line: the
property anywhere but on an end event of the process, an unknown template, a malformed
template, and a template path (holder or fact) that no form of the model has.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.domain.document_templates import (
    STANDARD_KEY,
    DocumentTemplate,
    parse_templates,
    template_as_dict,
)
from engine.domain.problems import Problem
from engine.modeling.bpmn import NS, ModelScan, q
from engine.modeling.extensions import read_properties

PROPERTY = "document"
STANDARD_FILE = "standard.json"
_ANY_DOCUMENT_PROPERTY = (
    ".//camunda:property[@name='document'] | .//zeebe:property[@name='document']"
    " | .//spiffworkflow:property[@name='document']"
)


@dataclass(frozen=True, slots=True)
class DocumentDeclaration:
    """An end event that issues a document, as the BPMN declares it."""

    element_id: str
    template: str
    line: int | None


def read_declarations(scan: ModelScan) -> list[DocumentDeclaration]:
    """The end events of the process with a `document` property; misplaced ones reported."""
    assert scan.process is not None
    found: list[DocumentDeclaration] = []
    for prop in scan.process.xpath(_ANY_DOCUMENT_PROPERTY, namespaces=NS):
        owner = prop.getparent().getparent().getparent()  # property < properties < ext < owner
        if owner is None or owner.tag != q("endEvent") or owner.getparent() is not scan.process:
            label = scan.label(owner) if owner is not None else "an element"
            scan.add(f"{label} has the property 'document', but only an end event of the "
                     "process issues a document", prop,
                     element_id=owner.get("id") if owner is not None else None, field=PROPERTY)
            continue
        declared = read_properties(scan, owner).get(PROPERTY)
        if declared is None or not declared.value.strip():
            continue
        found.append(DocumentDeclaration(
            str(owner.get("id")), declared.value.strip(), declared.element.sourceline
        ))
    return found


def attach_templates(
    declarations: Sequence[DocumentDeclaration],
    standard: dict[str, Any] | None,
    forms: Mapping[str, dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """What a version stores (`[{element_id, template}]`) and every problem found."""
    templates, found = parse_templates(standard)
    problems = [dataclasses.replace(p, file=p.file or STANDARD_FILE) for p in found]
    for template in templates.values():
        problems += _path_problems(template, forms)
    stored: list[dict[str, Any]] = []
    for declaration in declarations:
        chosen = templates.get(declaration.template)
        if chosen is None:
            have = ", ".join(sorted(templates)) or "none"
            problems.append(Problem(
                f"end event {declaration.element_id!r} issues the document template "
                f"{declaration.template!r}, which standard.json does not declare under "
                f"{STANDARD_KEY} (it has: {have})",
                element_id=declaration.element_id, line=declaration.line, field=PROPERTY,
            ))
            continue
        stored.append({"element_id": declaration.element_id,
                       "template": template_as_dict(chosen), "agency": _agency(standard)})
    return stored, problems


def _agency(standard: dict[str, Any] | None) -> dict[str, str] | None:
    """The agency's name for the letterhead, from the standard's `agency` {id, en}."""
    agency = (standard or {}).get("agency")
    if isinstance(agency, dict) and all(isinstance(agency.get(k), str) for k in ("id", "en")):
        return {"id": agency["id"][:300], "en": agency["en"][:300]}
    return None


def _path_problems(
    template: DocumentTemplate, forms: Mapping[str, dict[str, Any]]
) -> list[Problem]:
    problems = []
    for field, path in template.paths():
        parts = path.split(".")
        if not any(_has_path(schema, parts) for schema in forms.values()):
            problems.append(Problem(
                f"document template {template.name!r} prints {path!r}, which no form of "
                "the model has (the application data it could come from)",
                file=STANDARD_FILE, field=f"{STANDARD_KEY}.{template.name}.{field}",
            ))
    return problems


def _has_path(schema: Any, parts: list[str], depth: int = 0) -> bool:
    """Whether a JSON Schema describes data at `parts` (a `$ref` field, e.g. an address,
    is taken to hold whatever its reusable schema holds)."""
    if not isinstance(schema, dict) or depth > 16:
        return False
    if not parts:
        return True
    for branch in ("allOf", "anyOf", "oneOf"):
        if any(_has_path(s, parts, depth + 1) for s in schema.get(branch) or []):
            return True
    properties = schema.get("properties")
    if isinstance(properties, dict) and parts[0] in properties:
        return _has_path(properties[parts[0]], parts[1:], depth + 1)
    return "$ref" in schema and not isinstance(properties, dict)
