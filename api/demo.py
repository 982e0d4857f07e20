"""`permitflow demo`: the shipped procedures, run by their scenarios on a throw-away database."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from api.wiring import build_context
from engine.domain.actors import SYSTEM
from engine.persistence.migrate import upgrade
from engine.services import models
from engine.services.scenarios import load_scenario, run_scenario

PROCESS_MODELS = Path(__file__).resolve().parents[1] / "process_models"


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
            result = run_scenario(ctx, region, key, scenario, say)
            failed += not result.passed
            say(f"  => {result.application.status}" + (f"; FAILED: {result.failures}" if result.failures else ""))
        ctx.session_factory.kw["bind"].dispose()
        say(f"\n{failed} scenario(s) failed" if failed else "\nall scenarios passed")
        return failed
