"""Structural diff of two model versions, as plain Python over plain dicts (DESIGN §5).

A side is what a stored version declares, read once by the service:

    {"ref": {"region", "key", "version"}, "title", "process_sla",
     "steps": [StepDefinition.as_dict()...], "flows": [{"id", "source", "target",
     "condition", "name"}...], "forms": {file name: JSON Schema}, "standard": dict | None,
     "lineage": dict | None}

Steps and flows line up by element id: replication keeps ids, so a diff between a
procedure and its copy shows exactly the adaptations. The text form is what
`permitflow models diff` prints and `?format=text` answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from engine.domain.errors import InvalidInputError
from engine.domain.formats import VERSION_REF
from engine.domain.problems import Problem
from engine.domain.read_models import VersionDiff, VersionSummary
from engine.domain.service_standard import standard_changes

STEP_FIELDS = ("sla", "fee", "role", "form")
FLOW_FIELDS = ("source", "target", "condition")
MAX_FORM_PATHS = 50


def parse_ref(text: str, field: str = "ref") -> dict[str, Any]:
    """`3273/pbg@2` -> {"region": "3273", "key": "pbg", "version": 2}.

    Raises: InvalidInputError naming `field`.
    """
    match = VERSION_REF.parts(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidInputError(
            f"{field} must name a model version as REGION/KEY@VERSION, e.g. 3273/pbg@1",
            [Problem(f"{text!r} is not REGION/KEY@VERSION", field=field)],
        )
    return {"region": match["region"], "key": match["key"], "version": int(match["version"])}


def ref_text(ref: dict[str, Any]) -> str:
    """The REGION/KEY@VERSION form of a reference."""
    return f"{ref['region']}/{ref['key']}@{ref['version']}"


def diff_models(a: dict[str, Any], b: dict[str, Any]) -> VersionDiff:
    """Everything that differs from side `a` to side `b`, and b's lineage if it came from a."""
    process = _changes(a, b, ("title", "process_sla"))
    steps = _step_diff(a, b)
    flows = _flow_diff(a.get("flows", []), b.get("flows", []))
    standard = standard_changes(a.get("standard"), b.get("standard"))
    return {
        "a": _summary(a),
        "b": _summary(b),
        "process": process,
        "steps": steps,
        "flows": flows,
        "standard": standard,
        "lineage": _lineage(a, b),
        "identical": not (process or any(steps.values()) or any(flows.values()) or standard),
    }


def _summary(side: dict[str, Any]) -> VersionSummary:
    ref = side["ref"]
    return {
        "region": ref["region"],
        "key": ref["key"],
        "version": ref["version"],
        "title": side.get("title"),
        "process_sla": side.get("process_sla"),
    }


def _changes(a: dict[str, Any], b: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: {"a": a.get(f), "b": b.get(f)} for f in fields if a.get(f) != b.get(f)}


def _lineage(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any] | None:
    lineage = b.get("lineage") or {}
    source = lineage.get("source") or {}
    same = all(source.get(k) == a["ref"][k] for k in ("region", "key", "version"))
    return lineage if source and same else None


def _step_diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    old = {s["element_id"]: s for s in a.get("steps", [])}
    new = {s["element_id"]: s for s in b.get("steps", [])}
    both = [i for i in _ordered(new) if i in old]
    return {
        "added": [_step_brief(new[i]) for i in _ordered(new) if i not in old],
        "removed": [_step_brief(old[i]) for i in _ordered(old) if i not in new],
        "renamed": [
            {"element_id": i, "a": old[i]["name"], "b": new[i]["name"]}
            for i in both
            if old[i]["name"] != new[i]["name"]
        ],
        "changed": [c for i in both if (c := _step_changes(i, old[i], new[i], a, b))],
    }


