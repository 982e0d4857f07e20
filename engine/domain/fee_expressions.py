"""The fee-formula expression language: checked once at parse, then interpreted.

The expression is Python syntax but never run by Python: `compile_expression` parses it and
refuses every node outside a whitelist (numbers, names, `table[key]`, + - * /, comparisons,
`and or not`, `x if c else y`, `min`, `max`); `Interpreter` walks the checked tree with every
number a `Decimal` (a literal such as `0.005` is read from its source text, never through a
float). `engine/domain/fees_formula.py` holds what a formula declares around it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine.domain.problems import Problem

MAX_EXPRESSION_CHARS = 4000
MAX_NODES = 400

BINARY_OPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: Decimal(a) / Decimal(b),
}
COMPARISONS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {"min": min, "max": max}
ALLOWED = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Name,
    ast.Constant, ast.Subscript, ast.Call, ast.Load, ast.USub, ast.UAdd, ast.Not, ast.And,
    ast.Or, *BINARY_OPS, *COMPARISONS,
)


class EvaluationError(Exception):
    def __init__(self, message: str, field: str = "expression") -> None:
        super().__init__(message)
        self.field = field


def compile_expression(
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
    if not isinstance(node, ALLOWED):
        return f"{type(node).__name__} is not allowed (numbers, names, table[key], + - * /, " \
            "comparisons, and/or/not, x if c else y, min, max)"
    if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str | bool):
        return f"the constant {node.value!r} is not allowed"
    if isinstance(node, ast.Call) and (
        not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS) or node.keywords
    ):
        return "only min(...) and max(...) may be called"
    if isinstance(node, ast.Subscript) and not (
        isinstance(node.value, ast.Name) and node.value.id in tables
    ):
        return "only a declared table may be indexed (table[key])"
    if isinstance(node, ast.Name) and node.id not in names | tables | set(FUNCTIONS):
        return f"{node.id!r} is not an input, constant or table of this formula"
    return None


class Interpreter:
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
            raise EvaluationError("arithmetic needs numbers on both sides")
        return BINARY_OPS[type(node.op)](left, right)

    def _eval_unaryop(self, node: ast.UnaryOp) -> Any:
        value = self.run(node.operand)
        if isinstance(node.op, ast.Not):
            return not value
        if not isinstance(value, Decimal):
            raise EvaluationError("a sign needs a number")
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
            if not COMPARISONS[type(op)](left, right):
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
            raise EvaluationError(f"{node.value.id} has no entry {key!r}")
        return table[str(key)]

    def _eval_call(self, node: ast.Call) -> Any:
        assert isinstance(node.func, ast.Name)
        args = [self.run(a) for a in node.args]
        if not args or not all(isinstance(a, Decimal) for a in args):
            raise EvaluationError(f"{node.func.id}() takes numbers")
        return FUNCTIONS[node.func.id](*args)
