"""The sandbox for every piece of Python in an uploaded model (no SpiffWorkflow here).

Script tasks, gateway conditions, timer expressions, multi-instance expressions and pre/post
scripts are written by analysts and run by `Sandbox` (SpiffWorkflow reaches it through
`engine.workflow.script_engine.SandboxedScriptEngine`); `check_code` reports at upload
what the engine would refuse at run time. SpiffWorkflow's own engine is plain
`eval`/`exec`, and the RestrictedPython recipe in its docs only swaps the builtins, which
`().__class__.__base__.__subclasses__()` escapes. Here the code itself is compiled under a
policy (`_policy`), runs against curated builtins and guards (`_runtime`, `_guards`),
within a per-run budget (`_limits`), and what it leaves is checked (`_results`). The
modules starting with `_` are private to this package.

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

from engine.sandbox._limits import (
    ScriptError,
    ScriptForbiddenError,
    ScriptLimitExceededError,
    ScriptLimits,
)
from engine.sandbox._policy import Compiled
from engine.sandbox._sandbox import DEFAULT_LIMITS, Sandbox, check_code, error_detail, script_line

__all__ = [
    "DEFAULT_LIMITS",
    "Compiled",
    "Sandbox",
    "ScriptError",
    "ScriptForbiddenError",
    "ScriptLimitExceededError",
    "ScriptLimits",
    "check_code",
    "error_detail",
    "script_line",
]
