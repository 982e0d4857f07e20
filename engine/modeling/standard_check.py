"""The service standard at upload: all 14 components, and nothing that contradicts the model.

The time limit and the fees shown to citizens come from the model; `standard.json` need not
state them, and where it does (`time_limit.sla`, `fees.total`, a `procedure` list of steps) it
must say what the model says, or the upload is refused naming both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.domain.definitions import StepDefinition
from engine.domain.problems import Problem
from engine.domain.service_standard import COMPONENTS, STANDARD_FILE, missing_components
from engine.modeling.values import canonical_sla


def check_components(standard: dict[str, Any] | None) -> list[Problem]:
    """Each of the 14 components `standard.json` leaves out (none when there is no file)."""
    return [] if standard is None else missing_components(standard)


def check_against_model(
    standard: dict[str, Any] | None,
    process_sla: str | None,
    steps: Sequence[StepDefinition],
    key: str,
) -> list[Problem]:
    """The components the model gives (time limit) and every fact of `standard` that
    contradicts the model; run once the model itself is known to be sound."""
    if standard is None:
        return []
    problems = []
    if process_sla is None:
        time_limit = next(c for c in COMPONENTS if c.key == "sla")
        problems.append(Problem(
            f"the model declares no process sla, and {time_limit.label()} comes from it: add "
            "the process property sla (e.g. P10D) to the model",
            element_id=key or None, field="sla",
        ))
    problems += _time_limit(standard.get("time_limit"), process_sla)
    fee_key = "fees" if "fees" in standard else "fee"
    problems += _fees(standard.get(fee_key), steps, f"/{fee_key}/total")
    problems += _procedure(standard.get("procedure"), steps)
    return problems


def _contradiction(message: str, field: str) -> Problem:
    return Problem(message + " (state it once, in the model)", field=field, file=STANDARD_FILE)


def _time_limit(stated: Any, process_sla: str | None) -> list[Problem]:
    if not isinstance(stated, dict) or stated.get("sla") is None:
        return []
    try:
        text = canonical_sla(str(stated["sla"]))
    except ValueError as exc:
        return [Problem(f"time_limit.sla: {exc}", field="/time_limit/sla", file=STANDARD_FILE)]
    if text == process_sla:
        return []
    return [_contradiction(
        f"standard.json's time_limit.sla {text!r} contradicts the model's process sla "
        f"{process_sla!r}", "/time_limit/sla")]


def _fees(stated: Any, steps: Sequence[StepDefinition], field: str) -> list[Problem]:
    if not isinstance(stated, dict) or stated.get("total") is None:
        return []
    total = stated["total"]
    formulas = [s.element_id for s in steps if s.fee_formula]
    fixed = sum(s.fee for s in steps)
    if formulas:
        return [_contradiction(
            f"standard.json's fees.total {total!r} contradicts the model, whose steps "
            f"{', '.join(formulas)} charge by a published formula (the amount is known per "
            "application)", field)]
    if isinstance(total, bool) or not isinstance(total, int) or total != fixed:
        return [_contradiction(
            f"standard.json's fees.total {total!r} contradicts the model's total of its "
            f"steps' fees, {fixed}", field)]
    return []


def _procedure(stated: Any, steps: Sequence[StepDefinition]) -> list[Problem]:
    """A `procedure` given as a list of steps: each must be a step of the model, with its
    SLA, fee and role as the model has them."""
    if not isinstance(stated, list):
        return []
    by_id = {s.element_id: s for s in steps}
    problems = []
    for i, item in enumerate(stated):
        element_id = item.get("element_id") if isinstance(item, dict) else None
        step = by_id.get(element_id) if isinstance(element_id, str) else None
        if step is None:
            problems.append(Problem(
                f"procedure[{i}] names no step of the model ({element_id!r}); the procedure "
                "is the model's, list nothing else", field=f"/procedure/{i}", file=STANDARD_FILE))
            continue
        assert isinstance(item, dict)
        model = {"sla": step.sla, "fee": step.fee, "role": step.role}
        for name, value in model.items():
            if name in item and item[name] != value:
                problems.append(_contradiction(
                    f"standard.json's procedure[{i}] ({element_id}) {name} {item[name]!r} "
                    f"contradicts the model's {value!r}", f"/procedure/{i}/{name}"))
    return problems
