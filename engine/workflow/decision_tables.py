"""DMN decision tables as fee tables, run by SpiffWorkflow's DMN engine (issue #14 item 1).

A fee table is one DMN decision holding one decision table with hit policy UNIQUE or FIRST
and exactly one output, the amount: every rule's output is a whole-rupiah integer literal
(a float, an expression or an empty cell is refused at upload, so no amount is ever computed
through a float). Each input's expression is the name of one input the formula declares;
the rules' input entries are SpiffWorkflow's Python-like tests (`"hunian"`, `< 100`,
`100 <= ? < 500`, `-`), run in permitflow's sandbox like every other expression.

SpiffWorkflow 3.2's DMN engine evaluates rules against a task, and does not check UNIQUE: the
two corrections (a stand-in task, every matching rule) are in `spiff_compat/dmn.py`.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from lxml import etree
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser

from engine.domain.fee_inputs import InputSpec
from engine.domain.fees_formula import FormulaError
from engine.domain.problems import Problem
from engine.workflow.script_engine import SandboxedScriptEngine
from engine.workflow.spiff_compat.dmn import TableTask, all_matching_rules, matching_rules

HIT_POLICIES = ("UNIQUE", "FIRST")
INTEGER_TYPES = ("", "integer", "long", "number")
MAX_RULES = 1_000
_INTEGER = re.compile(r"\s*\d+(_\d{3})*\s*")
_SCRIPT_ENGINE = SandboxedScriptEngine()


class DecisionError(ValueError):
    """A table that gives no amount for these inputs (no rule, or a rule that fails)."""

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


@dataclass(frozen=True)
class FeeTable:
    """A parsed, checked fee table."""

    decision_id: str
    table_id: str
    hit_policy: str
    inputs: tuple[str, ...]  # the input expressions: names of the formula's inputs
    output: str
    rows: int
    entries: tuple[tuple[str | None, ...], ...]  # per rule, its input entries (None: any)
    _table: Any = field(repr=False, compare=False)

    def decide(self, values: Mapping[str, Any]) -> tuple[int, int]:
        """The amount and the (1-based) row of the rule that gives it.

        Raises: DecisionError when no rule matches or a rule cannot be evaluated.
        """
        matched = self.matches(values, every=False)
        if not matched:
            shown = ", ".join(f"{k}={values.get(k)!r}" for k in self.inputs)
            raise DecisionError(f"no rule of table {self.table_id!r} matches {shown}")
        rule = matched[0]
        text = rule.outputEntries[0].text if rule.outputEntries else ""
        return int(text.replace("_", "")), int(rule.row_number)

    def matches(self, values: Mapping[str, Any], *, every: bool = True) -> list[Any]:
        """The rules matching `values` (all of them with `every`, else as the hit policy
        stops). Raises: DecisionError."""
        task = TableTask(dict(values), _SCRIPT_ENGINE)
        try:
            if every:
                return all_matching_rules(self._table, task)
            return matching_rules(self._table, task)
        except Exception as exc:  # a rule's test failed in the sandbox (e.g. a type error)
            notes = " ".join(getattr(exc, "__notes__", []) or [])
            row = re.search(r"row (\d+)", notes)
            raise DecisionError(
                f"table {self.table_id!r} failed: {exc} {notes}".strip(),
                int(row.group(1)) if row else None,
            ) from None


def parse_fee_table(root: etree._Element, filename: str) -> tuple[FeeTable | None, list[Problem]]:
    """Read a DMN document (already parsed safely) as a fee table; every problem is located
    by file and element id."""
    parser = BpmnDmnParser()
    try:
        parser.add_dmn_xml(root, filename=filename)
        (dmn,) = parser.dmn_parsers.values()
        dmn.parse()
        decision = dmn.decision
    except Exception as exc:  # the library's own refusals (ValidationException) and faults
        return None, [Problem(f"{filename} is not a readable DMN decision: {_first_line(exc)}",
                              file=filename)]
    tables = decision.decisionTables
    if len(tables) != 1:
        return None, [Problem(f"{filename}: the decision must hold exactly one decision table",
                              element_id=decision.id, file=filename)]
    table = tables[0]
    problems = _table_problems(table, filename)
    if problems:
        return None, problems
    fee_table = FeeTable(
        decision_id=decision.id,
        table_id=table.id,
        hit_policy=table.hit_policy,
        inputs=tuple((i.expression or "").strip() for i in table.inputs),
        output=table.outputs[0].name or table.outputs[0].label,
        rows=len(table.rules),
        entries=tuple(tuple(e.lhs[0] if e.lhs else None for e in r.inputEntries)
                      for r in table.rules),
        _table=table,
    )
    return fee_table, []


def _table_problems(table: Any, filename: str) -> list[Problem]:
    def at(message: str, element_id: str | None = None) -> Problem:
        return Problem(f"{filename}: {message}", element_id=element_id or table.id,
                       file=filename)

    problems = []
    if table.hit_policy not in HIT_POLICIES:
        problems.append(at(f"hit policy {table.hit_policy} gives no single amount; use "
                           f"{' or '.join(HIT_POLICIES)}"))
    if len(table.outputs) != 1:
        problems.append(at("a fee table has exactly one output: the amount in whole rupiah"))
    elif (table.outputs[0].typeRef or "").lower() not in INTEGER_TYPES:
        problems.append(at(f"the output's type is {table.outputs[0].typeRef}; the amount is an "
                           "integer (whole rupiah)", table.outputs[0].id))
    if not table.rules or len(table.rules) > MAX_RULES:
        problems.append(at(f"a fee table has 1 to {MAX_RULES} rules"))
    for i in table.inputs:
        if not (i.expression or "").strip().isidentifier():
            problems.append(at("each input's expression is the name of one declared input, "
                               f"not {i.expression!r}", i.id))
    for rule in table.rules:
        problems += _rule_problems(rule, at)
    return problems


def _rule_problems(rule: Any, at: Any) -> list[Problem]:
    problems = []
    for entry in rule.outputEntries:
        text = entry.text or ""
        if not _INTEGER.fullmatch(text) or not isinstance(ast.literal_eval(text.strip()), int):
            problems.append(at(f"rule {rule.row_number}: the amount {text.strip()!r} is not a "
                               "whole number of rupiah (no fractions, expressions or empty "
                               "cells)", entry.id))
    for entry in rule.inputEntries:
        text = entry.lhs[0] if entry.lhs else None
        if text is not None and not _readable(text):
            problems.append(at(f"rule {rule.row_number}: the test {text!r} cannot be read",
                               entry.id))
    return problems


def _readable(text: str) -> bool:
    """Whether an input entry is a test the engine can run: a value, `?` in a comparison,
    or a comparison missing its left side (`< 100`)."""
    probe = text.replace("?", "dmninputexpr")
    for candidate in (probe, f"v {probe}"):
        try:
            _SCRIPT_ENGINE.validate(candidate)
            return True
        except Exception:  # noqa: S112 - the next reading is tried
            continue
    return False


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# -- a fee formula's table: read, checked against the declared inputs, cached -------------

MAX_DMN_BYTES = 256 * 1024  # it travels inside the standard (1 MiB at most)
MAX_COVERAGE_CASES = 2_000
MAX_REPORTED_GAPS = 5


def read_fee_table(
    text: str, inputs: tuple[InputSpec, ...], where: str, *, check: bool = True
) -> tuple[Decide | None, list[Problem]]:
    """The decision of a fee formula's DMN text (`where`: the formula's field, for problems).

    With `check` (at upload), every input the table names must be declared, and the table is
    run over every combination of the values its inputs declare possible (booleans, enum
    values, and for numbers the bounds and each threshold the rules name, with the values
    just beside it): a combination no rule matches, or that two rules of a UNIQUE table both
    match, is refused with the inputs that show it. Past MAX_COVERAGE_CASES combinations the
    run is skipped; evaluation then names the table and inputs that matched nothing.
    """
    table, problems = _cached_table(text)
    problems = [Problem(p.message, element_id=p.element_id, field=where) for p in problems]
    if table is None:
        return None, problems
    declared = {spec.name: spec for spec in inputs}
    unknown = [name for name in table.inputs if name not in declared]
    if unknown:
        return None, [Problem(f"{where}: the table's inputs {', '.join(unknown)} are not declared "
                              f"under inputs (declared: {', '.join(declared)})",
                              element_id=table.table_id, field=where)]
    if check:
        problems = _coverage_problems(table, [declared[n] for n in table.inputs], where)
        if problems:
            return None, problems
    return Decide(table, where), []


@dataclass(frozen=True)
class Decide:
    """A fee table as the domain's formula calls it: the amount and the rule's row."""

    table: FeeTable
    where: str

    def __call__(self, values: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """Raises: FormulaError naming the table (and the row, when a rule failed)."""
        try:
            amount, row = self.table.decide(values)
        except DecisionError as exc:
            row_text = f" (rule {exc.row})" if exc.row else ""
            message = f"{self.where}: {exc}{row_text}"
            raise FormulaError(message, [Problem(message, element_id=self.table.table_id,
                                                 field=self.where)]) from None
        return amount, {"decision": self.table.decision_id, "table": self.table.table_id,
                        "hit_policy": self.table.hit_policy, "row": row}


@lru_cache(maxsize=64)
def _cached_table(text: str) -> tuple[FeeTable | None, list[Problem]]:
    data = text.encode()
    if len(data) > MAX_DMN_BYTES:
        return None, [Problem(f"the DMN text is over {MAX_DMN_BYTES:,} bytes")]
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return None, [Problem("the DMN text may not hold a DOCTYPE or entities")]
    try:
        root = etree.fromstring(data, etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False))
    except (etree.XMLSyntaxError, ValueError) as exc:
        return None, [Problem(f"the DMN text is not well-formed XML: {exc}")]
    if etree.QName(root).localname != "definitions" or "dmn" not in str(
        etree.QName(root).namespace or ""
    ).lower():
        return None, [Problem("the DMN text's root is not a DMN definitions element")]
    return parse_fee_table(root, "decision table")


def _coverage_problems(table: FeeTable, specs: list[InputSpec], where: str) -> list[Problem]:
    domains = [_domain(spec, [row[i] for row in table.entries]) for i, spec in enumerate(specs)]
    cases = 1
    for values in domains:
        cases *= max(len(values), 1)
    if cases > MAX_COVERAGE_CASES:
        return []
    problems: list[Problem] = []
    for combination in itertools.product(*domains):
        case = dict(zip(table.inputs, combination, strict=True))
        shown = ", ".join(f"{k}={_shown(v)}" for k, v in case.items())
        try:
            matched = table.matches(case)
        except DecisionError as exc:
            return [Problem(f"{where}: {exc} (inputs {shown})", element_id=table.table_id,
                            field=where)]
        if not matched:
            problems.append(Problem(f"{where}: no rule matches {shown}",
                                    element_id=table.table_id, field=where))
        elif len(matched) > 1 and table.hit_policy == "UNIQUE":
            rows = " and ".join(str(r.row_number) for r in matched)
            problems.append(Problem(f"{where}: rules {rows} of a UNIQUE table all match {shown}",
                                    element_id=table.table_id, field=where))
        if len(problems) >= MAX_REPORTED_GAPS:
            break
    return problems


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


def _domain(spec: InputSpec, entries: list[str | None]) -> list[Any]:
    """The values of one input to try: all of a boolean's or enum's; for a number, its
    bounds and every threshold named in its column, with the values just beside each."""
    if spec.type == "boolean":
        return [True, False]
    if spec.type == "enum":
        return list(spec.values)
    step = Decimal(1) if spec.type == "integer" else Decimal("0.01")
    points: set[Decimal] = set()
    for entry in entries:
        for literal in _NUMBER.findall(entry or ""):
            value = Decimal(literal)
            points |= {value - step, value, value + step}
    points |= {b for b in (spec.minimum, spec.maximum) if b is not None}
    if not points:
        points = {spec.minimum if spec.minimum is not None else Decimal(0)}
    inside = sorted(
        p for p in points
        if (spec.minimum is None or p >= spec.minimum)
        and (spec.maximum is None or p <= spec.maximum)
        and (spec.type != "integer" or p == p.to_integral_value())
    )
    return inside


def _shown(value: Any) -> str:
    return str(value) if isinstance(value, Decimal) else repr(value)
