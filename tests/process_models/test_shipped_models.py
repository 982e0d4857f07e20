"""Every shipped procedure compiles, carries its standard, and every scenario reaches its end."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.commands.scenarios import load_scenario, run_scenario
from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.domain.definitions import ImportOutcome
from engine.modeling import compile_model, read_package_dir
from engine.services import models, payments
from forms import FormValidator
from tests.factories import ROOT

SHIPPED = ROOT / "process_models"
MODEL_DIRS = sorted(p.parent for p in SHIPPED.glob("*/*/model.bpmn"))
SCENARIOS = sorted(SHIPPED.glob("*/*/scenarios/*.json"))


def test_at_least_two_regions_ship_procedures() -> None:
    assert len({d.parent.name for d in MODEL_DIRS}) >= 2 and len(MODEL_DIRS) >= 2


@pytest.mark.parametrize("model_dir", MODEL_DIRS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_model_compiles_with_standard_and_scenarios(model_dir: Path) -> None:
    compiled = compile_model(read_package_dir(model_dir))
    assert compiled.key == model_dir.name
    assert compiled.standard and compiled.process_sla
    roles = {s.role for s in compiled.steps}
    assert {"front-office", "head-of-office"} <= roles and roles & {"applicant", "pemohon"}
    assert all(s.sla and s.fee >= 0 for s in compiled.steps)
    assert list(model_dir.glob("scenarios/*.json")), "every model ships scenarios"


@pytest.mark.parametrize(
    "scenario_file", SCENARIOS, ids=lambda p: f"{p.parts[-4]}/{p.parts[-3]}/{p.stem}"
)
def test_scenario_step_data_satisfies_the_forms(scenario_file: Path) -> None:
    compiled = compile_model(read_package_dir(scenario_file.parents[1]))
    validator = FormValidator()
    for step in load_scenario(scenario_file)["steps"]:
        definition = compiled.step(step["task"])
        assert definition is not None, step["task"]
        if definition.form:
            assert validator.validate(compiled.forms[definition.form], step.get("data", {})) == []


@pytest.mark.parametrize(
    "scenario_file", SCENARIOS, ids=lambda p: f"{p.parts[-4]}/{p.parts[-3]}/{p.stem}"
)
def test_scenario_runs_to_its_expected_end(ctx: EngineContext, scenario_file: Path) -> None:
    models.import_directory(ctx, SYSTEM, SHIPPED)
    region, key = scenario_file.parts[-4], scenario_file.parts[-3]
    references = iter(range(1, 1000))

    def pay(actor, app, task) -> None:
        item = next(
            i
            for i in payments.fee_items(ctx, SYSTEM, app.id)
            if i["element_id"] == task.element_id and i["status"] == "open"
        )
        payments.record_payment(
            ctx, SYSTEM, app.id, item["fee_item"], item["amount"], f"TEST-{next(references):04d}"
        )

    result = run_scenario(ctx, region, key, load_scenario(scenario_file), pay=pay)
    assert result.passed, (result.failures, result.application.status, result.application.error)


def test_importing_twice_creates_no_new_versions(ctx: EngineContext) -> None:
    first = models.import_directory(ctx, SYSTEM, SHIPPED)
    second = models.import_directory(ctx, SYSTEM, SHIPPED)
    assert {outcome for *_, outcome in first} == {ImportOutcome.IMPORTED}
    assert {outcome for *_, outcome in second} == {ImportOutcome.UNCHANGED}
