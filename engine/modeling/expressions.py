"""Python expressions and scripts in a model: statically checked, located to the line.

Every script task, gateway condition, multi-instance expression, loop condition,
conditional event and SpiffArena pre/post script goes through the sandbox's static check
(`engine.sandbox.check_code`) at upload, so no syntax error or forbidden
construct (imports, dunder access, I/O) survives to run time.

Camunda Modeler writes JUEL conditions (`${approved}`, Camunda 7) or FEEL ones
(`=approved`, Camunda 8); simple ones are translated to Python for SpiffWorkflow (see
`juel.py`, `feel.py`). Returns the Python text SpiffWorkflow must see
for each sequence flow whose condition text changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from lxml import etree

from engine.modeling.bpmn import NS, ModelScan, children, text_of
from engine.modeling.feel import feel_to_python
from engine.modeling.juel import is_simple, juel_to_python

CheckCode = Callable[..., Sequence[str]]
_LINE = re.compile(r"^line (\d+)\s*[:,]?\s*(.*)$", re.DOTALL)
_EVAL_XPATHS = {
    "loop cardinality": "bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality",
    "multi-instance collection": "bpmn:multiInstanceLoopCharacteristics/bpmn:loopDataInputRef",
    "completion condition": "bpmn:multiInstanceLoopCharacteristics/bpmn:completionCondition",
    "loop condition": "bpmn:standardLoopCharacteristics/bpmn:loopCondition",
    "event condition": "bpmn:conditionalEventDefinition/bpmn:condition",
}
_EXEC_XPATHS = {
    "pre-script": "bpmn:extensionElements/spiffworkflow:preScript",
    "post-script": "bpmn:extensionElements/spiffworkflow:postScript",
}
_PYTHON_FORMATS = (None, "", "python", "python3", "text/x-python")


def code_problems(
    scan: ModelScan,
    owner: etree._Element,
    holder: etree._Element,
    text: str,
    *,
    mode: str,
    what: str,
    check_code: CheckCode,
    hint: str = "",
) -> bool:
    """Check `text` (held by `holder`, belonging to `owner`) and report what is wrong.

    A message "line N: ..." is relative to the text; the problem gets the absolute line
    (the holder's line + N - 1, plus blank lines stripped from the front). Returns
    whether the code passed.
    """
    messages = check_code(text, mode=mode)
    for message in messages:
        line, detail = holder.sourceline, message
        if match := _LINE.match(message):
            line = (holder.sourceline or 1) + int(match[1]) - 1
            detail = match[2] or message
        scan.add(f"{what} of {scan.label(owner)}: {detail}{hint}", owner, line=line)
    return not messages


def check_conditions(scan: ModelScan, check_code: CheckCode) -> dict[str, str]:
    """Check every sequence-flow condition; returns flow id -> Python text for SpiffWorkflow."""
    rewritten: dict[str, str] = {}
    for flow in scan.elements("sequenceFlow"):
        for holder in children(flow, "conditionExpression"):
            python = _condition(scan, flow, holder, check_code)
            if python is not None and flow.get("id"):
                rewritten[flow.get("id")] = python
    return rewritten


def _condition(
    scan: ModelScan, flow: etree._Element, holder: etree._Element, check_code: CheckCode
) -> str | None:
    raw = text_of(holder)
    text = raw.strip()
    if not text:
        return None  # an empty condition is "no condition": the gateway checks judge it
    dialect, translated = "JUEL", juel_to_python(text)
    if translated is None:
        dialect, translated = "FEEL", feel_to_python(text)
    if translated is not None:
        if not is_simple(translated) or check_code(translated, mode="eval"):
            scan.add(
                f"conditions are Python expressions: the {dialect} condition {text!r} of "
                f"sequence flow {flow.get('id')!r} has no simple Python equivalent; "
                "write it in Python, e.g. complete == True and amount > 100",
                flow,
                line=holder.sourceline,
            )
            return None
        return translated
    skipped = raw[: len(raw) - len(raw.lstrip())].count("\n")
    ok = code_problems(
        scan,
        flow,
        holder,
        text,
        mode="eval",
        what="the condition",
        check_code=_shifted(check_code, skipped),
        hint=dialect_hint(text),
    )
    return text if ok and text != raw else None


def _shifted(check_code: CheckCode, lines: int) -> CheckCode:
    """check_code whose "line N" messages count the `lines` stripped from the front."""
    if not lines:
        return check_code

    def check(text: str, *, mode: str) -> list[str]:
        return [
            _LINE.sub(lambda m: f"line {int(m[1]) + lines}: {m[2]}", message)
            for message in check_code(text, mode=mode)
        ]

    return check


def check_scripts(scan: ModelScan, check_code: CheckCode) -> None:
    """Script tasks hold Python; SpiffArena's pre- and post-scripts too."""
    for task in scan.elements("scriptTask"):
        _script_task(scan, task, check_code)
    for activity in scan.flow_nodes():
        for what, xpath in _EXEC_XPATHS.items():
            for holder in activity.xpath(xpath, namespaces=NS):
                code_problems(
                    scan,
                    activity,
                    holder,
                    text_of(holder),
                    mode="exec",
                    what=f"the {what}",
                    check_code=check_code,
                )


def _script_task(scan: ModelScan, task: etree._Element, check_code: CheckCode) -> None:
    script_format = task.get("scriptFormat")
    if (script_format or "").lower() not in _PYTHON_FORMATS:
        scan.add(
            f"{scan.label(task)} is written in {script_format!r}; scripts are Python "
            "(leave scriptFormat empty or write python)",
            task,
            field="scriptFormat",
        )
        return
    scripts = children(task, "script")
    if not scripts or not text_of(scripts[0]).strip():
        scan.add(
            f"{scan.label(task)} has no script: write the Python it runs, or use a plain task", task
        )
        return
    code_problems(
        scan,
        task,
        scripts[0],
        text_of(scripts[0]),
        mode="exec",
        what="the script",
        check_code=check_code,
    )


def check_other_expressions(scan: ModelScan, check_code: CheckCode) -> None:
    """Multi-instance, loop and conditional-event expressions are evaluated as Python."""
    for node in scan.flow_nodes():
        for what, xpath in _EVAL_XPATHS.items():
            for holder in node.xpath(xpath, namespaces=NS):
                _expression(scan, node, holder, what, check_code)


def _expression(
    scan: ModelScan,
    node: etree._Element,
    holder: etree._Element,
    what: str,
    check_code: CheckCode,
) -> None:
    text = text_of(holder)
    if not text.strip():
        scan.add(f"the {what} of {scan.label(node)} is empty", node, line=holder.sourceline)
    else:  # checked as written: SpiffWorkflow evaluates exactly this text
        code_problems(
            scan, node, holder, text, mode="eval", what=f"the {what}", check_code=check_code,
            hint=dialect_hint(text),
        )


# Expressions other tools write in another language: Camunda 7's JUEL (`${x}`, `#{x}`),
# the BPMN default XPath (`bpmn:getDataObject('x')`, Signavio, ADONIS), Zeebe's FEEL
# (`= x`). Left unexplained, Python's check says only "invalid syntax".
_DIALECTS = (
    (re.compile(r"^\s*[$#]\{"), "a JUEL expression (Camunda 7)"),
    (re.compile(r"\bbpmn:get\w+\(|^\s*/|\bxs:\w+\("), "an XPath expression"),
    (re.compile(r"^\s*="), "a FEEL expression (Camunda 8)"),
)


def dialect_hint(text: str) -> str:
    """"; it is ... : write it in Python" when `text` is in another expression language."""
    for pattern, dialect in _DIALECTS:
        if pattern.search(text):
            return (
                f" ({text.strip()[:80]!r} is {dialect}; expressions here are Python over the "
                "process data, e.g. approved == True and amount > 100)"
            )
    return ""
