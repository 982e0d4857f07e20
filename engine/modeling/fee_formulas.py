"""Fee formulas at upload: each `feeFormula` step gets its published definition attached."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from engine.domain.definitions import StepDefinition
from engine.domain.fees_formula import parse_formulas
from engine.domain.problems import Problem

STANDARD_FILE = "standard.json"


def attach_formulas(
    steps: Sequence[StepDefinition], standard: dict[str, Any] | None
) -> tuple[list[StepDefinition], list[Problem]]:
    """Steps with their formula's definition and hash; a problem for each formula that is
    malformed or that a step names and the standard does not declare."""
    formulas, found = parse_formulas(standard)
    problems = [dataclasses.replace(p, file=p.file or STANDARD_FILE) for p in found]
    attached = []
    for step in steps:
        if step.fee_formula is None:
            attached.append(step)
            continue
        name = step.fee_formula["name"]
        formula = formulas.get(name)
        if formula is None:
            have = ", ".join(sorted(formulas)) or "none"
            problems.append(Problem(
                f"step {step.element_id!r} uses the fee formula {name!r}, which "
                f"standard.json does not declare under fee_formulas (it has: {have})",
                element_id=step.element_id, line=step.line, field="feeFormula",
            ))
            continue
        attached.append(dataclasses.replace(step, fee_formula=formula.published()))
    return attached, problems
