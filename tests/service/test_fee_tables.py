"""DMN fee tables (issue #14 item 1): a step's fee from a decision table in the model package,
run by SpiffWorkflow's DMN engine in the sandbox, checked at upload (integer amounts, declared
inputs, a rule for every combination the inputs declare possible), evaluated once when the fee
item opens and frozen with its inputs, table version and rule in the audit log; published in
the service standard and used by the public estimate."""

from __future__ import annotations

from typing import Any

import pytest

from engine.context import EngineContext
from engine.domain import errors
from engine.domain.actors import SYSTEM
from engine.domain.definitions import ModelPackage
from engine.services import applications, audit, fee_assessment, models, standards, tasks
from tests.factories import make_region, make_user
from tests.support import dmn as t


def package(rules=t.REKLAME_RULES, **kw: Any) -> ModelPackage:
    table = kw.pop("table", None) or t.dmn(rules, **kw)
    return ModelPackage(bpmn=t.bpmn(), standard=t.standard(),
                        decisions={"retribusi_reklame.dmn": table})


def refused(ctx: EngineContext, pkg: ModelPackage) -> list[Any]:
    with pytest.raises(errors.ModelInvalidError) as caught:
        models.upload_model(ctx, SYSTEM, "3273", pkg)
    return caught.value.problems


@pytest.fixture
def region(ctx: EngineContext) -> str:
    return make_region(ctx)


def to_fee(ctx: EngineContext, reklame: dict[str, Any]) -> Any:
    officer, _ = make_user(ctx, "front-office")
    app = applications.start_application(ctx, officer, "3273", "reklame", {"name": "Siti"}, {})
    first = next(s for s in applications.get_application(ctx, SYSTEM, app.id).tasks
                 if s.state == "ready")
    tasks.complete_task(ctx, SYSTEM, first.id, {"reklame": reklame})
    return applications.get_application(ctx, SYSTEM, app.id)


def test_the_fee_comes_from_the_table_frozen_with_inputs_version_and_rule(ctx, region) -> None:
    models.upload_model(ctx, SYSTEM, "3273", package())
    app = to_fee(ctx, {"jenis": "billboard", "luas_m2": 12.5})
    (fee,) = app.fees
    assert fee["amount"] == 1_500_000
    (billed,) = [e for e in audit.application_events(ctx, SYSTEM, app.id)
                 if e.action == "fee.billed"]
    assessment = billed.data["assessment"]
    assert assessment["version"] == "2026.1" and assessment["amount"] == 1_500_000
    assert assessment["inputs"] == {"jenis": "billboard", "luas": "12.5"}
    assert assessment["decision_table"] == {"decision": "retribusi_reklame",
                                            "table": "tabel_reklame", "hit_policy": "UNIQUE",
                                            "row": 2}
    # The public estimate gives the same figure, from the same published table.
    estimate = fee_assessment.fee_estimate(ctx, "3273", "reklame",
                                           {"jenis": "billboard", "luas": 12.5})
    assert estimate["total"] == 1_500_000
    assert estimate["fees"][0]["assessment"]["sha256"] == assessment["sha256"]


def test_the_table_is_published_in_the_service_standard(ctx, region) -> None:
    models.upload_model(ctx, SYSTEM, "3273", package())
    standard = standards.service_standard(ctx, "3273", "reklame")
    (published,) = standard["totals"]["fee_formulas"]
    assert published["decision_table"] == "retribusi_reklame.dmn"
    assert 'id="tabel_reklame"' in published["dmn"]  # the table itself, as it runs
    step = next(s for s in standard["procedure"] if s.get("fee_formula"))
    assert step["fee_formula"]["sha256"] == published["sha256"]


