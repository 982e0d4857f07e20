"""The conformance models are what an analyst would draw: Camunda Modeler files with a
diagram, a lane (role), `sla`, `fee` and a form on every step, and each one is driven by
at least one scenario. (Whether they run is `test_scenarios.py`.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine.domain.definitions import ModelPackage
from engine.domain.errors import ModelInvalidError
from engine.modeling import compile_model
from tests.conformance.runner import MODELS, load_scenarios, model_forms

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
PATHS = sorted(MODELS.glob("*.bpmn"))
# Children of a process that bpmn-js does not draw as shapes of their own.
NOT_DRAWN = {"laneSet", "extensionElements", "documentation", "dataObject", "ioSpecification",
             "property", "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",
             "incoming", "outgoing", "conditionExpression", "script", "dataInputAssociation",
             "dataOutputAssociation"}


def _root(path: Path) -> etree._Element:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False)).getroot()


def _drawable(root: etree._Element) -> set[str]:
    ids = set()
    for container in root.iter(*(f"{{{BPMN}}}{k}" for k in
                                 ("process", "subProcess", "transaction", "adHocSubProcess"))):
        for child in container:
            name = etree.QName(child).localname if isinstance(child.tag, str) else ""
            if child.get("id") and name not in NOT_DRAWN and not name.endswith("Definition"):
                ids.add(child.get("id"))
    return ids


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_model_is_a_camunda_modeler_file_with_its_diagram(path: Path) -> None:
    root = _root(path)
    assert root.prefix == "bpmn" and root.nsmap.get("camunda") == CAMUNDA
    assert root.get("exporter") == "Camunda Modeler"
    drawn = {e.get("bpmnElement") for e in root.iter(f"{DI}BPMNShape", f"{DI}BPMNEdge")}
    missing = _drawable(root) - drawn
    assert not missing, f"no BPMNShape/BPMNEdge for {sorted(missing)}"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_step_has_a_role_sla_fee_and_form(path: Path) -> None:
    package = ModelPackage(bpmn=path.read_bytes(), forms=model_forms(path), bpmn_name=path.name)
    try:
        compiled = compile_model(package)
    except ModelInvalidError:
        known = {s.xfail for s in load_scenarios() if s.model == path.stem}
        if None not in known:  # every scenario of the model fails today for a known defect
            pytest.xfail("; ".join(sorted(known)))  # type: ignore[arg-type]
        raise
    called_only = path.stem not in {s.model for s in load_scenarios()}
    assert compiled.process_sla and (compiled.steps or called_only)
    for step in compiled.steps:
        assert step.role and step.sla and step.fee >= 0 and step.form, step


def test_every_model_has_a_scenario() -> None:
    used = {s.model for s in load_scenarios()} | {c for s in load_scenarios() for c in s.calls}
    assert {p.stem for p in PATHS} <= used
