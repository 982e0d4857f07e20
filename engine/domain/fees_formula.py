"""Fee formulas: a published rule that turns named application data into whole rupiah.

A model package may declare, in `standard.json` under `fee_formulas`, a formula per fee:

    {"version": "2026.1", "expression": "0 if mbr else luas * tarif",
     "inputs": {"luas": {"from": "building.floor_area_m2", "type": "number", "minimum": 1},
                "mbr": {"from": "building.mbr", "type": "boolean", "default": false}},
     "constants": {"tarif": "30000"}, "tables": {"indeks": {"hunian": "0.17"}},
     "rounding": {"mode": "half_up", "to": 1}}

A step that carries `feeFormula` opens its fee item with the formula's result, computed once
when the item opens, and frozen there with its inputs and the definition's SHA-256.

The expression is Python syntax, but it is never run by Python: it is parsed once and
interpreted over a whitelist (`engine/domain/fee_expressions.py`). Every number is a
`Decimal`: a literal such as `0.005` is read from its source text, never through a float;
JSON inputs are converted from their shortest text form (`engine/domain/fee_inputs.py`).
The result is rounded once, at the end, by the stated rule.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from typing import Any

from engine.domain.fee_expressions import EvaluationError, Interpreter, compile_expression
from engine.domain.fee_inputs import (
    NAME,
    InputSpec,
    as_decimal,
    checked_inputs,
    parse_input_specs,
)
from engine.domain.problems import Problem

MAX_AMOUNT = Decimal(10) ** 12  # as a fixed fee: a trillion rupiah
ROUNDING_MODES = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "down": ROUND_DOWN,
    "up": ROUND_UP,
}


# A fee table's decision: checked inputs -> (whole rupiah, what the table says it used).
TableDecide = Callable[[Mapping[str, Any]], tuple[int, dict[str, Any]]]
# Reads a table's DMN text for the declared inputs: (decision or None, problems).
TableReader = Callable[[str, tuple["InputSpec", ...], str],
                       tuple["TableDecide | None", list[Problem]]]


class FormulaError(ValueError):
    """A formula that cannot be evaluated for these inputs; `problems` name each field."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True, slots=True)
