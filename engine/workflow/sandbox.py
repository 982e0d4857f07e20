"""The sandbox for every piece of Python in an uploaded model.

Script tasks, gateway conditions, timer expressions, multi-instance expressions and pre/post
scripts are written by analysts and run with `SandboxedScriptEngine`; `check_code` reports
at upload what the engine would refuse at run time. SpiffWorkflow's own engine is plain
`eval`/`exec`, and the RestrictedPython recipe in its docs only swaps the builtins, which
`().__class__.__base__.__subclasses__()` escapes. Here the code itself is compiled under a
policy (`sandbox_policy`), runs against curated builtins and guards (`sandbox_runtime`,
`sandbox_guards`), and within a per-run budget (`sandbox_limits`).

Decisions:

- Refused, at upload and at run time: `import`, `class`, decorators, `with`, `yield`,
  `print`, names and attributes starting with `_`, frame/generator internals (`gi_frame`,
  `f_back`, ...), `open eval exec compile getattr setattr delattr hasattr globals locals
  vars dir input breakpoint help exit quit memoryview bytearray super object classmethod
  staticmethod property`, calling `type(...)` (a bare `type` stays usable as a task-data
  name), and the attributes `format format_map mro translate maketrans to_bytes
  from_bytes` (`"{0.__class__}".format(x)` reads attributes; f-strings do the same job
  safely). `x[k] += y` is refused with a hint (RestrictedPython cannot guard it).
- Allowed, because the bounds still hold: `while` and `def`/`lambda` (each pass and each
  call ticks the iteration budget; recursion past Python's limit is reported as
  `ScriptLimitExceededError`); `try/except/finally` (an `except` block re-raises a limit,
  refusal or RecursionError at once, and a refusal swallowed otherwise, e.g. by `return`
  in `finally`, is raised again at the next statement and at the end of the run);
  comprehensions, f-strings, `global`, `x += y`.
- Builtins: len min max sum abs round int float str bool list dict set frozenset tuple
  sorted reversed enumerate zip any all range divmod pow isinstance chr ord; the classes
  datetime date time timedelta timezone; common exception classes. No Decimal: money is
  integer rupiah. Task data shadows these names (a field may be called `date`).
- Only plain data is reachable: attributes are read on text, numbers, containers, dates and
  exceptions and on the classes above, and only those builtins, their methods and the
  script's own functions can be called. A module, function or other object that found its
  way into task data stays closed.
- Bounds (`ScriptLimits`, per evaluation or script run, in the running thread, no signals):
  loop iterations + comprehension items + `*x` items + calls; CPU time of the thread
  (`time.thread_time`, read every few statements or iterations); the size of every
  `+ * ** << %` result, `range()`, `str()`, padded/replaced/joined text, f-string widths
  and precisions, `extend`/`update`/slice assignment; the total a run creates (4 x the size
  bound); integers up to 65,536 bits; source length. What a script leaves in task data must
  be storable (text, numbers, None, lists, tuples, dicts, datetime, timedelta, UUID) and
  within the size bound; an expression's result must be plain data too.

Not covered in-process (one builtin call cannot be interrupted): comparing, hashing or
sorting two structures built by repeated self-nesting (`x = [x, x]` forty times) runs
practically forever inside a single `==`. The process supervisor (e.g. gunicorn's worker
timeout) is the backstop; full isolation would need a subprocess per run.
"""

from __future__ import annotations

import re
import traceback
from typing import Any, Literal

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.workflow.sandbox_guards import footprint
from engine.workflow.sandbox_limits import (
    Budget,
    ScriptError,
    ScriptForbiddenError,
    ScriptLimitExceededError,
    ScriptLimits,
    activate,
    deactivate,
)
from engine.workflow.sandbox_policy import FILENAME, GUARD_NAMES, Compiled, compile_source
from engine.workflow.sandbox_results import check_result, drop_unstorable
from engine.workflow.sandbox_runtime import Runtime

__all__ = [
    "SandboxedScriptEngine",
    "ScriptError",
    "ScriptForbiddenError",
    "ScriptLimitExceededError",
    "ScriptLimits",
    "check_code",
]

