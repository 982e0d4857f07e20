"""Moving a running workflow's saved state onto another version of its model.

SpiffWorkflow 3.2.0 has `SpiffWorkflow.bpmn.util.diff` (`SpecDiff`, `diff_workflow`,
`migrate_workflow`): it aligns old and new task specs and then *resets* every READY and
WAITING task (`Task.reset_branch`). A reset re-enters the step: its data, a timer's start
time and the ready task itself are made anew, which would orphan our task rows, restart
due times and leave open fee items behind. We reset nothing. A state moves only when it
restores onto the target spec as it is, apart from the tasks SpiffWorkflow merely
predicted:

1. the tasks after each current task (READY, WAITING, STARTED) that are only foreseen
   (FUTURE, LIKELY, MAYBE) are dropped and predicted again from the target spec, as
   SpiffWorkflow does when it starts a workflow; so are predictions whose spec the target
   lacks;
2. every other task of the saved state (completed ones included: SpiffWorkflow needs the
   spec of every task in the tree) names a task spec the target has;
3. every current task has an unchanged spec: same id, kind, incoming and outgoing flows,
   event definition, scripts (names, lanes and documentation may differ);
4. a foreseen task that is kept (one not after a current task) keeps its definite
   children among its outgoing task specs (SpiffWorkflow refuses to drop one later);
5. a parallel join with other incoming flows in the target, that the application will
   still reach, gets each of them from a branch the application will still run or has run
   (a branch added to a split it has passed would be waited for forever; an inclusive join
   waits only for branches still possible, so it needs no such check).

Anything else is refused with the reason; the caller keeps the application where it is.
The checks read plain dicts: the saved state and the versions' stored spec dicts.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.util.task import TaskState

from engine.workflow.outcome import LoadedSpec
from engine.workflow.serialization import WorkflowCodec
from engine.workflow.spiff_compat import all_tasks

# What a spec may change without changing how a current task behaves.
_COSMETIC = frozenset(
    {"bpmn_name", "documentation", "lane", "description", "extensions", "lookahead"}
)
_CURRENT = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_PARALLEL = "ParallelGateway"  # an inclusive join waits only for branches still possible
_ORDERED = "ordered_tasks"


def migration_problems(
    state: dict[str, Any], source: dict[str, Any], target: dict[str, Any]
) -> list[str]:
    """Why `state` (saved on the `source` spec dict) cannot move onto `target`; [] if it can."""
    problems: list[str] = []
    for label, tasks, old, new in _scopes(state, source, target, problems):
        dropped = _foreseen(tasks, set(new))
        by_id = {task["id"]: task for task in tasks}
        for task in tasks:
            if task["id"] not in dropped:
                problems += _task_problems(label, task, by_id, old, new)
        problems += _join_problems(label, tasks, new, old)
    return problems


def _scopes(
    state: dict[str, Any], source: dict[str, Any], target: dict[str, Any], problems: list[str]
) -> Iterator[tuple[str, list[dict[str, Any]], dict[str, Any], dict[str, Any]]]:
    """(label, tasks, source task specs, target task specs) of the process and each
    running sub-process."""
    yield (
        "the process",
        _tasks(state),
        source["process"]["task_specs"],
        target["process"]["task_specs"],
    )
    for sub in state.get("subprocesses", {}).values():
        name = sub.get("spec")
        old = source.get("subprocesses", {}).get(name)
        new = target.get("subprocesses", {}).get(name)
        if old is None or new is None:
            problems.append(
                f"the sub-process {name!r} is running and the target version does not have it"
            )
            continue
        yield f"the sub-process {name!r}", _tasks(sub), old["task_specs"], new["task_specs"]


def _tasks(scope: dict[str, Any]) -> list[dict[str, Any]]:
    if _ORDERED in scope:
        return [task for _, task in scope[_ORDERED]]
    return list(scope.get("tasks", {}).values())


def _foreseen(tasks: list[dict[str, Any]], known: set[str]) -> set[str]:
    """Ids of the tasks that are dropped and predicted again: foreseen tasks after a current
    task, and predictions of specs the target lacks, each with its subtree."""
    by_id = {task["id"]: task for task in tasks}
    roots = [
        c
        for t in tasks
        if t["state"] & _CURRENT
        for c in t["children"]
        if c in by_id and _foreseen_state(by_id[c])
    ]
    roots += [
        t["id"]
        for t in tasks
        if t["state"] & TaskState.PREDICTED_MASK and t["task_spec"] not in known
    ]
    dropped: set[str] = set()
    while roots:
        task_id = roots.pop()
        if task_id not in dropped and task_id in by_id:
            dropped.add(task_id)
            roots.extend(by_id[task_id]["children"])
    return dropped


def _foreseen_state(task: dict[str, Any]) -> bool:
    foreseen = TaskState.FUTURE | TaskState.PREDICTED_MASK
    return bool(task["state"] & foreseen) and not task.get("triggered")


def _task_problems(
    label: str,
    task: dict[str, Any],
    by_id: dict[str, dict[str, Any]],
    old: dict[str, Any],
    new: dict[str, Any],
) -> list[str]:
    name, state = task["task_spec"], task["state"]
    if name not in new:
        return [f"the {_state(state)} task {name!r} of {label} is not in the target version"]
    if state & _CURRENT:
        change = spec_change(old.get(name), new[name])
        return (
            [f"{name!r} is {_state(state)} and changed in the target version: {change}"]
            if change
            else []
        )
    if state & TaskState.DEFINITE_MASK:
        outputs = set(new[name]["outputs"])
        for child in (by_id.get(c) for c in task["children"]):
            if (
                child
                and child["state"] & TaskState.DEFINITE_MASK
                and (child["task_spec"] not in outputs)
            ):
                return [
                    f"{name!r} is followed by {child['task_spec']!r} in this application, "
                    "and no longer in the target version"
                ]
    return []


def spec_change(old: dict[str, Any] | None, new: dict[str, Any]) -> str | None:
    """What differs between two serialized task specs, ignoring names and documentation."""
    if old is None:
        return "it is new"
    a, b = _behaviour(old), _behaviour(new)
    if a.get("typename") != b.get("typename"):
        return f"kind {a.get('typename')} -> {b.get('typename')}"
    changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return ", ".join(_plain(k) for k in changed) or None


def _behaviour(spec: dict[str, Any]) -> dict[str, Any]:
    found = {k: v for k, v in spec.items() if k not in _COSMETIC}
    found["inputs"], found["outputs"] = sorted(spec["inputs"]), sorted(spec["outputs"])
    return found


def _plain(key: str) -> str:
    return {"inputs": "incoming flows", "outputs": "outgoing flows"}.get(key, key)


def _join_problems(
    label: str, tasks: list[dict[str, Any]], new: dict[str, Any], old: dict[str, Any]
) -> list[str]:
    """A parallel join of the target that this application will still reach must get each
    of its incoming flows: from a branch it will still run, or one it has run already."""
    reach = _reachable(new, [t["task_spec"] for t in tasks if t["state"] & _CURRENT])
    done = {t["task_spec"] for t in tasks if t["state"] & TaskState.COMPLETED}
    problems = []
    for name, spec in new.items():
        before = old.get(name)
        if (
            spec["typename"] != _PARALLEL
            or name not in reach
            or (before is not None and sorted(before["inputs"]) == sorted(spec["inputs"]))
        ):
            continue
        never = sorted(i for i in spec["inputs"] if i not in reach and i not in done)
        if never:
            problems.append(
                f"the join {name!r} of {label} waits in the target version for "
                f"{', '.join(map(repr, never))}, which this application will not "
                "run: it has passed the split"
            )
    return problems


def _reachable(specs: dict[str, Any], starts: list[str]) -> set[str]:
    """Task specs reachable from `starts` (themselves included) along outgoing flows."""
    seen: set[str] = set()
    frontier = [s for s in starts if s in specs]
    while frontier:
        name = frontier.pop()
        if name not in seen:
            seen.add(name)
            frontier.extend(o for o in specs[name]["outputs"] if o in specs)
    return seen


def _state(state: int) -> str:
    return str(TaskState.get_name(state)).lower()


def migrate_state(state: dict[str, Any], target: LoadedSpec) -> dict[str, Any]:
    """The saved state restored onto `target` and saved again. Task ids, data, timers and
    every current or finished task stay as they were; what comes after the current tasks is
    predicted from the target. Call only when `migration_problems` found none.
    """
    pruned = copy.deepcopy(state)
    _drop_foreseen(pruned, set(target.spec.task_specs))
    for sub in pruned.get("subprocesses", {}).values():
        known = target.subprocess_specs.get(sub.get("spec"))
        _drop_foreseen(sub, set(known.task_specs) if known else set())
    codec = WorkflowCodec()
    workflow = codec.state_from_dict(pruned, target.spec, target.subprocess_specs)
    for task in all_tasks(workflow, _CURRENT):
        task.task_spec._predict(task, mask=TaskState.NOT_FINISHED_MASK)
    return codec.state_to_dict(workflow)


def _drop_foreseen(scope: dict[str, Any], known: set[str]) -> None:
    pairs = scope[_ORDERED] if _ORDERED in scope else list(scope["tasks"].items())
    dropped = _foreseen([task for _, task in pairs], known)
    for _, task in pairs:
        task["children"] = [c for c in task["children"] if c not in dropped]
    kept = [(i, t) for i, t in pairs if i not in dropped]
    if _ORDERED in scope:
        scope[_ORDERED] = kept
    else:
        scope["tasks"] = dict(kept)
