"""DMN fee tables for the tests, written here: a table is a list of rules, each the input
entries and the amount text."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from tests.factories import complete_standard
from tests.support.uploaded_files import model_bpmn

DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
REKLAME_RULES = [
    (['"billboard"', "< 10"], "500000"),
    (['"billboard"', ">= 10"], "1500000"),
    (['"spanduk"', "-"], "100000"),
]
REKLAME_INPUTS = {
    "jenis": {"from": "reklame.jenis", "type": "enum", "values": ["billboard", "spanduk"]},
    "luas": {"from": "reklame.luas_m2", "type": "number", "minimum": "1", "maximum": "1000"},
}


def dmn(
    rules: list[tuple[list[str], str]],
    inputs: tuple[str, ...] = ("jenis", "luas"),
    *,
    hit_policy: str = "UNIQUE",
    output_type: str = "integer",
) -> bytes:
    heads = "".join(
        f'<input id="in_{n}" label="{n}"><inputExpression id="ie_{n}" typeRef="string">'
        f"<text>{n}</text></inputExpression></input>"
        for n in inputs
    )
    rows = "".join(
        f'<rule id="r{i}">'
        + "".join(f'<inputEntry id="r{i}_{j}"><text>{escape(t)}</text></inputEntry>'
                  for j, t in enumerate(entries))
        + f'<outputEntry id="r{i}_out"><text>{escape(amount)}</text></outputEntry></rule>'
        for i, (entries, amount) in enumerate(rules, 1)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><definitions xmlns="{DMN_NS}" id="defs" '
        f'name="Retribusi" namespace="http://permitflow.test"><decision id="retribusi_reklame" '
        f'name="Retribusi reklame"><decisionTable id="tabel_reklame" hitPolicy="{hit_policy}">'
        f'{heads}<output id="out_amount" name="amount" typeRef="{output_type}"/>{rows}'
        "</decisionTable></decision></definitions>"
    ).encode()


def standard(inputs: dict | None = None, version: str = "2026.1") -> bytes:
    """A complete service standard whose one fee formula is the table."""
    return json.dumps(complete_standard(fee_formulas={"retribusi_reklame": {
        "version": version,
        "title": {"id": "Retribusi reklame", "en": "Billboard charge"},
        "decision_table": "retribusi_reklame.dmn",
        "inputs": inputs or REKLAME_INPUTS,
    }})).encode()


def bpmn(key: str = "reklame") -> bytes:
    """Two steps (with the process SLA a complete standard needs); the second charges by
    the table."""
    text = model_bpmn(key, "front-office").decode()
    first = text.index('<camunda:property name="fee" value="0"/>',
                       text.index('id="step_2"'))
    text = (text[:first] + '<camunda:property name="feeFormula" value="retribusi_reklame"/>'
            + text[first + len('<camunda:property name="fee" value="0"/>'):])
    return text.encode()
