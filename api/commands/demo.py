"""`permitflow demo`: the shipped procedures, run by their scenarios on a throw-away database."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.commands.scenarios import load_scenario, run_scenario
from api.wiring import build_context
from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.domain.statuses import FeeStatus
from engine.persistence.schema import upgrade
from engine.services import models, payments

PROCESS_MODELS = Path(__file__).resolve().parents[2] / "process_models"


def run_demo(keep: Path | None, say: Callable[[str], None]) -> int:
    """Run every scenario of every shipped model; returns the number that failed."""
    with tempfile.TemporaryDirectory(prefix="permitflow-demo-") as tmp:
        path = keep or Path(tmp) / "demo.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        ctx = build_context(url)
        say(f"demo database: {path}{'' if keep else ' (deleted afterwards)'}")
        for region, key, version, _ in models.import_directory(ctx, SYSTEM, PROCESS_MODELS):
            say(f"imported {region}/{key}@{version}")
        failed = 0
        for scenario_file in sorted(PROCESS_MODELS.glob("*/*/scenarios/*.json")):
            region, key = scenario_file.parts[-4], scenario_file.parts[-3]
            scenario = load_scenario(scenario_file)
            say(f"\n{region}/{key}: {scenario['name']}")
            result = run_scenario(ctx, region, key, scenario, say, pay=_cashier(ctx))
            failed += not result.passed
            say(
                f"  => {result.application.status}"
                + (f"; FAILED: {result.failures}" if result.failures else "")
            )
        ctx.session_factory.kw["bind"].dispose()
        say(f"\n{failed} scenario(s) failed" if failed else "\nall scenarios passed")
        return failed


def _cashier(ctx: EngineContext) -> Callable[[Any, Any, Any], None]:
    """Pays a step's open fee item exactly, as the scenarios' `"pay": true` asks."""

    def pay(_actor: Any, app: Any, task: Any) -> None:
        item = next(i for i in payments.fee_items(ctx, SYSTEM, app.id)
                    if i["element_id"] == task.element_id and i["status"] == FeeStatus.OPEN)
        payments.record_payment(ctx, SYSTEM, app.id, item["fee_item"], item["amount"],
                                f"DEMO-{uuid.uuid4().hex[:12].upper()}", "teller")

    return pay