def _ordered(steps: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(steps, key=lambda i: (steps[i].get("order") or 0, i))


def _step_brief(step: dict[str, Any]) -> dict[str, Any]:
    return {k: step.get(k) for k in ("element_id", "name", "role", "sla", "fee", "form")}


def _step_changes(
    element_id: str,
    old: dict[str, Any],
    new: dict[str, Any],
    a: dict[str, Any],
    b: dict[str, Any],
) -> dict[str, Any] | None:
    changes = _changes(old, new, STEP_FIELDS)
    formula_a, formula_b = _formula_label(old), _formula_label(new)
    if formula_a != formula_b:
        changes["fee_formula"] = {"a": formula_a, "b": formula_b}
    schema_a = (a.get("forms") or {}).get(old.get("form") or "")
    schema_b = (b.get("forms") or {}).get(new.get("form") or "")
    if schema_a != schema_b:
        changes["form_content"] = {"paths": form_paths(schema_a, schema_b)}
    if not changes:
        return None
    return {"element_id": element_id, "name": new["name"], "changes": changes}


def _formula_label(step: dict[str, Any]) -> str | None:
    """A fee formula as name@version and the start of its hash (None: a fixed fee)."""
    formula = step.get("fee_formula")
    if not formula:
        return None
    return f"{formula['name']}@{formula.get('version')} ({str(formula.get('sha256'))[:12]})"


def form_paths(a: Any, b: Any, path: str = "") -> list[str]:
    """JSON pointers where two form schemas differ (at most MAX_FORM_PATHS)."""
    return list(_walk_paths(a, b, path))[:MAX_FORM_PATHS]


def _walk_paths(a: Any, b: Any, path: str) -> Iterator[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            child = f"{path}/{_escape(str(key))}"
            if key not in a or key not in b:
                yield child
            elif a[key] != b[key]:
                yield from _walk_paths(a[key], b[key], child)
    elif a != b:
        yield path or "/"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _flow_diff(
    old_list: list[dict[str, Any]], new_list: list[dict[str, Any]]
) -> dict[str, list[Any]]:
    old = {f["id"]: f for f in old_list}
    new = {f["id"]: f for f in new_list}
    changed = []
    for flow_id in (i for i in new if i in old):
        changes = _changes(old[flow_id], new[flow_id], FLOW_FIELDS)
        if changes:
            changed.append({"id": flow_id, "changes": changes})
    return {
        "added": [new[i] for i in new if i not in old],
        "removed": [old[i] for i in old if i not in new],
        "changed": changed,
    }


def render_text(diff: Mapping[str, Any]) -> str:
    """The diff as readable text, one change per line."""
    lines = [f"diff {ref_text(diff['a'])} -> {ref_text(diff['b'])}"]
    lines += _lineage_lines(diff["lineage"], diff["b"])
    if diff["identical"]:
        return "\n".join([*lines, "no differences"]) + "\n"
    lines += _section(
        "process",
        [f"  ~ {f}: {_show(c['a'])} -> {_show(c['b'])}" for f, c in diff["process"].items()],
    )
    lines += _section("steps", _step_lines(diff["steps"]))
    lines += _section("flows", _flow_lines(diff["flows"]))
    lines += _section("standard", _standard_lines(diff.get("standard", [])))
    return "\n".join(lines) + "\n"


def _standard_lines(changes: list[dict[str, Any]]) -> list[str]:
    lines = []
    for change in changes:
        number = change["component"]
        named = f" (komponen {number}, {change['name']})" if number else ""
        paths = form_paths(change["a"], change["b"], f"/{_escape(change['key'])}")
        lines.append(f"  ~ {change['key']}{named}: {', '.join(paths)}")
    return lines


def _lineage_lines(lineage: dict[str, Any] | None, b: dict[str, Any]) -> list[str]:
    if not lineage:
        return []
    lines = [
        f"lineage: {ref_text(b)} replicated from {ref_text(lineage['source'])}"
        f" by {lineage.get('by', '?')} at {lineage.get('at', '?')}"
    ]
    overrides = lineage.get("overrides")
    if overrides:
        lines.append(f"  overrides: {json.dumps(overrides, sort_keys=True, ensure_ascii=False)}")
    return lines


def _section(title: str, lines: list[str]) -> list[str]:
    return [f"{title}:", *lines] if lines else []


def _step_lines(steps: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = [
        f"  + {s['element_id']} {s['name']!r} (role {s['role']}, sla {s['sla']}, fee {s['fee']})"
        for s in steps["added"]
    ]
    lines += [f"  - {s['element_id']} {s['name']!r}" for s in steps["removed"]]
    lines += [f"  ~ {s['element_id']}: name {s['a']!r} -> {s['b']!r}" for s in steps["renamed"]]
    for step in steps["changed"]:
        parts = [_change_text(f, c) for f, c in step["changes"].items()]
        lines.append(f"  ~ {step['element_id']}: " + "; ".join(parts))
    return lines


def _change_text(field: str, change: dict[str, Any]) -> str:
    if field == "form_content":
        return "form content " + ", ".join(change["paths"] or ["/"])
    return f"{field} {_show(change['a'])} -> {_show(change['b'])}"


def _flow_lines(flows: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = [f"  + {f['id']}: {_flow_text(f)}" for f in flows["added"]]
    lines += [f"  - {f['id']}: {_flow_text(f)}" for f in flows["removed"]]
    for flow in flows["changed"]:
        parts = [_change_text(f, c) for f, c in flow["changes"].items()]
        lines.append(f"  ~ {flow['id']}: " + "; ".join(parts))
    return lines


def _flow_text(flow: dict[str, Any]) -> str:
    condition = f" [{flow['condition']}]" if flow.get("condition") else ""
    return f"{flow['source']} -> {flow['target']}{condition}"


def _show(value: Any) -> str:
    return "(none)" if value is None else repr(value) if isinstance(value, str) else str(value)
