"""The sandbox itself: compile under the policy, run within a budget, check what is left."""

from __future__ import annotations

import re
import traceback
from typing import Any, Literal

from engine.sandbox._guards import footprint
from engine.sandbox._limits import (
    Budget,
    ScriptError,
    ScriptForbiddenError,
    ScriptLimitExceededError,
    ScriptLimits,
    activate,
    deactivate,
)
from engine.sandbox._policy import FILENAME, GUARD_NAMES, Compiled, compile_source
from engine.sandbox._results import check_result, drop_unstorable
from engine.sandbox._runtime import Runtime

DEFAULT_LIMITS = ScriptLimits()
_LINE = re.compile(r"line (\d+):")
_MAX_MESSAGE_ARG = 1_000


def check_code(
    source: str, *, mode: Literal["eval", "exec"], limits: ScriptLimits = DEFAULT_LIMITS
) -> list[str]:
    """Static check at model upload: syntax errors and forbidden constructs or names.

    Returns plain messages, empty when the code is fine; a message starts with the line
    within the source where known ("line 2: imports are not allowed"). Never raises.
    """
    if not isinstance(source, str):
        return ["the code must be text"]
    if mode not in ("eval", "exec"):
        return [f"unknown mode {mode!r}"]
    if len(source) > limits.max_source_chars:
        return [f"the code is longer than {limits.max_source_chars} characters"]
    try:
        return list(compile_source(source, mode).problems)
    except Exception as exc:  # the contract is "never raises"; a crash here is our bug
        return [f"the code could not be checked ({exc.__class__.__name__})"]


class Sandbox:
    """Runs analysts' expressions and scripts: compiled under the policy, bounded, checked.

    Semantics follow SpiffWorkflow's `TaskDataEnvironment`: `evaluate` sees the data as
    names; `execute` runs in the data itself, then drops callables and the builtins from it.
    One instance serves every thread (each run has its own budget).
    """

    def __init__(self, limits: ScriptLimits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._runtime = Runtime(limits.max_collection_size)

    def compiled(self, source: str, mode: Literal["eval", "exec"]) -> Compiled:
        """The cached compiled form of `source`.

        Raises:
            SyntaxError: the source does not parse (as SpiffWorkflow's engine raises it).
            ScriptForbiddenError: the source uses something the policy refuses.
            ScriptLimitExceededError: the source is too long.
        """
        if len(source) > self.limits.max_source_chars:
            raise ScriptLimitExceededError(
                f"the code is longer than {self.limits.max_source_chars} characters"
            )
        result = compile_source(source, mode)
        if result.syntax_error is not None:
            err = result.syntax_error
            raise SyntaxError(err.msg, (FILENAME, err.lineno, err.offset, err.text))
        if result.code is None:
            found = _LINE.match(result.problems[0])
            raise ScriptForbiddenError(
                "; ".join(result.problems), lineno=int(found.group(1)) if found else None
            )
        return result

    def evaluate(
        self,
        expression: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> Any:
        """The value of `expression` with the task data (and `external_context`) as names.

        Raises:
            ScriptError: refused, over a limit, or the result is not plain data.
            Exception: whatever the expression raised (e.g. NameError, ZeroDivisionError).
        """
        compiled = self.compiled(expression, "eval")
        scope = {**external_context, **context} if external_context else dict(context)
        result = self._run(compiled, scope)
        check_result(result, self.limits.max_collection_size)
        return result

    def execute(
        self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None
    ) -> bool:
        """Run `script` in the task data; its assignments stay there.

        Raises:
            ScriptError: refused, over a limit, or it left a value task data cannot store.
            Exception: whatever the script raised.
        """
        external_context = external_context or {}
        overwritten = set(external_context).intersection(context)
        if overwritten:  # as TaskDataEnvironment: fail clearly instead of confusingly
            raise ScriptError(f"task data overwrites predefined names: {sorted(overwritten)}")
        compiled = self.compiled(script, "exec")
        context.update(external_context)
        try:
            self._run(compiled, context)
        finally:
            # Also when the script failed: its task goes to ERROR and is saved with this
            # data, so nothing the engine cannot store may stay in it.
            _drop_non_data(context, external_context)
            refused = drop_unstorable(context, self.limits.max_collection_size)
        if refused is not None:
            raise refused
        return True

    def _run(self, compiled: Compiled, scope: dict[str, Any]) -> Any:
        if not scope.keys().isdisjoint(GUARD_NAMES):
            # Globals shadow builtins: data named like a guard would replace the guard.
            raise ScriptForbiddenError("task data uses a name reserved by the sandbox")
        budget = Budget(self.limits)
        runtime = self._runtime
        scope["__builtins__"] = (
            runtime.for_budget(budget) if compiled.needs_budget else runtime.builtins
        )
        previous = activate(budget)
        try:
            result = _evaluate(compiled, scope)
        except Exception as exc:
            error = _escaping(exc, budget)
            if error is exc:
                raise
            raise error from exc
        finally:
            deactivate(previous)
        if budget.error is not None:  # caught by the script, still a refusal
            raise budget.error
        return result


def _drop_non_data(context: dict[str, Any], external_context: dict[str, Any]) -> None:
    """As SpiffWorkflow does after a script: drop the builtins, callables, external names."""
    for key in list(context):
        if key == "__builtins__" or callable(context[key]) or key in external_context:
            del context[key]


def _evaluate(compiled: Compiled, scope: dict[str, Any]) -> Any:
    # The code was compiled under the sandbox policy and runs against curated builtins;
    # that is the whole point of this module.
    assert compiled.code is not None
    return eval(compiled.code, scope)  # noqa: S307


def _escaping(exc: Exception, budget: Budget) -> Exception:
    """The exception that leaves the sandbox for `exc`, with safe, bounded arguments."""
    error: Exception = exc
    if budget.error is not None:
        error = budget.error
    elif isinstance(exc, RecursionError):
        error = ScriptLimitExceededError("recursion is too deep")
    elif isinstance(exc, MemoryError):
        error = ScriptLimitExceededError("the script ran out of memory")
    if isinstance(error, ScriptError) and error.lineno is None:
        error.lineno = script_line(exc)
    exc.args = tuple(_bounded(arg) for arg in exc.args)
    return error


def _bounded(arg: Any) -> Any:
    """An exception argument that is safe and cheap to print outside the sandbox."""
    if isinstance(arg, str):
        return arg if len(arg) <= _MAX_MESSAGE_ARG else arg[:_MAX_MESSAGE_ARG] + "..."
    if isinstance(arg, int) and arg.bit_length() > _MAX_MESSAGE_ARG:
        return f"<int of {arg.bit_length()} bits>"
    if isinstance(arg, (int, float, type(None))):
        return arg
    if footprint(arg, _MAX_MESSAGE_ARG) <= _MAX_MESSAGE_ARG:
        try:  # a small container may still hold an int too long to print
            if len(repr(arg)) <= 4 * _MAX_MESSAGE_ARG:
                return arg
        except ValueError:
            pass
    return f"<{type(arg).__name__}>"


def script_line(exc: BaseException) -> int | None:
    """The innermost line of the script in `exc`'s traceback, if any."""
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename == FILENAME
    ]
    return lines[-1] if lines else None


def error_detail(err: BaseException) -> str:
    """The "ErrorType:message" text SpiffWorkflow shows, safe for any exception argument."""
    detail = err.__class__.__name__
    if err.args:
        detail += ":" + str(_bounded(err.args[0]))
    return detail
