"""Limits, errors and the per-run budget of the script sandbox.

Public names are re-exported by `engine.sandbox`; import them from there.

The budget is per evaluation or script run and lives in the thread that runs it, so that
the bounds hold in any thread (Flask's threaded server, gunicorn threads): time is
`time.thread_time()` of that thread, not a signal. Guards that are shared between runs
(size checks) report their refusals through `fail()`, which also records the error on the
active budget: a script that swallows a refusal with `try/except` still fails at its end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NoReturn, TypeVar

T = TypeVar("T")

# What one run may allocate in total, in multiples of max_collection_size: each result is
# bounded on its own, and this stops a loop from piling bounded results up (a thousand lists
# of a million items each) before the CPU-time bound notices.
ALLOCATION_FACTOR = 4
# The clock is a system call (~0.3-0.7 us); reading it on every 4th step keeps a loop's
# cost low while a runaway loop is still stopped within a few steps of its deadline.
_CLOCK_EVERY = 4


@dataclass(frozen=True)
class ScriptLimits:
    """Bounds for one evaluation of an expression or one run of a script.

    Raises:
        ValueError: a limit is not positive.
    """

    cpu_seconds: float = 1.0  # CPU time of the running thread, per evaluation or script run
    max_iterations: int = 100_000  # loop iterations + comprehension items + calls
    max_source_chars: int = 20_000
    max_collection_size: int = 1_000_000  # result of *, **, range(), str ops etc.

    def __post_init__(self) -> None:
        for name in ("cpu_seconds", "max_iterations", "max_source_chars", "max_collection_size"):
            if not getattr(self, name) > 0:
                raise ValueError(f"ScriptLimits.{name} must be positive")


class ScriptError(Exception):
    """A model's expression or script was refused or failed in the sandbox.

    `lineno` is the line within the source where known.
    """

    def __init__(self, message: str, *, lineno: int | None = None) -> None:
        super().__init__(message)
        self.lineno = lineno


class ScriptForbiddenError(ScriptError):
    """A forbidden construct was seen at compile time or at run time."""


class ScriptLimitExceededError(ScriptError):
    """The CPU-time, iteration or size bound was hit."""


class Budget:
    """Counts one run's iterations and CPU time; remembers the first refusal."""

    __slots__ = (
        "_deadline",
        "_max_allocated",
        "_max_iterations",
        "_seconds",
        "_steps",
        "allocated",
        "error",
        "iterations",
    )

    def __init__(self, limits: ScriptLimits) -> None:
        self._max_iterations = limits.max_iterations
        self._max_allocated = ALLOCATION_FACTOR * limits.max_collection_size
        self.allocated = 0
        self._seconds = limits.cpu_seconds
        # Set on the first step: a run that never loops (most conditions) never reads the clock.
        self._deadline: float | None = None
        self._steps = 0
        self.iterations = 0
        self.error: ScriptError | None = None

    def tick(self) -> None:
        """One loop iteration, comprehension item or call (injected into the script).

        Raises:
            ScriptLimitExceededError: too many iterations or too much CPU time.
        """
        self.iterations += 1
        if self.iterations > self._max_iterations:
            self.refuse(
                ScriptLimitExceededError(
                    f"more than {self._max_iterations} loop iterations or calls"
                )
            )
        self.step()

    def step(self) -> None:
        """One statement; checks the clock every few steps (injected into the script).

        Raises:
            ScriptLimitExceededError: too much CPU time, or an earlier refusal was swallowed.
        """
        self._steps += 1
        if self._steps % _CLOCK_EVERY == 1:
            now = time.thread_time()
            if self._deadline is None:
                self._deadline = now + self._seconds
            elif now > self._deadline:
                self.refuse(ScriptLimitExceededError(f"more than {self._seconds:g} s of CPU time"))
        if self.error is not None:
            # A script that caught a refusal must not carry on with real work.
            raise self.error

    def charge(self, size: int) -> None:
        """Count `size` new items or characters against the run's allocation bound.

        Raises:
            ScriptLimitExceededError: the run allocated too much in total.
        """
        self.allocated += size
        if self.allocated > self._max_allocated:
            self.refuse(
                ScriptLimitExceededError(
                    f"the run created more than {self._max_allocated} items and characters"
                )
            )

    def getiter(self, iterable: Iterable[T]) -> Iterator[T]:
        """`iter()` that counts every item against the iteration bound."""
        tick = self.tick
        for item in iterable:
            tick()
            yield item

    def refuse(self, error: ScriptError) -> NoReturn:
        """Record `error` (the first one wins) and raise it.

        Raises:
            ScriptError: always, the given error.
        """
        if self.error is None:
            self.error = error
        raise error


_active = threading.local()


def activate(budget: Budget) -> Budget | None:
    """Make `budget` the one `fail()` reports to in this thread; returns the previous one."""
    previous: Budget | None = getattr(_active, "budget", None)
    _active.budget = budget
    return previous


def deactivate(previous: Budget | None) -> None:
    """Restore the budget that `activate()` replaced."""
    _active.budget = previous


def charge(size: int) -> None:
    """Count new items or characters against the active run's allocation bound.

    Raises:
        ScriptLimitExceededError: the run allocated too much in total.
    """
    budget: Budget | None = getattr(_active, "budget", None)
    if budget is not None:
        budget.charge(size)


def fail(error: ScriptError) -> NoReturn:
    """Raise a refusal from a shared guard, recording it on the thread's active budget.

    Raises:
        ScriptError: always, the given error.
    """
    budget: Budget | None = getattr(_active, "budget", None)
    if budget is not None:
        budget.refuse(error)
    raise error