class FeeFormula:
    """A parsed, checked formula; `sha256` identifies its published definition exactly."""

    name: str
    version: str
    expression: str
    inputs: tuple[InputSpec, ...]
    constants: dict[str, Decimal]
    tables: dict[str, dict[str, Decimal]]
    rounding: str
    round_to: int
    sha256: str
    definition: dict[str, Any] = field(repr=False)
    tree: ast.Expression | None = field(repr=False, compare=False)
    # A DMN decision table instead of an expression (`dmn` in the definition): the amount
    # and the rule that gave it, run by engine.workflow.decision_tables.
    decide: TableDecide | None = field(default=None, repr=False, compare=False)

    def inputs_from(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The formula's inputs read from application data by their `from` paths."""
        found: dict[str, Any] = {}
        for spec in self.inputs:
            value: Any = data
            for part in spec.source.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            if value is not None:
                found[spec.name] = value
        return found

    def evaluate(self, inputs: Mapping[str, Any]) -> Assessment:
        """The amount in whole rupiah for these inputs.

        Raises: FormulaError naming every missing or out-of-range input.
        """
        values, problems = checked_inputs(self.inputs, inputs)
        if problems:
            raise FormulaError("the fee cannot be computed from these inputs", problems)
        if self.decide is not None:
            return self._decided(values)
        assert self.tree is not None
        scope: dict[str, Any] = {**self.constants, **values}
        try:
            raw = Interpreter(scope, self.tables, self.expression).run(self.tree.body)
        except (InvalidOperation, ZeroDivisionError, ArithmeticError) as exc:
            raise FormulaError(
                f"formula {self.name!r} failed: {exc}", [Problem(str(exc), field="expression")]
            ) from None
        except EvaluationError as exc:
            raise FormulaError(str(exc), [Problem(str(exc), field=exc.field)]) from None
        amount = _rounded(raw, self.rounding, self.round_to)
        if amount < 0 or amount > MAX_AMOUNT:
            raise FormulaError(
                f"formula {self.name!r} gave Rp {amount}, outside 0..{MAX_AMOUNT}",
                [Problem("the result is out of range", field="expression")],
            )
        return Assessment(
            formula=self.name,
            version=self.version,
            sha256=self.sha256,
            inputs={k: _plain(v) for k, v in values.items()},
            exact=str(raw),
            rounding=f"{self.rounding} to {self.round_to}",
            amount=int(amount),
        )

    def _decided(self, values: dict[str, Any]) -> Assessment:
        assert self.decide is not None
        amount, table = self.decide(values)  # whole rupiah by construction: no rounding
        if amount < 0 or amount > MAX_AMOUNT:
            raise FormulaError(
                f"table {self.name!r} gave Rp {amount}, outside 0..{MAX_AMOUNT}",
                [Problem("the result is out of range", field=f"fee_formulas.{self.name}.dmn")],
            )
        return Assessment(
            formula=self.name, version=self.version, sha256=self.sha256,
            inputs={k: _plain(v) for k, v in values.items()}, exact=str(amount),
            rounding="none (the table gives whole rupiah)", amount=amount, table=table,
        )

    def published(self) -> dict[str, Any]:
        """The definition as the service standard publishes it, with its hash."""
        return {"name": self.name, "sha256": self.sha256, **self.definition}


@dataclass(frozen=True, slots=True)
class Assessment:
    """One evaluation: the frozen amount with everything needed to recompute it."""

    formula: str
    version: str
    sha256: str
    inputs: dict[str, Any]
    exact: str
    rounding: str
    amount: int
    # For a decision table: its decision and table ids, hit policy and the rule's row.
    table: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (audit log, fee item, estimate)."""
        return {
            "formula": self.formula,
            "version": self.version,
            "sha256": self.sha256,
            "inputs": self.inputs,
            "exact": self.exact,
            "rounding": self.rounding,
            "amount": self.amount,
            **({"decision_table": self.table} if self.table is not None else {}),
        }


def definition_hash(definition: Mapping[str, Any]) -> str:
    """SHA-256 of the definition's canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def parse_formula(
    name: str, raw: Any, table_reader: TableReader | None = None
) -> tuple[FeeFormula | None, list[Problem]]:
    """Check one declared formula; every problem names the formula and its field.

    A formula with `dmn` (a DMN decision table's XML, which upload puts there from the
    package's `decision_table` file) is read by `table_reader` instead of an expression.
    """
    where = f"fee_formulas.{name}"
    if not NAME.match(name):
        return None, [Problem(f"{where}: a formula name is lower-case letters, digits, '_'",
                              field=where)]
    if not isinstance(raw, dict):
        return None, [Problem(f"{where} must be a JSON object", field=where)]
    problems: list[Problem] = []
    expression = raw.get("expression")
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip():
        problems.append(
            Problem(f"{where}.version must be non-empty text", field=f"{where}.version")
        )
    constants = _decimal_map(raw.get("constants", {}), f"{where}.constants", problems)
    tables = _tables(raw.get("tables", {}), f"{where}.tables", problems)
    inputs = parse_input_specs(raw.get("inputs"), f"{where}.inputs", problems)
    rounding, round_to = _rounding(raw.get("rounding", {}), f"{where}.rounding", problems)
    if "dmn" in raw or "decision_table" in raw:
        return _table_formula(name, raw, tuple(inputs), table_reader, problems)
    tree = None
    if not isinstance(expression, str) or not expression.strip():
        problems.append(Problem(f"{where}.expression must be text", field=f"{where}.expression"))
    else:
        known = {s.name for s in inputs} | set(constants)
        tree = compile_expression(expression, known, set(tables), f"{where}.expression", problems)
    if problems or tree is None or not isinstance(version, str) or not isinstance(expression, str):
        return None, problems
    formula = FeeFormula(
        name=name, version=version, expression=expression, inputs=tuple(inputs),
        constants=constants, tables=tables, rounding=rounding, round_to=round_to,
        sha256=definition_hash(raw), definition=dict(raw), tree=tree,
    )
    return formula, []


