"""DMN decision tables run outside a workflow, and UNIQUE checked (SpiffWorkflow 3.2.0).

- `DMNEngine.decide(task)` reads the rules' inputs from `task.data` and evaluates them with
  `task.workflow.script_engine`; its errors read `task.task_spec` and the workflow's spec
  file. A fee table runs when a fee item opens or a citizen asks for an estimate, with no
  workflow task at hand: `TableTask` is the smallest task the library reads.
- Under hit policy UNIQUE, `decide` returns the first matching rule and stops: two rules
  matching the same inputs (a table that breaks UNIQUE) go unnoticed and the order of the rows
  decides the fee. `all_matching_rules` runs the table as COLLECT (every matching rule), so
  the checks at upload can refuse such a table.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine


class TableTask:
    """The task SpiffWorkflow's DMN engine reads: its data and its workflow's script engine,
    and what the library's error messages name."""

    def __init__(self, data: dict[str, Any], script_engine: Any) -> None:
        self.data = data
        self.workflow = SimpleNamespace(script_engine=script_engine,
                                        spec=SimpleNamespace(file="decision table"))
        self.workflow.top_workflow = self.workflow
        self.task_spec = SimpleNamespace(bpmn_name="fee table", bpmn_id="fee_table", name="fee")


def matching_rules(table: Any, task: TableTask) -> list[Any]:
    """The rules as the library's hit policy gives them (UNIQUE and FIRST: the first)."""
    return list(DMNEngine(table).decide(task))


def all_matching_rules(table: Any, task: TableTask) -> list[Any]:
    """Every rule matching the task's data, whatever the table's hit policy."""
    collect = copy.copy(table)
    collect.hit_policy = "COLLECT"
    return list(DMNEngine(collect).decide(task))
