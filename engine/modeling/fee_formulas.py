"""Fee formulas at upload: each `feeFormula` step gets its published definition attached."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from engine.domain.definitions import StepDefinition
from engine.domain.fees_formula import parse_formulas
from engine.domain.problems import Problem
from engine.workflow.decision_tables import read_fee_table

STANDARD_FILE = "standard.json"


def attach_formulas(
    steps: Sequence[StepDefinition],
    standard: dict[str, Any] | None,
    decisions: Mapping[str, bytes] | None = None,
) -> tuple[list[StepDefinition], list[Problem]]:
    """Steps with their formula's definition and hash; a problem for each formula that is
    malformed or that a step names and the standard does not declare.

    A formula naming a `decision_table` gets that package file's DMN text as `dmn` (in the
    standard as stored and published, so the hash covers the table and a replica needs no
    file); the table is checked, inputs and coverage, by engine.workflow.decision_tables."""
    problems_in_files = _inline_tables(standard, decisions or {})
    formulas, found = parse_formulas(standard, read_fee_table)
    problems = problems_in_files + [
        dataclasses.replace(p, file=p.file or STANDARD_FILE) for p in found
    ]
    attached = []
    for step in steps:
        if step.fee_formula is None:
            attached.append(step)
            continue
        name = step.fee_formula["name"]
        formula = formulas.get(name)
        if formula is None and name in declared_names(standard):
            continue  # declared but refused: its own problems say why
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


def _inline_tables(
    standard: dict[str, Any] | None, decisions: Mapping[str, bytes]
) -> list[Problem]:
    declared = (standard or {}).get("fee_formulas")
    if not isinstance(declared, dict):
        return []
    problems = []
    for raw in declared.values():
        if not isinstance(raw, dict) or "decision_table" not in raw:
            continue
        file = raw["decision_table"]
        data = decisions.get(file) if isinstance(file, str) else None
        if data is None:  # a stored version's table travels in its standard as `dmn`
            continue
        try:
            raw["dmn"] = data.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(f"decisions/{file} is not UTF-8 text",
                                    file=f"decisions/{file}"))
    return problems


def declared_names(standard: dict[str, Any] | None) -> set[str]:
    """The formula names the standard declares, parsed or not."""
    declared = (standard or {}).get("fee_formulas")
    return {str(n) for n in declared} if isinstance(declared, dict) else set()