def test_a_changed_table_after_the_fee_opened_changes_nothing(ctx, region) -> None:
    models.upload_model(ctx, SYSTEM, "3273", package())
    app = to_fee(ctx, {"jenis": "spanduk", "luas_m2": 3})
    cheaper = [(e, "1") for e, _ in t.REKLAME_RULES]
    assert models.upload_model(ctx, SYSTEM, "3273", package(cheaper)).version == 2
    assert applications.get_application(ctx, SYSTEM, app.id).fees[0]["amount"] == 100_000
    assert to_fee(ctx, {"jenis": "spanduk", "luas_m2": 3}).fees[0]["amount"] == 1


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"rules": [(['"billboard"', "< 10"], "500000.50")]}, "not a whole number"),
        ({"rules": [(['"billboard"', "< 10"], "luas * 1000")]}, "not a whole number"),
        ({"rules": [(['"billboard"', "< 10"], "")]}, "not a whole number"),
        ({"output_type": "double"}, "the amount is an integer"),
        ({"hit_policy": "COLLECT"}, "gives no single amount"),
        ({"inputs": ("jenis", "luas * 2")}, "the name of one declared input"),
        ({"inputs": ("jenis", "tinggi")}, "not declared"),
        ({"rules": [(['"billboard"', "[1..10["], "1")]}, "cannot be read"),
    ],
    ids=["fraction", "expression", "empty", "double", "collect", "expression-input",
         "undeclared-input", "feel-range"],
)
def test_a_table_whose_amounts_are_not_integers_or_inputs_not_declared_is_refused(
    ctx, region, kw, why
) -> None:
    problems = refused(ctx, package(**kw))
    assert any(why in p.message for p in problems), problems
    assert all(p.field and p.field.startswith("fee_formulas.retribusi_reklame") for p in problems)


def test_a_gap_any_declared_input_reaches_is_refused_at_upload(ctx, region) -> None:
    problems = refused(ctx, package(t.REKLAME_RULES[:2]))  # no rule for "spanduk"
    assert "no rule matches jenis='spanduk'" in problems[0].message
    assert problems[0].element_id == "tabel_reklame"
    # A threshold the rules leave open: between < 10 and > 10 lies 10 itself.
    gap = [(['"billboard"', "< 10"], "1"), (['"billboard"', "> 10"], "2"), (['"spanduk"', "-"], "3")]
    assert "jenis='billboard', luas=10" in refused(ctx, package(gap))[0].message


def test_overlapping_rules_of_a_unique_table_are_refused_first_takes_the_first(ctx, region) -> None:
    overlap = [(['"billboard"', "< 10"], "1"), (['"billboard"', ">= 5"], "2"),
               (['"spanduk"', "-"], "3")]
    assert "rules 1 and 2 of a UNIQUE table" in refused(ctx, package(overlap))[0].message
    models.upload_model(ctx, SYSTEM, "3273", package(overlap, hit_policy="FIRST"))
    assert to_fee(ctx, {"jenis": "billboard", "luas_m2": 7}).fees[0]["amount"] == 1


def test_a_gap_past_the_checked_combinations_is_a_located_error_at_evaluation(
    ctx, region
) -> None:
    # Three inputs of 13 values each: 2,197 combinations, past what upload runs.
    names = ("a", "b", "c")
    values = [f"v{i}" for i in range(13)]
    inputs = {n: {"from": f"reklame.{n}", "type": "enum", "values": values} for n in names}
    rest = [f'"{v}"' for v in values[1:]]
    rules = ([([v, "-", "-"], "1000") for v in rest] + [(['"v0"', v, "-"], "2000") for v in rest]
             + [(['"v0"', '"v0"', v], "3000") for v in rest])  # (v0, v0, v0) has no rule
    pkg = ModelPackage(bpmn=t.bpmn(), standard=t.standard(inputs),
                       decisions={"retribusi_reklame.dmn": t.dmn(rules, names)})
    models.upload_model(ctx, SYSTEM, "3273", pkg)
    with pytest.raises(errors.InvalidInputError) as caught:
        to_fee(ctx, {"a": "v0", "b": "v0", "c": "v0"})
    (problem,) = caught.value.problems
    assert problem.element_id == "tabel_reklame"
    assert problem.field == "fee_formulas.retribusi_reklame.dmn"
    assert "no rule of table 'tabel_reklame' matches a='v0', b='v0', c='v0'" in problem.message


def test_a_missing_file_or_an_unsafe_table_is_refused(ctx, region) -> None:
    missing = ModelPackage(bpmn=t.bpmn(), standard=t.standard())
    assert "names no DMN file of the package" in refused(ctx, missing)[0].message
    entity = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><definitions/>'
    assert "DOCTYPE" in refused(ctx, package(table=entity))[0].message
