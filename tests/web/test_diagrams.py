"""Every shipped model and README example opens in bpmn-js and Camunda Modeler: each flow
node and flow has its diagram interchange (DI), and bpmn-js imports it without a warning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.web.conftest import ROOT, Site

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
MODELS = sorted([
    *ROOT.glob("process_models/**/model.bpmn"),
    *ROOT.glob("examples/**/model.bpmn"),
    *ROOT.glob("tests/conformance/models/*.bpmn"),
])
NOT_DRAWN = {
    "laneSet",
    "dataObject",  # bpmn-js draws its references, not the object
    "lane",
    "extensionElements",
    "documentation",
    "property",
    "dataInput",
    "dataOutput",
    "ioSpecification",
    "inputSet",
    "outputSet",
    "textAnnotation",
    "association",
    "multiInstanceLoopCharacteristics",
    "standardLoopCharacteristics",
    "incoming",
    "outgoing",
    "conditionExpression",
    "script",
    "timerEventDefinition",
}


def drawable_ids(root: Any) -> set[str]:
    """Ids of the flow nodes and sequence/message flows of every process and sub-process."""
    ids = set()
    for container in root.iter(f"{BPMN}process", f"{BPMN}subProcess", f"{BPMN}transaction"):
        for child in container:
            name = etree.QName(child).localname
            if child.get("id") and name not in NOT_DRAWN and not name.endswith("EventDefinition"):
                ids.add(child.get("id"))
    ids |= {f.get("id") for f in root.iter(f"{BPMN}messageFlow")}
    return ids


@pytest.mark.parametrize("path", MODELS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_flow_node_and_flow_has_its_di(path: Path) -> None:
    root = etree.parse(
        str(path), etree.XMLParser(resolve_entities=False, no_network=True)
    ).getroot()
    drawn = {e.get("bpmnElement") for e in root.iter(f"{DI}BPMNShape", f"{DI}BPMNEdge")}
    missing = drawable_ids(root) - drawn
    assert not missing, f"{path}: no BPMNShape/BPMNEdge for {sorted(missing)}"


@pytest.mark.slow
@pytest.mark.browser
def test_bpmn_js_imports_every_model_without_warnings(page: Any, site: Site) -> None:
    page.goto(site.url("/layanan/3273/pbg"))
    page.wait_for_function("() => window.BpmnJS")
    for path in MODELS:
        result = page.evaluate(
            """async (xml) => {
                const box = document.createElement('div');
                box.className = 'pf-diagram';
                document.body.appendChild(box);
                const viewer = new window.BpmnJS({container: box});
                try {
                    const {warnings} = await viewer.importXML(xml);
                    return warnings.map(w => w.message);
                } catch (error) { return ['import failed: ' + error.message]; }
                finally { viewer.destroy(); box.remove(); }
            }""",
            path.read_text("utf-8"),
        )
        assert result == [], f"{path}: {result}"