_DEFAULT_LIMITS = ScriptLimits()
_LINE = re.compile(r"line (\d+):")
_MAX_MESSAGE_ARG = 1_000


def check_code(
    source: str, *, mode: Literal["eval", "exec"], limits: ScriptLimits = _DEFAULT_LIMITS
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


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's task-data environment, with every run compiled and bounded.

    Semantics follow `TaskDataEnvironment`: `evaluate` sees task data as names;
    `execute` runs in the task data itself, then drops callables and the builtins from it.
    """

    def __init__(self, limits: ScriptLimits) -> None:
        super().__init__({})
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
        error.lineno = _script_line(exc)
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


def _script_line(exc: BaseException) -> int | None:
    """The innermost line of the script in `exc`'s traceback, if any."""
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename == FILENAME
    ]
    return lines[-1] if lines else None


def _detail(err: BaseException) -> str:
    """SpiffWorkflow's "ErrorType:message" text, safe for any exception argument."""
    detail = err.__class__.__name__
    if err.args:
        detail += ":" + str(_bounded(err.args[0]))
    return detail


class SandboxedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine with every expression and script sandboxed.

    Use as `BpmnWorkflow(spec, subprocess_specs, script_engine=SandboxedScriptEngine())`,
    or assign `workflow.script_engine` after deserialization. One instance can serve every
    workflow in every thread. Errors surface as SpiffWorkflow's do: a
    `WorkflowTaskException` naming the task (its `__cause__` is the original error, e.g.
    a `ScriptLimitExceededError`), and the task is left in ERROR state.
    """

    def __init__(self, limits: ScriptLimits = _DEFAULT_LIMITS) -> None:
        self.limits = limits
        super().__init__(environment=SandboxEnvironment(limits))

    def validate(self, expression: str) -> None:
        """Check `expression` as the engine would run it (DMN relies on the SyntaxError).

        Raises:
            SyntaxError: the expression does not parse.
            ScriptError: the expression is refused.
        """
        self.environment.compiled(expression, "exec")

    def evaluate(
        self, task: Any, expression: str, external_context: dict[str, Any] | None = None
    ) -> Any:
        """Evaluate `expression` against `task`'s data.

        Raises:
            WorkflowTaskException: the expression failed or was refused.
        """
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as exc:
            exc.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as exc:
            error = WorkflowTaskException(
                f"Error evaluating expression '{expression}'", task=task, exception=exc
            )
            error.add_note(_detail(exc))
            raise error from exc

    def execute(
        self, task: Any, script: str, external_context: dict[str, Any] | None = None
    ) -> bool:
        """Run `script` in `task`'s data.

        Raises:
            WorkflowTaskException: the script failed or was refused.
        """
        try:
            return bool(self.environment.execute(script, task.data, external_context or {}))
        except Exception as exc:
            error = self.create_task_exec_exception(task, script, exc)
            if error is exc:
                raise
            raise error from exc

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        """Service tasks reach outside the engine, which the sandbox does not offer.

        Raises:
            WorkflowTaskException: always (SpiffWorkflow's own version fails with a NameError).
        """
        raise WorkflowTaskException("service tasks are not supported", task=task)

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> Exception:
        """SpiffWorkflow's script error, robust to non-text exception arguments."""
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        if isinstance(err, SpiffWorkflowException):
            err.line_number = line_number
            err.error_line = error_line
            err.add_note(f"Python script error on line {line_number}: '{error_line}'")
            return err
        return WorkflowTaskException(
            _detail(err), task=task, exception=err, line_number=line_number, error_line=error_line
        )

    def get_error_line_number_and_content(self, script: str, err: BaseException) -> tuple[int, str]:
        """The script line an error came from (0 and "" when unknown)."""
        if isinstance(err, SyntaxError):
            line_number = err.lineno or 0
        elif isinstance(err, ScriptError) and err.lineno:
            line_number = err.lineno
        else:
            line_number = _script_line(err) or 0
        lines = script.splitlines()
        error_line = lines[line_number - 1] if 0 < line_number <= len(lines) else ""
        return line_number, error_line