def _table_formula(
    name: str,
    raw: dict[str, Any],
    inputs: tuple[InputSpec, ...],
    table_reader: TableReader | None,
    problems: list[Problem],
) -> tuple[FeeFormula | None, list[Problem]]:
    where = f"fee_formulas.{name}"
    text, version = raw.get("dmn"), raw.get("version")
    if "expression" in raw:
        problems.append(Problem(f"{where}: a formula is an expression or a decision table, "
                                "not both", field=f"{where}.expression"))
    if not isinstance(text, str) or not text.strip():
        problems.append(Problem(
            f"{where}.decision_table names no DMN file of the package (decisions/*.dmn)",
            field=f"{where}.decision_table"))
    if problems or table_reader is None or not isinstance(text, str):
        return None, problems or [Problem(f"{where}: no decision table reader", field=where)]
    decide, found = table_reader(text, inputs, f"{where}.dmn")
    if decide is None or not isinstance(version, str):
        return None, found
    return FeeFormula(
        name=name, version=version, expression="", inputs=inputs, constants={}, tables={},
        rounding="none", round_to=1, sha256=definition_hash(raw), definition=dict(raw),
        tree=None, decide=decide,
    ), []


def parse_formulas(
    standard: Mapping[str, Any] | None, table_reader: TableReader | None = None
) -> tuple[dict[str, FeeFormula], list[Problem]]:
    """Every formula of a service standard (`fee_formulas`), checked."""
    declared = (standard or {}).get("fee_formulas") or {}
    if not isinstance(declared, dict):
        return {}, [Problem("fee_formulas must be a JSON object", field="fee_formulas")]
    found, problems = {}, []
    for name, raw in declared.items():
        formula, more = parse_formula(str(name), raw, table_reader)
        problems += more
        if formula is not None:
            found[formula.name] = formula
    return found, problems


# -- checking ---------------------------------------------------------------------------


def _decimal_map(raw: Any, where: str, problems: list[Problem]) -> dict[str, Decimal]:
    if not isinstance(raw, dict):
        problems.append(Problem(f"{where} must be a JSON object", field=where))
        return {}
    found = {}
    for key, value in raw.items():
        number = as_decimal(value) if isinstance(value, str | int) else None
        if not NAME.match(str(key)) or number is None:
            problems.append(Problem(
                f"{where}.{key}: a lower-case name with a decimal written as text "
                "(\"0.005\") or an integer; never a JSON fraction", field=f"{where}.{key}"))
            continue
        found[str(key)] = number
    return found


def _tables(raw: Any, where: str, problems: list[Problem]) -> dict[str, dict[str, Decimal]]:
    if not isinstance(raw, dict):
        problems.append(Problem(f"{where} must be a JSON object", field=where))
        return {}
    found = {}
    for key, value in raw.items():
        if not NAME.match(str(key)):
            problems.append(Problem(f"{where}.{key}: a table name is lower-case", field=where))
            continue
        found[str(key)] = _decimal_map_keys(value, f"{where}.{key}", problems)
    return found


def _decimal_map_keys(raw: Any, where: str, problems: list[Problem]) -> dict[str, Decimal]:
    if not isinstance(raw, dict) or not raw:
        problems.append(Problem(f"{where} must be a non-empty JSON object", field=where))
        return {}
    found = {}
    for key, value in raw.items():
        number = as_decimal(value) if isinstance(value, str | int) else None
        if number is None:
            problems.append(Problem(f"{where}.{key} must be a decimal written as text",
                                    field=f"{where}.{key}"))
            continue
        found[str(key)] = number
    return found


def _rounding(raw: Any, where: str, problems: list[Problem]) -> tuple[str, int]:
    if not isinstance(raw, dict):
        problems.append(Problem(f"{where} must be an object", field=where))
        return "half_up", 1
    mode, to = raw.get("mode", "half_up"), raw.get("to", 1)
    if mode not in ROUNDING_MODES:
        problems.append(Problem(f"{where}.mode must be one of {', '.join(ROUNDING_MODES)}",
                                field=f"{where}.mode"))
    if isinstance(to, bool) or not isinstance(to, int) or to < 1:
        problems.append(Problem(f"{where}.to must be a whole number of rupiah >= 1",
                                field=f"{where}.to"))
        to = 1
    return str(mode), to


def _rounded(value: Any, mode: str, to: int) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise FormulaError("the formula must give a number",
                           [Problem("the result is not a number", field="expression")])
    step = Decimal(to)
    return (Decimal(value) / step).quantize(Decimal(1), rounding=ROUNDING_MODES[mode]) * step


def _plain(value: Any) -> Any:
    """An input as JSON keeps it exactly: a Decimal as text when it is not whole."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value
