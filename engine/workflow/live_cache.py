"""Live workflows: the deserialized SpiffWorkflow object a step left, kept for the next step.

Every step restores the application's workflow from its saved JSON state, runs it, and saves
it again. The object the step leaves behind *is* the saved state, so the next step of the
same application, in the same process, can start from that object: no restore, and no need
to read the `applications.state` column at all (the step's lock query defers it).

When a cached object may be used (each rule is what makes a stale object impossible):

- **Key = the row it was saved as.** `(application id, row_version, model version id,
  called versions)`. `row_version` is SQLAlchemy's `version_id_col` on `ApplicationRecord`:
  every ORM UPDATE of the row bumps it, and the only writes of `applications.state` are ORM
  attribute sets (`apply_outcome`: start, complete, retry, timers, messages, external tasks;
  instance migration; the INSERT at start). The Core UPDATEs of the table (the audit chain
  head, `audit_pending`) never touch `state`. A step decides from the row it has *locked*,
  so another process's or thread's write since the object was cached shows up as another
  `row_version` and the object is never found. Anything that writes `state` outside the ORM
  (a data migration, a restore from backup) must run with the service stopped, as the
  model-version caches of `EngineContext` already require.
- **Cached only after the commit.** A service puts the object in after `uow.commit()`
  returned, under the row version the commit wrote; a failed or rolled-back step never
  puts anything.
- **Taken, not shared.** A step *pops* the object (`take`), so two threads never hold the
  same mutable workflow, and a step that fails after running it (a form, fee or database
  error, a lost race) has already removed it: the next step misses and restores what was
  committed.
- **Carried when the state did not change.** A claim or a payment bumps `row_version`
  without writing `state`, and so does any audited action on an application whose record
  the transaction holds (its audit chain head is on the row: an external task's longer lock
  or failure); such a use case locks the row without reading the state and moves the entry
  to the new row version after its commit (`carry`) instead of costing the next step a miss.
- **Given back when only read.** A use case that reads the workflow without running it (an
  external task's fetch-and-lock, a BPMN error nothing catches) takes the object like a
  step, and after its commit puts it back under the row version committed. On a miss it
  restores the state read *in the same statement* as the row version it asked for, never a
  state loaded later (that may be a later commit's).
- **Only a clean run is kept.** An outcome that stopped on an error, fell back to an earlier
  state, or completed the process leaves no live object (`Outcome.workflow` is None).

What the next step sees is what it would see after a restore, with one nuance SpiffWorkflow
leaves open (3.2.0). Restoring gives each task a shallow copy of its parent's value for every
key its saved delta leaves out (the delta omits values *equal* to the parent's), so what is
nested in them is the parent's very objects; the live object's task keeps the objects it
had, which may be equal copies of its own. A script that changes such a nested value in place
then also changes the finished parent's data after a restore, and only the task's own on
the live object. No shipped model or test tells them apart (tests/unit/test_live_cache.py
compares the saved states step by step, nested data included).

Bounded: at most `size` workflows and about `max_tasks` SpiffWorkflow tasks in all (a
300-instance step's workflow counts 300-odd), least recently used first out; `size=0`
disables it (every step restores, as before).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from threading import Lock
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow

from engine.workflow.spiff_compat import scopes

DEFAULT_LIVE_CACHE_SIZE = 128
# Measured (tracemalloc): 36 KB for PBG's workflow (1.8 KB a task), 271 KB for the
# 300-instance walk's (0.9 KB a task): 128 PBG-sized workflows hold ~5 MB, the task bound
# caps a process at ~50-90 MB whatever the workflows' sizes.
DEFAULT_MAX_TASKS = 50_000


def live_key(
    application_id: Any, row_version: int, version_id: int, called: dict[str, Any] | None
) -> Hashable:
    """The cache key of an application's workflow as the row `row_version` saved it."""
    bindings = tuple(sorted((called or {}).items()))
    return (application_id, row_version, version_id, bindings)


@dataclass(slots=True)
class SavedWorkflow:
    """An application's workflow as a step starts from it: a live object from the cache
    (used once), else the saved state, read only when needed (`load_state`)."""

    load_state: Callable[[], dict[str, Any]]
    live: BpmnWorkflow | None = None

    def take_live(self) -> BpmnWorkflow | None:
        """The live object, once: a second restore (a fallback) starts from the state."""
        live, self.live = self.live, None
        return live


class LiveWorkflows:
    """A bounded, thread-safe LRU of live workflows by `live_key` (see the module doc)."""

    def __init__(self, size: int = DEFAULT_LIVE_CACHE_SIZE, max_tasks: int = DEFAULT_MAX_TASKS):
        self.size = size
        self._max_tasks = max_tasks
        self._items: OrderedDict[Hashable, tuple[BpmnWorkflow, int]] = OrderedDict()
        self._tasks = 0
        self._lock = Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def take(self, key: Hashable, load_state: Callable[[], dict[str, Any]]) -> SavedWorkflow:
        """The workflow saved under `key`, removed from the cache, or the saved state's
        loader on a miss."""
        with self._lock:
            found = self._items.pop(key, None)
            if found is None:
                self.misses += self.size > 0
                return SavedWorkflow(load_state)
            self._tasks -= found[1]
            self.hits += 1
        return SavedWorkflow(load_state, found[0])

    def put(self, key: Hashable, workflow: BpmnWorkflow | None) -> None:
        """Keep `workflow` as the state committed under `key` (None: nothing to keep).

        Call it only after that commit succeeded, and never use `workflow` afterwards.
        """
        if workflow is None or self.size <= 0:
            return
        tasks = sum(len(flow.tasks) for flow in scopes(workflow))
        if tasks > self._max_tasks:
            return
        with self._lock:
            self._store(key, workflow, tasks)

    def carry(self, old: Hashable, new: Hashable) -> None:
        """Move the entry under `old` to `new`: after a commit that bumped the row version
        without writing the state (a claim, a payment)."""
        if old == new:
            return
        with self._lock:
            found = self._items.pop(old, None)
            if found is not None:
                self._tasks -= found[1]
                self._store(new, *found)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._tasks = 0

    def _store(self, key: Hashable, workflow: BpmnWorkflow, tasks: int) -> None:
        previous = self._items.pop(key, None)
        if previous is not None:
            self._tasks -= previous[1]
        self._items[key] = (workflow, tasks)
        self._tasks += tasks
        while self._items and (len(self._items) > self.size or self._tasks > self._max_tasks):
            _, (_, dropped) = self._items.popitem(last=False)
            self._tasks -= dropped
