"""The public service standard (standar pelayanan) of a model version.

The procedure, its deadlines and its fees come from the BPMN itself, so what is
published is exactly what runs; the other components come from `standard.json`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from engine.context import EngineContext
from engine.domain import skm
from engine.domain.errors import NotFoundError
from engine.domain.read_models import FormulaRef, ProcedureStep, ServiceStandard
from engine.persistence.tables import ModelVersionRecord
from engine.services.access import visible_model, visible_region
from engine.services.called_steps import fixed_total, per_item_total, published_steps
from engine.unit_of_work import UnitOfWork


def service_standard(
    ctx: EngineContext, region: str, key: str, version: int | None = None
) -> ServiceStandard:
    """Public: steps with role, SLA and fee in order, totals, and the standard's components.

    `version=None` means the newest published version. Raises: NotFoundError.
    """
    with ctx.reader() as uow:
        model = visible_model(uow, None, region, key)
        record = (
            uow.repos.models.version(model.id, version, with_blobs=False)
            if version
            else uow.repos.models.newest_published(model.id)
        )
        if record is None:
            raise NotFoundError(f"version {version} of {key} not found in region {region}")
        return _standard(ctx, uow, record)


def region_services(ctx: EngineContext, region: str) -> list[ServiceStandard]:
    """Public: the current (newest published) service standard of every model of a region,
    with its complaints (filed, answered, answered in time) and satisfaction index (IKM).

    Raises: NotFoundError.
    """
    with ctx.reader() as uow:
        visible_region(uow, None, region)
        current = (uow.repos.models.newest_published(m.id) for m in uow.repos.models.list(region))
        services = [_standard(ctx, uow, v) for v in current if v is not None]
        counts = {key: rest for key, *rest in uow.repos.citizen.complaint_counts(region)}
        answers: dict[str, list[Any]] = defaultdict(list)
        for _, key, scores in uow.repos.citizen.survey_answers(region, None):
            answers[key].append(scores)
    for service in services:
        filed, answered, in_time = counts.get(service["key"], (0, 0, 0))
        service["complaints"] = {"filed": filed, "answered": answered, "answered_in_time": in_time}
        service["skm"] = skm.ikm(answers.get(service["key"], [])).as_dict()
    return services


def _standard(ctx: EngineContext, uow: UnitOfWork, record: ModelVersionRecord) -> ServiceStandard:
    """A version's procedure (from its BPMN, with the steps of the models it calls, bound as
    a new application would bind them now), totals, and standard.json components.

    A step whose fee is a published formula shows `fee` 0 and its `fee_formula` (name,
    version, hash); `totals.fee` is then the fixed part only, and `fee_formulas` lists
    each formula in full, as the public fee estimate evaluates it. A called model's step
    carries `called`; one of a multi-instance call is charged per item, so its fee counts
    in `totals.fee_per_item`, not `totals.fee`."""
    steps = published_steps(ctx, uow, record)
    formulas = {s["element_id"]: s["fee_formula"] for s in steps if s.get("fee_formula")}
    return {
        "region": record.region_code,
        "key": record.key,
        "version": record.version,
        "title": record.title,
        "status": record.status,
        "procedure": [_procedure_step(i + 1, s, formulas) for i, s in enumerate(steps)],
        "totals": {
            "fee": fixed_total(steps),
            "fee_per_item": per_item_total(steps),
            "legal_sla": record.process_sla,
            "legal_sla_is_backstop": record.process_sla is None,
            "currency": "IDR",
            "fee_formulas": [
                {"element_id": element_id, **formula} for element_id, formula in formulas.items()
            ],
        },
        "standard": record.standard or {},
    }


def _procedure_step(
    order: int, step: dict[str, Any], formulas: dict[str, dict[str, Any]]
) -> ProcedureStep:
    view: ProcedureStep = {
        "order": order,
        "element_id": step["element_id"],
        "name": step["name"],
        "role": step["role"],
        "sla": step["sla"],
        "fee": int(step["fee"]),
    }
    if step["element_id"] in formulas:
        view["fee_formula"] = _formula_ref(formulas[step["element_id"]])
    if "called" in step:
        view["called"] = step["called"]
    return view


def _formula_ref(formula: dict[str, Any]) -> FormulaRef:
    return {"name": formula["name"], "version": formula["version"], "sha256": formula["sha256"]}
