"""Issued documents at upload: an end event's `document` names a template of standard.json
whose paths the forms hold; every other shape is refused at its element, line and field."""

from __future__ import annotations

import copy
import json

import pytest

from engine.domain.definitions import ModelPackage
from engine.domain.errors import ModelInvalidError
from engine.modeling import compile_model
from tests.factories import complete_standard
from tests.service.test_documents import FORM, TEMPLATE, permit_bpmn


def compile_with(bpmn: bytes, template: dict | None = None, **standard: object) -> object:
    documents = {"sip": template if template is not None else TEMPLATE}
    return compile_model(ModelPackage(
        bpmn=bpmn, forms={"permit.json": json.dumps(FORM).encode()},
        standard=json.dumps(complete_standard(documents=documents, **standard)).encode(),
    ))


def problems(bpmn: bytes, template: dict | None = None) -> list:
    with pytest.raises(ModelInvalidError) as refused:
        compile_with(bpmn, template)
    return refused.value.problems


def test_an_end_event_with_a_declared_template_is_stored_with_the_version() -> None:
    compiled = compile_with(permit_bpmn(), agency={"id": "DPMPTSP", "en": "Office"})
    (declared,) = compiled.documents
    assert declared["element_id"] == "end" and declared["template"]["type"] == "SIP"
    assert declared["agency"] == {"id": "DPMPTSP", "en": "Office"}


def test_an_unknown_template_is_refused_at_its_end_event_and_line() -> None:
    bpmn = permit_bpmn().replace(b'value="sip"', b'value="izin-lain"')
    (problem,) = problems(bpmn)
    assert problem.element_id == "end" and problem.field == "document" and problem.line
    assert "'izin-lain'" in problem.message and "it has: sip" in problem.message


def test_a_template_path_no_form_holds_is_refused_naming_the_template_field() -> None:
    template = copy.deepcopy(TEMPLATE)
    template["fields"][1]["from"] = "practice.hours"
    template["holder"] = "applicant.name"
    found = {(p.file, p.field) for p in problems(permit_bpmn(), template)}
    assert found == {("standard.json", "documents.sip.holder"),
                     ("standard.json", "documents.sip.fields[1].from")}


@pytest.mark.parametrize(("change", "field"), [
    ({"type": "sip"}, "documents.sip.type"),
    ({"title": {"id": "Izin"}}, "documents.sip.title"),
    ({"valid_years": 0}, "documents.sip.valid_years"),
    ({"fields": [{"label": {"id": "a", "en": "b"}, "from": "x..y"}]}, "documents.sip.fields[0].from"),
    ({"colour": "red"}, "documents.sip.colour"),
])
def test_a_malformed_template_is_refused_naming_its_field(change: dict, field: str) -> None:
    fields = {p.field for p in problems(permit_bpmn(), {**TEMPLATE, **change})}
    assert field in fields


def test_the_document_property_anywhere_but_an_end_event_is_refused() -> None:
    bpmn = permit_bpmn().replace(b'<camunda:property name="document" value="sip"/>', b"").replace(
        b'<camunda:property name="form" value="permit.json"/>',
        b'<camunda:property name="form" value="permit.json"/>'
        b'<camunda:property name="document" value="sip"/>',
    )
    (problem,) = problems(bpmn)
    assert problem.element_id == "step_1" and problem.field == "document"
    assert "only an end event" in problem.message
