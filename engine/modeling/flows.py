"""Reading the sequence flows of a stored model, for the structural diff (DESIGN §5).

Stored versions were validated at upload, but the bytes are parsed again with the same
hardened parser: nothing an analyst wrote is ever read with a laxer one.
"""

from __future__ import annotations

from typing import Any

from engine.domain.errors import ModelInvalidError
from engine.modeling.bpmn import ModelScan, children, text_of
from engine.modeling.structure import choose_process
from engine.modeling.xmlsafe import parse_bpmn


def read_flows(data: bytes, filename: str = "model.bpmn") -> list[dict[str, Any]]:
    """Every sequence flow of the running process (sub-processes included), in file order:
    {id, source, target, condition, name}; `condition` is the expression text or None.

    Raises: ModelInvalidError when the bytes are not a BPMN file with one runnable process.
    """
    root, problems = parse_bpmn(data, filename)
    if root is None:
        raise ModelInvalidError(f"{filename} cannot be read", problems)
    scan = ModelScan(root, filename)
    choose_process(scan)
    if scan.process is None:
        raise ModelInvalidError(f"{filename} has no runnable process", scan.problems)
    return [_flow(flow) for flow in scan.elements("sequenceFlow")]


def _flow(flow: Any) -> dict[str, Any]:
    condition = next(iter(children(flow, "conditionExpression")), None)
    text = text_of(condition).strip() if condition is not None else ""
    return {
        "id": flow.get("id"),
        "source": flow.get("sourceRef"),
        "target": flow.get("targetRef"),
        "condition": text or None,
        "name": flow.get("name"),
    }
