"""Opening a step's fee item: the fixed fee, or the published formula's result, frozen.

A formula fee is evaluated once, when the step becomes ready, over the application's data
at that moment; the amount, the inputs and the formula's version and hash go on the fee
item and into the audit log. Nothing later (a new version of the formula, a payment of
another amount) changes that amount: payments compare against the frozen item.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import Actor
from engine.domain.calendar import WorkingCalendar
from engine.domain.errors import InvalidInputError, NotFoundError
from engine.domain.fee_inputs import InputSpec
from engine.domain.fees_formula import FeeFormula, FormulaError, TableDecide, parse_formula
from engine.domain.problems import Problem
from engine.domain.read_models import EstimatedFee, FeeEstimate
from engine.domain.statuses import FeeStatus
from engine.persistence.tables import ApplicationRecord, FeeItemRecord, TaskRecord
from engine.services import notifications
from engine.services.access import visible_model
from engine.services.audit import record_event
from engine.services.called_steps import published_steps
from engine.unit_of_work import UnitOfWork
from engine.workflow.decision_tables import read_fee_table

BILLING_SERIES = "skrd"


def open_fee_item(
    uow: UnitOfWork,
    app: ApplicationRecord,
    task: TaskRecord,
    declared: dict[str, Any],
    data: dict[str, Any] | None,
    *,
    actor: Actor,
    now: datetime,
    calendar: WorkingCalendar,
) -> None:
    """Open the fee item of a step that just became ready, if it charges anything.

    Raises: InvalidInputError when a formula's inputs are missing or out of range in the
    application data (the call that made the step ready is refused, nothing is written).
    """
    formula_def = declared.get("fee_formula")
    assessment = None
    if formula_def:
        formula = stored_formula(formula_def)
        try:
            assessment = formula.evaluate(formula.inputs_from(data or {}))
        except FormulaError as exc:
            # Located on the table (a DMN fee), else on the step.
            problems = [Problem(p.message, field=p.field,
                                element_id=p.element_id or task.element_id)
                        for p in exc.problems]
            raise InvalidInputError(
                f"the fee of {task.name!r} cannot be computed from the application data "
                f"by formula {formula.name!r}: {exc}", problems
            ) from None
        task.fee = assessment.amount
    if task.fee <= 0:
        if assessment is not None:  # exempt (e.g. MBR housing): the assessment is the record
            record_event(
                uow, actor=actor, action="fee.assessed", subject=f"task:{task.id}", at=now,
                region_code=app.region_code, application_id=app.id,
                data={"element_id": task.element_id, **assessment.as_dict()},
            )
        return
    item = FeeItemRecord(
        id=uuid.uuid4(),
        application_id=app.id,
        task_id=task.id,
        region_code=app.region_code,
        element_id=task.element_id,
        name=task.name,
        amount=task.fee,
        status=FeeStatus.OPEN,
        created_at=now,
        billing_code=next_billing_code(uow, app.region_code, now, calendar),
    )
    if assessment is not None:
        item.formula, item.formula_version = assessment.formula, assessment.version
        item.formula_sha256, item.formula_inputs = assessment.sha256, assessment.inputs
    uow.repos.fees.add(item)
    # One event: the billed amount with, for a formula fee, its whole assessment.
    record_event(
        uow, actor=actor, action="fee.billed", subject=f"fee_item:{item.id}", at=now,
        region_code=app.region_code, application_id=app.id,
        data={"element_id": task.element_id, "amount": item.amount,
              "billing_code": item.billing_code,
              **({"assessment": assessment.as_dict()} if assessment is not None else {})},
    )
    notifications.payment_billed(uow, app, item, now)


def next_billing_code(
    uow: UnitOfWork, region: str, now: datetime, calendar: WorkingCalendar
) -> str:
    """The next SKRD billing code of the region's year (its own time zone): digits only,
    region code + year + 7-digit sequence, e.g. 327320260000042 (a bank VA number)."""
    year = now.astimezone(calendar.tz).year
    number = uow.repos.billing.next_number(region, BILLING_SERIES, year)
    return f"{region}{year}{number:07d}"


def stored_formula(definition: dict[str, Any]) -> FeeFormula:
    """The formula a model version stored (checked at upload; its hash must still match)."""
    body = {k: v for k, v in definition.items() if k not in ("name", "sha256")}
    formula, _problems = parse_formula(definition["name"], body, _stored_table)
    if formula is None or formula.sha256 != definition.get("sha256"):
        raise RuntimeError(f"stored fee formula {definition.get('name')!r} does not verify")
    return formula


def _stored_table(
    text: str, inputs: tuple[InputSpec, ...], where: str
) -> tuple[TableDecide | None, list[Problem]]:
    # Checked in full at upload; here only read (and cached by its text).
    return read_fee_table(text, inputs, where, check=False)


def fee_estimate(
    ctx: EngineContext, region: str, key: str, inputs: dict[str, Any]
) -> FeeEstimate:
    """Public: the fees of the newest published version of a service for these inputs.

    Every formula step is evaluated with `inputs` (by input name); fixed fees are listed as
    they are. The steps of the models it calls count too, labelled `called` (bound as a new
    application would be); a multi-instance call's fees are listed but not in `total`.

    Raises: NotFoundError, InvalidInputError (naming each bad or missing input).
    """
    with ctx.reader() as uow:
        model = visible_model(uow, None, region, key)
        record = uow.repos.models.newest_published(model.id)
        if record is None:
            raise NotFoundError(f"{key} has no published version in region {region}")
        fees: list[EstimatedFee] = []
        problems: list[Problem] = []
        for step in published_steps(ctx, uow, record):
            element_id, name = step["element_id"], step["name"]
            if step.get("fee_formula"):
                try:
                    result = stored_formula(step["fee_formula"]).evaluate(inputs)
                except FormulaError as exc:
                    problems += [Problem(p.message, field=p.field, element_id=element_id)
                                 for p in exc.problems]
                    continue
                fee: EstimatedFee = {"element_id": element_id, "name": name,
                                     "amount": result.amount, "assessment": result.as_dict()}
            elif step.get("fee"):
                fee = {"element_id": element_id, "name": name,
                       "amount": int(step["fee"]), "assessment": None}
            else:
                continue
            if "called" in step:  # a called model's fee, labelled with it
                fee["called"] = step["called"]
            fees.append(fee)
        if problems:
            raise InvalidInputError("the fee cannot be estimated from these inputs", problems)
        return {
            "region": record.region_code, "key": record.key, "version": record.version,
            "currency": "IDR", "fees": fees,
            # A multi-instance call's fee is charged per item: listed, not in the total.
            "total": sum(f["amount"] for f in fees
                         if not f.get("called", {}).get("per_item")),
        }
