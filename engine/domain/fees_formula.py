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
interpreted here over a whitelist (numbers, names, `table[key]`, + - * /, comparisons,
`and or not`, `x if c else y`, `min`, `max`). Every number is a `Decimal`: a literal such as
`0.005` is read from its source text, never through a float; JSON inputs are converted from
their shortest text form. The result is rounded once, at the end, by the stated rule.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from typing import Any

from engine.domain.problems import Problem

MAX_EXPRESSION_CHARS = 4000
MAX_NODES = 400
MAX_AMOUNT = Decimal(10) ** 12  # as a fixed fee: a trillion rupiah
ROUNDING_MODES = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "down": ROUND_DOWN,
    "up": ROUND_UP,
}
INPUT_TYPES = ("number", "integer", "boolean", "enum")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,7}$")


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
class InputSpec:
    """One named input: where it comes from in the application data and what it may be."""

    name: str
    source: str
    type: str
    values: tuple[str, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    default: Any = None
    title: str | None = None


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
        values, problems = _checked_inputs(self, inputs)
        if problems:
            raise FormulaError("the fee cannot be computed from these inputs", problems)
        if self.decide is not None:
            return self._decided(values)
        assert self.tree is not None
        scope: dict[str, Any] = {**self.constants, **values}
        try:
            raw = _Interpreter(scope, self.tables, self.expression).run(self.tree.body)
        except (InvalidOperation, ZeroDivisionError, ArithmeticError) as exc:
            raise FormulaError(
                f"formula {self.name!r} failed: {exc}", [Problem(str(exc), field="expression")]
            ) from None
        except _EvalError as exc:
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
    if not _NAME.match(name):
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
    inputs = _input_specs(raw.get("inputs"), f"{where}.inputs", problems)
    rounding, round_to = _rounding(raw.get("rounding", {}), f"{where}.rounding", problems)
    if "dmn" in raw or "decision_table" in raw:
        return _table_formula(name, raw, tuple(inputs), table_reader, problems)
    tree = None
    if not isinstance(expression, str) or not expression.strip():
        problems.append(Problem(f"{where}.expression must be text", field=f"{where}.expression"))
    else:
        known = {s.name for s in inputs} | set(constants)
        tree = _compile(expression, known, set(tables), f"{where}.expression", problems)
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


def _decimal(value: Any) -> Decimal | None:
    """A JSON number or decimal text as Decimal; floats go through their shortest text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | str | float):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _decimal_map(raw: Any, where: str, problems: list[Problem]) -> dict[str, Decimal]:
    if not isinstance(raw, dict):
        problems.append(Problem(f"{where} must be a JSON object", field=where))
        return {}
    found = {}
    for key, value in raw.items():
        number = _decimal(value) if isinstance(value, str | int) else None
        if not _NAME.match(str(key)) or number is None:
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
        if not _NAME.match(str(key)):
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
        number = _decimal(value) if isinstance(value, str | int) else None
        if number is None:
            problems.append(Problem(f"{where}.{key} must be a decimal written as text",
                                    field=f"{where}.{key}"))
            continue
        found[str(key)] = number
    return found


def _input_specs(raw: Any, where: str, problems: list[Problem]) -> list[InputSpec]:
    if not isinstance(raw, dict) or not raw:
        problems.append(Problem(f"{where} must name at least one input", field=where))
        return []
    specs = []
    for name, spec in raw.items():
        here = f"{where}.{name}"
        if not _NAME.match(str(name)) or not isinstance(spec, dict):
            problems.append(Problem(f"{here}: a lower-case name with an object", field=here))
            continue
        kind, source = spec.get("type"), spec.get("from", name)
        values = spec.get("values", [])
        if kind not in INPUT_TYPES:
            problems.append(Problem(f"{here}.type must be one of {', '.join(INPUT_TYPES)}",
                                    field=f"{here}.type"))
            continue
        if not isinstance(source, str) or not _PATH.match(source):
            problems.append(
                Problem(f"{here}.from must be a dotted data path", field=f"{here}.from")
            )
            continue
        if kind == "enum" and (not isinstance(values, list) or not values
                               or not all(isinstance(v, str) for v in values)):
            problems.append(Problem(f"{here}.values must list the allowed texts",
                                    field=f"{here}.values"))
            continue
        specs.append(InputSpec(
            name=str(name), source=source, type=kind, values=tuple(values),
            minimum=_decimal(spec["minimum"]) if "minimum" in spec else None,
            maximum=_decimal(spec["maximum"]) if "maximum" in spec else None,
            default=spec.get("default"), title=spec.get("title"),
        ))
    return specs


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


def _checked_inputs(
    formula: FeeFormula, given: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for spec in formula.inputs:
        value = given.get(spec.name, spec.default)
        label = spec.source
        if value is None:
            problems.append(Problem(f"{spec.name} ({label}) is required", field=label))
            continue
        checked, refusal = _check_value(spec, value)
        if refusal:
            problems.append(Problem(f"{spec.name} ({label}) {refusal}", field=label))
        else:
            values[spec.name] = checked
    return values, problems


def _check_value(spec: InputSpec, value: Any) -> tuple[Any, str | None]:
    """The checked value, or why it is refused."""
    if spec.type == "boolean":
        return value, None if isinstance(value, bool) else "must be true or false"
    if spec.type == "enum":
        ok = isinstance(value, str) and value in spec.values
        return value, None if ok else f"must be one of {', '.join(spec.values)}"
    number = _decimal(value) if not isinstance(value, str) else None
    if number is None:
        return None, "must be a number"
    if spec.type == "integer" and number != number.to_integral_value():
        return None, "must be a whole number"
    if spec.minimum is not None and number < spec.minimum:
        return None, f"must be at least {spec.minimum}"
    if spec.maximum is not None and number > spec.maximum:
        return None, f"must be at most {spec.maximum}"
    return number, None


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


# -- the interpreter ----------------------------------------------------------------------

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: Decimal(a) / Decimal(b),
}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {"min": min, "max": max}
_ALLOWED = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Name,
    ast.Constant, ast.Subscript, ast.Call, ast.Load, ast.USub, ast.UAdd, ast.Not, ast.And,
    ast.Or, *_BINARY, *_COMPARE,
)


class _EvalError(Exception):
    def __init__(self, message: str, field: str = "expression") -> None:
        super().__init__(message)
        self.field = field


def _compile(
    source: str, names: set[str], tables: set[str], where: str, problems: list[Problem]
) -> ast.Expression | None:
    if len(source) > MAX_EXPRESSION_CHARS:
        problems.append(Problem(f"{where} is longer than {MAX_EXPRESSION_CHARS} characters",
                                field=where))
        return None
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        problems.append(Problem(f"{where}: {exc.msg} (column {exc.offset})", field=where))
        return None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        problems.append(Problem(f"{where} has more than {MAX_NODES} parts", field=where))
        return None
    for node in nodes:
        message = _refusal(node, names, tables)
        if message:
            problems.append(Problem(f"{where}: {message}", field=where))
    return None if problems else tree


def _refusal(node: ast.AST, names: set[str], tables: set[str]) -> str | None:
    if not isinstance(node, _ALLOWED):
        return f"{type(node).__name__} is not allowed (numbers, names, table[key], + - * /, " \
            "comparisons, and/or/not, x if c else y, min, max)"
    if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str | bool):
        return f"the constant {node.value!r} is not allowed"
    if isinstance(node, ast.Call) and (
        not (isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS) or node.keywords
    ):
        return "only min(...) and max(...) may be called"
    if isinstance(node, ast.Subscript) and not (
        isinstance(node.value, ast.Name) and node.value.id in tables
    ):
        return "only a declared table may be indexed (table[key])"
    if isinstance(node, ast.Name) and node.id not in names | tables | set(_FUNCTIONS):
        return f"{node.id!r} is not an input, constant or table of this formula"
    return None


class _Interpreter:
    """Walks a checked expression tree; every number is a Decimal."""

    def __init__(self, scope: dict[str, Any], tables: dict[str, dict[str, Decimal]],
                 source: str) -> None:
        self.scope, self.tables, self.source = scope, tables, source

    def run(self, node: ast.AST) -> Any:
        method: Callable[[Any], Any] = getattr(self, f"_eval_{type(node).__name__.lower()}")
        return method(node)

    def _eval_constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, float):  # read the literal's text, never the float
            return Decimal(ast.get_source_segment(self.source, node) or repr(node.value))
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            return Decimal(node.value)
        return node.value

    def _eval_name(self, node: ast.Name) -> Any:
        return self.scope[node.id]

    def _eval_binop(self, node: ast.BinOp) -> Any:
        left, right = self.run(node.left), self.run(node.right)
        if not all(isinstance(v, Decimal) for v in (left, right)):
            raise _EvalError("arithmetic needs numbers on both sides")
        return _BINARY[type(node.op)](left, right)

    def _eval_unaryop(self, node: ast.UnaryOp) -> Any:
        value = self.run(node.operand)
        if isinstance(node.op, ast.Not):
            return not value
        if not isinstance(value, Decimal):
            raise _EvalError("a sign needs a number")
        return -value if isinstance(node.op, ast.USub) else value

    def _eval_boolop(self, node: ast.BoolOp) -> Any:
        want = isinstance(node.op, ast.Or)
        for value in node.values:
            if bool(self.run(value)) == want:
                return want
        return not want

    def _eval_compare(self, node: ast.Compare) -> bool:
        left = self.run(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.run(right_node)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def _eval_ifexp(self, node: ast.IfExp) -> Any:
        return self.run(node.body) if self.run(node.test) else self.run(node.orelse)

    def _eval_subscript(self, node: ast.Subscript) -> Any:
        assert isinstance(node.value, ast.Name)  # checked at parse
        table = self.tables[node.value.id]
        key = self.run(node.slice)
        if str(key) not in table:
            raise _EvalError(f"{node.value.id} has no entry {key!r}")
        return table[str(key)]

    def _eval_call(self, node: ast.Call) -> Any:
        assert isinstance(node.func, ast.Name)
        args = [self.run(a) for a in node.args]
        if not args or not all(isinstance(a, Decimal) for a in args):
            raise _EvalError(f"{node.func.id}() takes numbers")
        return _FUNCTIONS[node.func.id](*args)
