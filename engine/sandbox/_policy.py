"""What analysts' Python may contain, and how it is rewritten before it is compiled.

Built on RestrictedPython's `RestrictingNodeTransformer`, which already refuses names and
attributes starting with `_`, frame/generator internals (`gi_frame`, `f_back`, ...),
`nonlocal`, `async` and `except*`, and turns attribute access, subscripts, iteration,
unpacking and in-place operators into calls of guard functions (`_getattr_`, `_getitem_`,
`_getiter_`, `_write_`, `_inplacevar_`, ...). This policy adds:

- refusals of what a permit model never needs and what widens the attack surface: imports,
  classes, decorators, `with`, generators (`yield`), `print`, the escape hatches among the
  builtins (`open`, `eval`, `exec`, `compile`, `getattr`, `vars`, `globals`, calling
  `type`, ...) and the string-formatting methods that can reach attributes (`str.format`);
- `+ * ** << %`, f-strings, `{**d}` and every call rewritten into guards (`_add_`, ...,
  `_fstring_`, `_sized_`, `_call_`), because a single operation (`9**9**9`,
  `'a' * 10**10`, `f"{x:>999999999}"`) can exhaust memory or CPU before any loop check runs,
  and because what a run creates is counted in total;
- `_step_()` before every statement and `_tick_()` at the start of every `while` body and
  every function or lambda call, so the iteration and CPU-time budget is checked in every
  loop and recursion (`for` loops, comprehensions and `*x` are counted by `_getiter_`).

Compiled code is cached per source text: the default engine recompiles on every call.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from types import CodeType
from typing import Literal, TypeVar, cast

from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer

_Node = TypeVar("_Node", bound=ast.AST)

Mode = Literal["eval", "exec"]

# The file name of every compiled model script: it finds the script's lines in tracebacks and
# tells the script's own functions apart from any other callable (nothing else uses it).
FILENAME = "<permitflow model script>"

# Names that are escape hatches or I/O; refused wherever they appear.
FORBIDDEN_NAMES = frozenset(
    {
        "open",
        "eval",
        "exec",
        "compile",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "globals",
        "locals",
        "vars",
        "dir",
        "input",
        "breakpoint",
        "help",
        "exit",
        "quit",
        "memoryview",
        "bytearray",
        "super",
        "object",
        "classmethod",
        "staticmethod",
        "property",
    }
)
# `type` is a common form-field name, so only calling it (the `type(...)` tricks) is refused.
FORBIDDEN_CALLS = frozenset({"type"})
# Attributes refused on any object, besides `_*` and frame internals.
FORBIDDEN_ATTRIBUTES = frozenset(
    {
        "format",
        "format_map",  # "{0.__class__}".format(x) reads attributes; f-strings are safe
        "mro",
        "translate",
        "maketrans",
        "to_bytes",
        "from_bytes",
    }
)
GUARD_NAMES = frozenset(
    {
        "_getattr_",
        "_getitem_",
        "_getiter_",
        "_iter_unpack_sequence_",
        "_unpack_sequence_",
        "_write_",
        "_inplacevar_",
        "_tick_",
        "_step_",
        "_add_",
        "_mul_",
        "_pow_",
        "_lshift_",
        "_mod_",
        "_format_",
        "_fstring_",
        "_call_",
        "_sized_",
        "_reraise_",
    }
)
# Guards that need the run's budget; code that uses none of them runs without one.
BUDGET_NAMES = frozenset({"_getiter_", "_iter_unpack_sequence_", "_tick_", "_step_"})
_BINOP_GUARDS = {
    ast.Add: "_add_",
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
}


def _call(name: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    return ast.copy_location(call, like)


def _statement(name: str, like: ast.AST) -> ast.Expr:
    return ast.copy_location(ast.Expr(_call(name, [], like)), like)


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's transformer with permitflow's refusals and bound checks."""

    def error(self, node: ast.AST, info: str) -> None:
        """Record a refusal as "line N: message" (the format `check_code` promises)."""
        lineno = getattr(node, "lineno", None)
        self.errors.append(f"line {lineno}: {info}" if lineno else info)

    def check_name(
        self, node: ast.AST, name: str | None, allow_magic_methods: bool = False
    ) -> None:
        """Refuse `_*` names (no exception for magic methods: classes are refused anyway)."""
        if name is not None and name.startswith("_") and name != "_":
            self.error(node, f"names starting with '_' are not allowed ('{name}')")
        elif name in FORBIDDEN_NAMES:
            self.error(node, f"'{name}' is not allowed")

    def visit_Name(self, node: ast.Name) -> ast.AST:  # noqa: N802 (ast API)
        """Refuse `print`/`printed` (no output) and check every other name."""
        if node.id in ("print", "printed"):
            self.error(node, "print is not available: scripts have no output")
            return node
        self.check_name(node, node.id)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:  # noqa: N802 (ast API)
        """Refuse dangerous attributes; `a.b` becomes `_getattr_(a, 'b')`."""
        if node.attr.startswith("_") or node.attr in INSPECT_ATTRIBUTES:
            self.error(node, f"attribute '{node.attr}' is not allowed")
        elif node.attr in FORBIDDEN_ATTRIBUTES:
            hint = "; use an f-string" if node.attr.startswith("format") else ""
            self.error(node, f"attribute '{node.attr}' is not allowed{hint}")
        node = self.node_contents_visit(node)
        if isinstance(node.ctx, ast.Load):
            return _call("_getattr_", [node.value, ast.Constant(node.attr)], node)
        node.value = _call("_write_", [node.value], node.value)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:  # noqa: N802 (ast API)
        """Refuse `type(...)`; `f(x)` becomes `_call_(f, x)`, which sizes what `f` creates."""
        if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            self.error(node, f"{node.func.id}() is not allowed")
        node = self.node_contents_visit(node)
        node.args.insert(0, node.func)
        node.func = ast.copy_location(ast.Name("_call_", ast.Load()), node.func)
        return node

    def visit_Starred(self, node: ast.Starred) -> ast.AST:  # noqa: N802 (ast API)
        """`[*x, *x]` becomes `[*_getiter_(x), ...]`: unpacked items count as iterations."""
        node = self.node_contents_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _call("_getiter_", [node.value], node.value)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:  # noqa: N802 (ast API)
        """`a * b` becomes `_mul_(a, b)` (likewise `+ ** << %`), checked before it allocates."""
        node = self.node_contents_visit(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        return node if guard is None else _call(guard, [node.left, node.right], node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:  # noqa: N802 (ast API)
        """`x op= y` goes through `_inplacevar_`; items and attributes are refused clearly."""
        if isinstance(node.target, ast.Subscript):
            self.error(node, "'x[k] op= y' is not supported; write 'x[k] = x[k] op y'")
            return node
        return cast(ast.AST, super().visit_AugAssign(node))

    def visit_Dict(self, node: ast.Dict) -> ast.AST:  # noqa: N802 (ast API)
        """`{**d}` becomes `{**_sized_(d)}`: the copy counts against the run's allocations."""
        node = self.node_contents_visit(node)
        node.values = [
            _call("_sized_", [value], value) if key is None else value
            for key, value in zip(node.keys, node.values, strict=True)
        ]
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:  # noqa: N802 (ast API)
        """`f"a{x!r:>{n}}"` becomes `_fstring_('a', _format_(x, 114, _fstring_('>', ...)))`.

        Each field's width is checked before it is formatted, and the whole text is sized
        before it is joined.
        """
        parts: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                spec = (
                    self.visit(value.format_spec)
                    if value.format_spec is not None
                    else ast.Constant("")
                )
                field = [self.visit(value.value), ast.Constant(value.conversion), spec]
                parts.append(_call("_format_", field, value))
            else:
                parts.append(value)
        return _call("_fstring_", parts, node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:  # noqa: N802 (ast API)
        """Each handler starts with `_reraise_()`: a limit or refusal cannot be caught.

        Without it, `except Exception:` around a recursion retries at every level, and the
        number of calls grows exponentially until the iteration bound.
        """
        result = super().visit_ExceptHandler(node)
        assert isinstance(result, ast.ExceptHandler)
        result.body.insert(0, _statement("_reraise_", result))
        return result

    def visit_While(self, node: ast.While) -> ast.AST:  # noqa: N802 (ast API)
        """Each pass through a `while` body ticks the budget."""
        node = self.node_contents_visit(node)
        node.body.insert(0, _statement("_tick_", node))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:  # noqa: N802 (ast API)
        """Each call of a function ticks the budget (bounds recursion); no decorators.

        A decorator is a call the interpreter makes itself, past `_call_`'s check.
        """
        if node.decorator_list:
            self.error(node, "decorators are not allowed")
        result = super().visit_FunctionDef(node)
        assert isinstance(result, ast.FunctionDef)
        result.body.insert(0, _statement("_tick_", result))
        return result

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:  # noqa: N802 (ast API)
        """`lambda: e` becomes `lambda: _tick_() or e`."""
        result = super().visit_Lambda(node)
        assert isinstance(result, ast.Lambda)
        result.body = ast.copy_location(
            ast.BoolOp(ast.Or(), [_call("_tick_", [], result), result.body]), result.body
        )
        return result

    def node_contents_visit(self, node: _Node) -> _Node:
        """Visit children, then put `_step_()` before every statement of every block.

        Every known node passes here, so each block of each statement gets its steps: the
        budget then also sees the CPU time of straight-line code.
        """
        result = super().node_contents_visit(node)
        for field in ("body", "orelse", "finalbody"):
            block = getattr(result, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(result, field, _with_steps(block))
        return result

    def _refuse(self, node: ast.AST, message: str) -> ast.AST:
        self.error(node, message)
        return node

    def visit_Import(self, node: ast.Import) -> ast.AST:  # noqa: N802 (ast API)
        """Refused."""
        return self._refuse(node, "imports are not allowed")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:  # noqa: N802 (ast API)
        """Refused."""
        return self._refuse(node, "imports are not allowed")

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:  # noqa: N802 (ast API)
        """Refused: classes bring dunder methods and metaclasses, and no model needs one."""
        return self._refuse(node, "class definitions are not allowed")

    def visit_With(self, node: ast.With) -> ast.AST:  # noqa: N802 (ast API)
        """Refused: there is no context manager a script could use."""
        return self._refuse(node, "'with' statements are not allowed")

    def visit_Yield(self, node: ast.Yield) -> ast.AST:  # noqa: N802 (ast API)
        """Refused: generator functions outlive the run that created them."""
        return self._refuse(node, "generators ('yield') are not allowed")

    def visit_YieldFrom(self, node: ast.YieldFrom) -> ast.AST:  # noqa: N802 (ast API)
        """Refused, like `yield`."""
        return self._refuse(node, "generators ('yield') are not allowed")

    def visit_Global(self, node: ast.Global) -> ast.AST:  # noqa: N802 (ast API)
        """Allowed: a function may assign task data through `global`."""
        for name in node.names:
            self.check_name(node, name)
        return node


def _with_steps(block: list[ast.stmt]) -> list[ast.stmt]:
    stepped: list[ast.stmt] = []
    for statement in block:
        stepped.extend((_statement("_step_", statement), statement))
    return stepped


@dataclass(frozen=True)
class Compiled:
    """A source text after the policy: code to run, or the problems that refuse it."""

    code: CodeType | None
    problems: tuple[str, ...]
    syntax_error: SyntaxError | None = None
    needs_budget: bool = False


_TOO_DEEP = "the code is nested too deeply"


@functools.lru_cache(maxsize=4096)
def compile_source(source: str, mode: Mode) -> Compiled:
    """Parse, check, rewrite and compile `source`; never raises (problems are returned).

    An expression loses surrounding spaces first, as `eval()` strips leading ones and as
    modelling tools leave them around conditions written inside XML.
    """
    if mode == "eval":
        source = source.lstrip(" \t").rstrip()
    try:
        tree = cast("ast.Module | ast.Expression", ast.parse(source, FILENAME, mode))
    except SyntaxError as exc:
        return Compiled(None, (_syntax_message(exc),), syntax_error=exc)
    except (RecursionError, MemoryError):
        return Compiled(None, (_TOO_DEEP,))
    except ValueError as exc:  # NUL bytes
        return Compiled(None, (f"cannot parse: {exc}",))
    policy = SandboxPolicy()
    try:
        policy.visit(tree)
        if policy.errors:
            return Compiled(None, tuple(dict.fromkeys(policy.errors)))
        code = compile(ast.fix_missing_locations(tree), FILENAME, mode)
    except SyntaxError as exc:  # found only by the compiler: 'return' outside a function, ...
        return Compiled(None, (_syntax_message(exc),), syntax_error=exc)
    except (RecursionError, MemoryError, ValueError):
        return Compiled(None, (_TOO_DEEP,))
    return Compiled(code, (), needs_budget=bool(BUDGET_NAMES & _names_used(code)))


def _syntax_message(exc: SyntaxError) -> str:
    where = f"line {exc.lineno}: " if exc.lineno else ""
    return f"{where}syntax error: {exc.msg}"


def _names_used(code: CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _names_used(const)
    return names
