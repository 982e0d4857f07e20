"""A fee formula's named inputs: where each comes from in the application data, what it may
be, and the checking of given values against that (shared by formulas and DMN tables)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.domain.problems import Problem

INPUT_TYPES = ("number", "integer", "boolean", "enum")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,7}$")


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One named input: where it comes from in the application data and what it may be."""

    name: str
    source: str
    type: str
    values: tuple[str, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    default: Any = None
    title: str | None = None


def as_decimal(value: Any) -> Decimal | None:
    """A JSON number or decimal text as Decimal; floats go through their shortest text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | str | float):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def parse_input_specs(raw: Any, where: str, problems: list[Problem]) -> list[InputSpec]:
    if not isinstance(raw, dict) or not raw:
        problems.append(Problem(f"{where} must name at least one input", field=where))
        return []
    specs = []
    for name, spec in raw.items():
        here = f"{where}.{name}"
        if not NAME.match(str(name)) or not isinstance(spec, dict):
            problems.append(Problem(f"{here}: a lower-case name with an object", field=here))
            continue
        kind, source = spec.get("type"), spec.get("from", name)
        values = spec.get("values", [])
        if kind not in INPUT_TYPES:
            problems.append(Problem(f"{here}.type must be one of {', '.join(INPUT_TYPES)}",
                                    field=f"{here}.type"))
            continue
        if not isinstance(source, str) or not _PATH.match(source):
            problems.append(
                Problem(f"{here}.from must be a dotted data path", field=f"{here}.from")
            )
            continue
        if kind == "enum" and (not isinstance(values, list) or not values
                               or not all(isinstance(v, str) for v in values)):
            problems.append(Problem(f"{here}.values must list the allowed texts",
                                    field=f"{here}.values"))
            continue
        specs.append(InputSpec(
            name=str(name), source=source, type=kind, values=tuple(values),
            minimum=as_decimal(spec["minimum"]) if "minimum" in spec else None,
            maximum=as_decimal(spec["maximum"]) if "maximum" in spec else None,
            default=spec.get("default"), title=spec.get("title"),
        ))
    return specs


def checked_inputs(
    specs: tuple[InputSpec, ...], given: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    """The inputs' checked values (defaults applied), or the problems naming each field."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for spec in specs:
        value = given.get(spec.name, spec.default)
        label = spec.source
        if value is None:
            problems.append(Problem(f"{spec.name} ({label}) is required", field=label))
            continue
        checked, refusal = _check_value(spec, value)
        if refusal:
            problems.append(Problem(f"{spec.name} ({label}) {refusal}", field=label))
        else:
            values[spec.name] = checked
    return values, problems


def _check_value(spec: InputSpec, value: Any) -> tuple[Any, str | None]:
    """The checked value, or why it is refused."""
    if spec.type == "boolean":
        return value, None if isinstance(value, bool) else "must be true or false"
    if spec.type == "enum":
        ok = isinstance(value, str) and value in spec.values
        return value, None if ok else f"must be one of {', '.join(spec.values)}"
    number = as_decimal(value) if not isinstance(value, str) else None
    if number is None:
        return None, "must be a number"
    if spec.type == "integer" and number != number.to_integral_value():
        return None, "must be a whole number"
    if spec.minimum is not None and number < spec.minimum:
        return None, f"must be at least {spec.minimum}"
    if spec.maximum is not None and number > spec.maximum:
        return None, f"must be at most {spec.maximum}"
    return number, None
