"""Timer events: plain ISO-8601 text as Camunda writes it, or a sandboxed expression.

Text that looks like ISO-8601 (`P2D`, `PT4H`, `R3/PT1H`, `2027-01-31T09:00:00+07:00`) is
validated as such and handed to SpiffWorkflow as a quoted string literal, because
SpiffWorkflow evaluates timer text as Python. Anything else is an expression
(SpiffArena's `"PT2H"`, `f"PT{hours}H"`) and goes to the sandbox check; a constant string
literal is validated as ISO too. A date without a UTC offset is refused: SpiffWorkflow
would read it in the server's time zone.

`TimerDefinition.expression` holds the ISO text when the timer is constant (plain or
quoted), else the expression as written.
"""

from __future__ import annotations

import ast
import json
import re
from datetime import datetime

from lxml import etree

from engine.domain.definitions import TimerDefinition, TimerKind
from engine.modeling.bpmn import ModelScan, children, kind, text_of
from engine.modeling.expressions import CheckCode, code_problems

_KINDS: dict[str, TimerKind] = {
    "timeDate": "date",
    "timeDuration": "duration",
    "timeCycle": "cycle",
}
_ISO_LIKE = re.compile(r"^(R\d*/|PT?\d|\d{4}-\d\d)")
# A Quartz/Unix cron line: five to seven fields of digits, *, ?, /, -, L, W, #.
_CRON = re.compile(r"^[0-9*?/,LW#-]+(\s+[0-9A-Z*?/,LW#-]+){4,6}$")
_DURATION = re.compile(
    r"^P(?:(?P<Y>[0-9]+)Y)?(?:(?P<M>[0-9]+)M)?(?:(?P<W>[0-9]+)W)?(?:(?P<D>[0-9]+)D)?"
    r"(?:T(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:[.,][0-9]+)?S)?)?$"
)
_EXAMPLES = {
    "duration": "PT4H or P2D",
    "date": "2027-01-31T09:00:00+07:00",
    "cycle": "R3/PT1H or R/P1D",
}


def read_timers(
    scan: ModelScan, check_code: CheckCode
) -> tuple[list[TimerDefinition], dict[str, str]]:
    """Timer definitions, and event id -> the Python text SpiffWorkflow must evaluate."""
    timers: list[TimerDefinition] = []
    spiff_texts: dict[str, str] = {}
    for event in scan.flow_nodes():
        definitions = children(event, "timerEventDefinition")
        if len(definitions) > 1:
            scan.add(
                f"{scan.label(event)} holds {len(definitions)} timer definitions; "
                "use one per event",
                event,
            )
        elif definitions:
            found = _read_timer(scan, event, definitions[0], check_code)
            if found is not None:
                timers.append(found[0])
                spiff_texts[event.get("id")] = found[1]
    return timers, spiff_texts


def _read_timer(
    scan: ModelScan, event: etree._Element, definition: etree._Element, check_code: CheckCode
) -> tuple[TimerDefinition, str] | None:
    # SpiffWorkflow reads the first of timeDate, timeDuration, timeCycle: so do we.
    holders = [c for k in _KINDS for c in children(definition, k)]
    text = text_of(holders[0]).strip() if holders else ""
    if not text:
        scan.add(
            f"{scan.label(event)} has an empty timer: give a duration (PT4H), a date "
            "(2027-01-31T09:00:00+07:00) or a cycle (R3/PT1H)",
            event,
        )
        return None
    timer_kind = _KINDS[kind(holders[0]) or "timeDuration"]
    checked = _timer_value(scan, event, holders[0], text, timer_kind, check_code)
    if checked is None:
        return None
    value, constant = checked
    interrupting = kind(event) != "boundaryEvent" or event.get("cancelActivity") != "false"
    definition_value = TimerDefinition(
        element_id=event.get("id"),
        kind=timer_kind,
        expression=value,
        attached_to=event.get("attachedToRef"),
        interrupting=interrupting,
        line=event.sourceline,
    )
    # A constant becomes a quoted string literal: SpiffWorkflow evaluates timer text as Python.
    return definition_value, (json.dumps(value) if constant else text)


def _timer_value(
    scan: ModelScan,
    event: etree._Element,
    holder: etree._Element,
    text: str,
    timer_kind: TimerKind,
    check_code: CheckCode,
) -> tuple[str, bool] | None:
    """(ISO text, True) for a constant timer, (expression, False) otherwise; None if bad."""
    constant = text if _ISO_LIKE.match(text) else None
    if constant is None:
        hint = (
            "; write ISO-8601 text (PT4H, R3/PT1H, 2027-01-31T09:00:00+07:00) or a "
            "Python expression that gives such text"
        )
        if _CRON.match(text.strip()):  # Camunda 7 reads Quartz cron cycles; we do not
            cron = f" ({text.strip()!r} is a cron expression)"
            hint = f"{cron}{hint}, e.g. R/PT5M for every 5 minutes"
        if not code_problems(
            scan,
            event,
            holder,
            text,
            mode="eval",
            what="the timer",
            check_code=check_code,
            hint=hint,
        ):
            return None
        constant = _string_literal(text)
        if constant is None:
            return text, False
    error = iso_problem(constant, timer_kind)
    if error:
        scan.add(f"the timer of {scan.label(event)}: {error}", event, line=holder.sourceline)
        return None
    return constant, True


def _string_literal(text: str) -> str | None:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value.strip() if isinstance(value, str) else None


def iso_problem(text: str, timer_kind: TimerKind) -> str | None:
    """Why `text` is not an ISO-8601 value of this timer kind that the engine can run."""
    if timer_kind == "duration":
        return None if _is_duration(text) else _not_iso(text, timer_kind)
    if timer_kind == "date":
        return _date_problem(text)
    return _cycle_problem(text)


def _is_duration(text: str) -> bool:
    match = _DURATION.fullmatch(text)
    if match is None or text == "P":
        return False
    # SpiffWorkflow refuses weeks mixed with years, months or days.
    return not (match["W"] and (match["Y"] or match["M"] or match["D"]))


def _not_iso(text: str, timer_kind: TimerKind) -> str:
    return f"{text!r} is not an ISO-8601 {timer_kind}; write it like {_EXAMPLES[timer_kind]}"


def _date_problem(text: str) -> str | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return _not_iso(text, "date")
    if moment.tzinfo is None:
        return (
            f"the date {text!r} has no UTC offset and would be read in the server's "
            "time zone: give the offset, e.g. 2027-01-31T09:00:00+07:00"
        )
    return None


def _cycle_problem(text: str) -> str | None:
    match = re.fullmatch(r"R[0-9]*/(.+)", text, re.DOTALL)
    parts = match[1].split("/") if match else []
    durations = [p for p in parts if _is_duration(p)]
    if not match or len(parts) > 2 or len(durations) != 1:
        return _not_iso(text, "cycle")
    dates = [p for p in parts if p not in durations]
    return _date_problem(dates[0]) if dates else None
