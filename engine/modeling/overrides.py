"""Checking a replication's overrides against the source model, before anything is rewritten.

The overrides come from a request body (DESIGN §6):

    {"steps": {<task id>: {"sla": "P5D", "fee": 150000, "role": "loket"}},
     "roles": {<source role>: <target role>},
     "process": {"sla": "P21D", "title": "..."}}

Every problem is reported at once, located by a JSON pointer into the request
(`/overrides/steps/pay_retribution/fee`) and the step's element id. Values are
normalized the way an upload reads them (`p5d` -> `P5D`, fees as plain digits), so the
rewritten file holds exactly what the compiled model will say. Whatever passes here is
still compiled like any upload afterwards: an override can never get past a check an
upload would fail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.domain.problems import Problem
from engine.modeling.bpmn import CAMUNDA, NS, STEP_KINDS, ModelScan, q
from engine.modeling.steps import id_is_role
from engine.modeling.values import canonical_sla, parse_fee

ROLE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
MAX_TITLE = 300
_SECTIONS = ("steps", "roles", "process")
_ROLE_HINT = "a role is lower-case letters, digits, '-' and '_', starting with a letter"


@dataclass
class Overrides:
    """Checked, normalized overrides: ready to write into the XML."""

    steps: dict[str, dict[str, str]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    process: dict[str, str] = field(default_factory=dict)


def check_overrides(scan: ModelScan, given: Any) -> tuple[Overrides, list[Problem]]:
    """Normalize `given` against the source model in `scan` (its process chosen)."""
    problems: list[Problem] = []
    result = Overrides()
    if given is None:
        return result, problems
    if not isinstance(given, Mapping):
        return result, [Problem("overrides must be an object", field="/overrides")]
    for name in given:
        if name not in _SECTIONS:
            problems.append(
                Problem(
                    f"unknown override {name!r}; use steps, roles or process",
                    field=f"/overrides/{name}",
                )
            )
    result.steps = _steps(scan, _section(given, "steps", problems), problems)
    result.roles = _roles(scan, _section(given, "roles", problems), problems)
    result.process = _process(_section(given, "process", problems), problems)
    return result, problems


def _section(given: Mapping[str, Any], name: str, problems: list[Problem]) -> Mapping[str, Any]:
    value = given.get(name) or {}
    if not isinstance(value, Mapping):
        problems.append(Problem(f"overrides.{name} must be an object", field=f"/overrides/{name}"))
        return {}
    return value


def _steps(
    scan: ModelScan, given: Mapping[str, Any], problems: list[Problem]
) -> dict[str, Any]:
    known = {t.get("id") for t in scan.elements(*STEP_KINDS)}
    result: dict[str, dict[str, str]] = {}
    for step_id, values in given.items():
        where = f"/overrides/steps/{step_id}"
        if step_id not in known:
            have = ", ".join(sorted(i for i in known if i))
            problems.append(
                Problem(
                    f"the source model has no step {step_id!r} (its steps: {have})",
                    element_id=str(step_id),
                    field=where,
                )
            )
        elif not isinstance(values, Mapping):
            problems.append(
                Problem(
                    "a step override must be an object with sla, fee or role",
                    element_id=step_id,
                    field=where,
                )
            )
        else:
            result[step_id] = _step(step_id, values, where, problems)
    return result


def _step(
    step_id: str, values: Mapping[str, Any], where: str, problems: list[Problem]
) -> dict[str, Any]:
    checked: dict[str, str] = {}
    for name, value in values.items():
        try:
            checked[name] = _STEP_CHECKS[name](value) if name in _STEP_CHECKS else _unknown(name)
        except ValueError as exc:
            problems.append(
                Problem(f"step {step_id!r}: {exc}", element_id=step_id, field=f"{where}/{name}")
            )
    return checked


def _unknown(name: str) -> str:
    raise ValueError(f"{name!r} cannot be overridden; a step override sets sla, fee or role")


def normal_sla(value: Any) -> str:
    """An SLA as the upload reads it. Raises: ValueError."""
    if not isinstance(value, str):
        raise ValueError(f"SLA {value!r} must be text such as P3D or PT4H")
    return canonical_sla(value)


def normal_fee(value: Any) -> str:
    """A fee as plain digits: an integer >= 0 or its digits as text. Raises: ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"fee {value!r} must be a whole number of rupiah (e.g. 150000)")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"fee {value} is negative; write 0 for no fee")
        value = str(value)
    return str(parse_fee(value))


def normal_role(value: Any) -> str:
    """A role name as a lane id. Raises: ValueError."""
    if not isinstance(value, str) or not ROLE_PATTERN.fullmatch(value):
        raise ValueError(f"role {value!r} is not a valid role: {_ROLE_HINT}")
    return value


_STEP_CHECKS = {"sla": normal_sla, "fee": normal_fee, "role": normal_role}


def source_roles(scan: ModelScan) -> set[str]:
    """The roles the source model names: its lanes' ids and its tasks' candidate groups."""
    assert scan.process is not None
    roles = {_lane_role(lane) for lane in scan.process.iter(q("lane"))}
    for holder in scan.process.iter():
        groups = holder.get(f"{{{CAMUNDA}}}candidateGroups")
        if groups is None and holder.tag == f"{{{NS['zeebe']}}}assignmentDefinition":
            groups = holder.get("candidateGroups")
        roles |= {g.strip().lower() for g in (groups or "").split(",") if g.strip()}
    return roles - {""}


def _lane_role(lane: etree._Element) -> str:
    lane_id = (lane.get("id") or "").lower()
    return lane_id if id_is_role(lane_id) else (lane.get("name") or "").strip().lower()


def _roles(
    scan: ModelScan, given: Mapping[str, Any], problems: list[Problem]
) -> dict[str, Any]:
    known = source_roles(scan)
    result: dict[str, str] = {}
    for source, target in given.items():
        where = f"/overrides/roles/{source}"
        if source not in known:
            problems.append(
                Problem(
                    f"the source model has no role {source!r} (its roles: "
                    f"{', '.join(sorted(known))})",
                    field=where,
                )
            )
            continue
        try:
            result[source] = normal_role(target)
        except ValueError as exc:
            problems.append(Problem(str(exc), field=where))
    return result


def _process(given: Mapping[str, Any], problems: list[Problem]) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in given.items():
        where = f"/overrides/process/{name}"
        try:
            if name == "sla":
                result[name] = normal_sla(value)
            elif name == "title":
                result[name] = _title(value)
            else:
                raise ValueError(f"{name!r} cannot be overridden; use sla or title")
        except ValueError as exc:
            problems.append(Problem(f"the process: {exc}", field=where))
    return result


def _title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("the title must be non-empty text (it is shown to citizens)")
    if len(value.strip()) > MAX_TITLE:
        raise ValueError(f"the title is longer than {MAX_TITLE} characters")
    return value.strip()
