"""What the database keeps of a model, checked at upload against its column lengths.

SQLite ignores declared lengths, PostgreSQL enforces them: a process title of 301
characters answered 500 at upload there, and a task id of 201 characters uploaded fine
and then failed every start (the task row could not be written). Each limit here is the
length of the column the value lands in (`engine/persistence/tables/`; a test keeps
them equal).
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from engine.domain.definitions import StepDefinition
from engine.modeling.bpmn import ModelScan

MAX_ELEMENT_ID = 200  # tasks, timers, fee items: element_id
MAX_TITLE = 300  # process models, versions, applications: title
MAX_STEP_NAME = 300  # tasks, fee items: name
MAX_ROLE = 100  # tasks: role
MAX_FORM_NAME = 200  # tasks: form
MAX_SLA = 32  # versions, applications, tasks: (process_)sla


def check_lengths(
    scan: ModelScan, title: str, process_sla: str | None, steps: Sequence[StepDefinition]
) -> None:
    """Report every id, name, role, form or SLA longer than the column that stores it."""
    for node in scan.flow_nodes():
        _check(scan, node.get("id") or "", MAX_ELEMENT_ID, "id", node, "id")
    _check(scan, title, MAX_TITLE, "title (process or pool name)", scan.process, "name")
    _check(scan, process_sla or "", MAX_SLA, "process SLA", scan.process, "sla")
    for step in steps:
        where = scan.by_id.get(step.element_id)
        _check(scan, step.name, MAX_STEP_NAME, "name", where, "name")
        _check(scan, step.role, MAX_ROLE, "role (lane id or candidateGroups)", where, "role")
        _check(scan, step.form or "", MAX_FORM_NAME, "form file name", where, "form")
        _check(scan, step.sla or "", MAX_SLA, "SLA", where, "sla")


def _check(
    scan: ModelScan,
    value: str,
    limit: int,
    what: str,
    element: etree._Element | None,
    field: str,
) -> None:
    if len(value) > limit:
        kind = scan.label(element).split(" ")[0] if element is not None else "the model"
        scan.add(
            f"the {what} of this {kind} ({value[:40]!r}...) has {len(value)} characters; "
            f"at most {limit} are kept",
            element,
            element_id=(element.get("id") or "")[:limit] if element is not None else None,
            field=field,
        )
