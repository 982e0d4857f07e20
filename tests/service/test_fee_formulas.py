"""Fee formulas: published with the standard, evaluated once when the fee item opens, frozen."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from api.commands.scenarios import load_scenario
from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM
from engine.domain.definitions import ModelPackage
from engine.domain.fees_formula import FormulaError, parse_formula, parse_formulas
from engine.services import applications, fee_assessment, models, payments, tasks
from tests.factories import ROOT, make_region, make_user

PBG = ROOT / "process_models" / "3273" / "pbg"
STANDARD = json.loads((PBG / "standard.json").read_text())
REFERENCE = {"luas_lantai": 150, "fungsi": "hunian", "kompleksitas": "sederhana",
             "jumlah_lantai": 2}


def formula(expression: str, **extra: Any):
    raw = {"version": "1", "expression": expression,
           "inputs": {"x": {"type": "number"}}, **extra}
    found, problems = parse_formula("f", raw)
    assert problems == [] and found is not None, problems
    return found


# -- the formula language -------------------------------------------------------------------


def test_the_shipped_pbg_formula_gives_the_reference_house_and_exempts_mbr() -> None:
    formulas, problems = parse_formulas(STANDARD)
    assert problems == []
    pbg = formulas["retribusi_pbg"]
    # 150 m2 x (0.5 % x Rp 6,000,000) x It 0.0986 (= 0.17 x 0.58 x 1) x Ibg 1
    result = pbg.evaluate(REFERENCE)
    assert result.amount == 443_700 and Decimal(result.exact) == Decimal("443700")
    assert pbg.evaluate({**REFERENCE, "mbr": True}).amount == 0
    # A small single-storey house takes the lower dwelling index, 0.15 x 0.58.
    assert pbg.evaluate({**REFERENCE, "luas_lantai": 75.5, "jumlah_lantai": 1}).amount == 197_055


def test_literals_are_read_as_decimals_never_through_a_float() -> None:
    # 100 x 2.675 is 267.49999999999997 in floating point, which would round down.
    assert formula("x * 2.675").evaluate({"x": 100}).amount == 268
    assert formula("x / 3").evaluate({"x": 100}).amount == 33
    assert formula("x * 1.5", rounding={"mode": "down", "to": 1}).evaluate({"x": 3}).amount == 4
    assert formula("x", rounding={"mode": "half_up", "to": 100}).evaluate({"x": 150}).amount == 200
    # An input given as a JSON fraction is taken by its shortest text: 0.1 stays 0.1.
    assert formula("x * 10").evaluate({"x": 0.1}).amount == 1


@pytest.mark.parametrize("expression", [
    "__import__('os')", "x.real", "open('f')", "[x]", "x ** 2", "lambda: 1", "unknown * 2",
    "other[x]", "min(x, key=x)", "f'{x}'",
])
def test_anything_but_arithmetic_over_named_values_is_refused_at_upload(expression: str) -> None:
    found, problems = parse_formula("f", {"version": "1", "expression": expression,
                                         "inputs": {"x": {"type": "number"}}})
    assert found is None and problems and problems[0].field == "fee_formulas.f.expression"


def test_constants_must_be_written_as_decimal_text_not_json_fractions() -> None:
    found, problems = parse_formula("f", {"version": "1", "expression": "x * k",
                                         "inputs": {"x": {"type": "number"}},
                                         "constants": {"k": 0.005}})
    assert found is None and problems[0].field == "fee_formulas.f.constants.k"


def test_missing_or_out_of_range_inputs_are_named_by_their_data_path() -> None:
    pbg = parse_formulas(STANDARD)[0]["retribusi_pbg"]
    with pytest.raises(FormulaError) as caught:
        pbg.evaluate({"luas_lantai": -1, "fungsi": "kandang", "jumlah_lantai": 2.5})
    fields = {p.field for p in caught.value.problems}
    assert fields == {"building.floor_area_m2", "building.function", "building.classification",
                      "building.floors"}


# -- the engine ----------------------------------------------------------------------------


def run_to_payment(ctx: EngineContext, building: dict[str, Any] | None = None) -> Any:
    """A PBG application driven by its happy-path scenario until the retribution is due."""
    steps = copy.deepcopy(load_scenario(PBG / "scenarios" / "happy_path.json")["steps"])
    if building:
        steps[0]["data"]["building"].update(building)
    officer, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, officer, "3273", "pbg", {"name": "Siti"}, {})
    for step in steps:
        ready = {t.element_id: t for t in applications.get_application(ctx, SYSTEM, app.id).tasks
                 if t.state == "ready"}
        if step["task"] not in ready:
            break
        if step["task"] == "pay_retribution":
            return app, ready["pay_retribution"], step
        tasks.complete_task(ctx, SYSTEM, ready[step["task"]].id, step["data"])
    raise AssertionError("pay_retribution never became ready")


def test_the_fee_item_opens_with_the_formula_result_frozen_with_its_inputs(
    ctx: EngineContext,
) -> None:
    models.import_directory(ctx, SYSTEM, ROOT / "process_models")
    app, pay, _ = run_to_payment(ctx)
    assert pay.fee == 443_700
    (item,) = payments.fee_items(ctx, SYSTEM, app.id)
    assert item["amount"] == 443_700 and item["billing_code"].startswith("32732")
    assert item["formula"]["name"] == "retribusi_pbg" and item["formula"]["inputs"] == {
        **REFERENCE, "mbr": False}
    estimate = fee_assessment.fee_estimate(ctx, "3273", "pbg", REFERENCE)
    assert estimate["total"] == 443_700 and estimate["fees"][0]["assessment"]["sha256"] == (
        item["formula"]["sha256"])


def test_the_assessment_is_in_the_audit_log(ctx: EngineContext) -> None:
    models.import_directory(ctx, SYSTEM, ROOT / "process_models")
    app, _, _ = run_to_payment(ctx)
    with ctx.reader() as uow:
        (billed,) = [dict(e.data) for e in uow.repos.events.for_application(app.id)
                     if e.action == "fee.billed"]
    assert billed["amount"] == 443_700 and billed["billing_code"]
    assessed = billed["assessment"]
    assert assessed["amount"] == 443_700 and assessed["inputs"]["luas_lantai"] == 150
    assert assessed["exact"] == "443700.000000000" and assessed["rounding"] == "half_up to 1"


def test_an_mbr_house_pays_nothing_and_its_payment_step_is_not_blocked(ctx: EngineContext) -> None:
    models.import_directory(ctx, SYSTEM, ROOT / "process_models")
    app, pay, step = run_to_payment(ctx, {"mbr": True})
    assert pay.fee == 0 and payments.fee_items(ctx, SYSTEM, app.id) == []
    tasks.complete_task(ctx, SYSTEM, pay.id, step["data"])  # no fee-unpaid refusal


def test_a_tampered_amount_or_a_changed_formula_after_opening_changes_nothing(
    ctx: EngineContext,
) -> None:
    models.import_directory(ctx, SYSTEM, ROOT / "process_models")
    app, _, _ = run_to_payment(ctx)
    (item,) = payments.fee_items(ctx, SYSTEM, app.id)
    cashier, _ = make_user(ctx, "cashier")
    with pytest.raises(errors.InvalidInputError):
        payments.record_payment(ctx, cashier, app.id, item["fee_item"], 2_700_000, "BJB-0001")
    # A new version doubles the unit price: new applications pay more, this one does not.
    standard = copy.deepcopy(STANDARD)
    standard["fee_formulas"]["retribusi_pbg"]["constants"]["shst"] = "12000000"
    package = ModelPackage(
        bpmn=(PBG / "model.bpmn").read_bytes(),
        forms={p.name: p.read_bytes() for p in (PBG / "forms").glob("*.json")},
        standard=json.dumps(standard).encode(),
    )
    assert models.upload_model(ctx, SYSTEM, "3273", package).version == 2
    assert fee_assessment.fee_estimate(ctx, "3273", "pbg", REFERENCE)["total"] == 887_400
    (again,) = payments.fee_items(ctx, SYSTEM, app.id)
    assert again["amount"] == 443_700 and again["formula"]["sha256"] == item["formula"]["sha256"]
    receipt = payments.record_payment(ctx, cashier, app.id, item["fee_item"], 443_700, "BJB-0002")
    assert receipt["status"] == "paid"


def test_a_step_naming_an_undeclared_formula_is_refused_at_upload(ctx: EngineContext) -> None:
    make_region(ctx, "3273")
    package = ModelPackage(
        bpmn=(PBG / "model.bpmn").read_bytes().replace(b'"retribusi_pbg"', b'"no_such"'),
        forms={p.name: p.read_bytes() for p in (PBG / "forms").glob("*.json")},
        standard=(PBG / "standard.json").read_bytes(),
    )
    with pytest.raises(errors.ModelInvalidError) as caught:
        models.upload_model(ctx, SYSTEM, "3273", package)
    (problem,) = caught.value.problems
    assert problem.element_id == "pay_retribution" and problem.field == "feeFormula"


def test_a_formula_input_missing_from_the_data_refuses_the_call_and_writes_nothing(
    ctx: EngineContext,
) -> None:
    standard = copy.deepcopy(STANDARD)
    standard["fee_formulas"]["retribusi_pbg"]["inputs"]["luas_lantai"]["from"] = "building.none"
    package = ModelPackage(
        bpmn=(PBG / "model.bpmn").read_bytes(),
        forms={p.name: p.read_bytes() for p in (PBG / "forms").glob("*.json")},
        standard=json.dumps(standard).encode(),
    )
    models.import_directory(ctx, SYSTEM, ROOT / "process_models")
    models.upload_model(ctx, SYSTEM, "3273", package)
    with pytest.raises(errors.InvalidInputError) as caught:
        run_to_payment(ctx)
    assert caught.value.problems[0].field == "building.none"
    assert caught.value.problems[0].element_id == "pay_retribution"
