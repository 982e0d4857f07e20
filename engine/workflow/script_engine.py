"""SpiffWorkflow's script engine, with every expression and script run by `engine.sandbox`.

This is the only glue between the library and the sandbox: SpiffWorkflow calls the
environment, which hands each run to `Sandbox`, and errors are shaped as SpiffWorkflow's.
"""

from __future__ import annotations

from typing import Any, Literal

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.sandbox import (
    DEFAULT_LIMITS,
    Compiled,
    Sandbox,
    ScriptError,
    ScriptForbiddenError,
    ScriptLimitExceededError,
    ScriptLimits,
    check_code,
    error_detail,
    script_line,
)

__all__ = [
    "SandboxedScriptEngine",
    "ScriptError",
    "ScriptForbiddenError",
    "ScriptLimitExceededError",
    "ScriptLimits",
    "check_code",
]


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's task-data environment, every run done by the sandbox."""

    def __init__(self, limits: ScriptLimits) -> None:
        super().__init__({})
        self.limits = limits
        self.sandbox = Sandbox(limits)

    def compiled(self, source: str, mode: Literal["eval", "exec"]) -> Compiled:
        return self.sandbox.compiled(source, mode)

    def evaluate(
        self,
        expression: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> Any:
        return self.sandbox.evaluate(expression, context, external_context)

    def execute(
        self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None
    ) -> bool:
        return self.sandbox.execute(script, context, external_context)


class SandboxedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine with every expression and script sandboxed.

    Use as `BpmnWorkflow(spec, subprocess_specs, script_engine=SandboxedScriptEngine())`,
    or assign `workflow.script_engine` after deserialization. One instance can serve every
    workflow in every thread. Errors surface as SpiffWorkflow's do: a
    `WorkflowTaskException` naming the task (its `__cause__` is the original error, e.g.
    a `ScriptLimitExceededError`), and the task is left in ERROR state.
    """

    def __init__(self, limits: ScriptLimits = DEFAULT_LIMITS) -> None:
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
            error.add_note(error_detail(exc))
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
            error_detail(err),
            task=task,
            exception=err,
            line_number=line_number,
            error_line=error_line,
        )

    def get_error_line_number_and_content(self, script: str, err: BaseException) -> tuple[int, str]:
        """The script line an error came from (0 and "" when unknown)."""
        if isinstance(err, SyntaxError):
            line_number = err.lineno or 0
        elif isinstance(err, ScriptError) and err.lineno:
            line_number = err.lineno
        else:
            line_number = script_line(err) or 0
        lines = script.splitlines()
        error_line = lines[line_number - 1] if 0 < line_number <= len(lines) else ""
        return line_number, error_line
