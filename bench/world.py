"""What every section runs on: the shipped and bench models, officers, scenarios.

A `Scenario` is an application walked from start to end, step by step, with the data
each step submits. The shipped PBG procedure is driven by its own `happy_path.json`;
the 2-step `simple-form` and the 300-instance `mi-review` models live in `bench/models/`.
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import SYSTEM, Actor
from engine.domain.definitions import APPLICANT_ROLES, ModelPackage
from engine.modeling import read_package_dir
from engine.services import models, users

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "process_models"
BENCH_MODELS = Path(__file__).resolve().parent / "models"
REGION = "3273"
PBG_DIR = SHIPPED / REGION / "pbg"
OFFICER_ROLES = ("front-office", "technical-team", "head-of-office")
_references = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a scenario: the element to complete, its data, and whether to pay first."""

    element_id: str
    data: dict[str, Any]
    pay: bool = False


@dataclass(frozen=True, slots=True)
class Scenario:
    """An application from start to end."""

    key: str
    bpmn: Path
    process_id: str
    steps: tuple[Step, ...]
    applicant: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


def pbg_scenario() -> Scenario:
    """The shipped PBG procedure's happy path (9 steps, one fee)."""
    raw = json.loads((PBG_DIR / "scenarios" / "happy_path.json").read_text("utf-8"))
    steps = tuple(Step(s["task"], s.get("data", {}), bool(s.get("pay"))) for s in raw["steps"])
    return Scenario("pbg", PBG_DIR / "model.bpmn", "pbg", steps, raw.get("applicant", {}),
                    raw.get("data", {}))


def simple_form_scenario() -> Scenario:
    """SpiffArena's `simple_form` shape: a form task, then a manual task."""
    form = {"name": "Siti Rahmawati", "age": 34, "color": "hijau"}
    return Scenario(
        "simple-form",
        BENCH_MODELS / "simple-form" / "model.bpmn",
        "simple-form",
        (Step("fill_form", form), Step("review_form", {})),
        {"name": "Siti Rahmawati"},
    )


def mi_package(cardinality: int) -> ModelPackage:
    """The multi-instance model with `cardinality` parallel instances of its review step."""
    package = read_package_dir(BENCH_MODELS / "mi-review")
    marker = b"<bpmn:loopCardinality>300</bpmn:loopCardinality>"
    assert marker in package.bpmn, "bench/models/mi-review must declare 300 instances"
    bpmn = package.bpmn.replace(marker, f"<bpmn:loopCardinality>{cardinality}"
                                        f"</bpmn:loopCardinality>".encode())
    return ModelPackage(bpmn=bpmn, forms=package.forms, standard=package.standard)


def mi_compute_package(cardinality: int) -> ModelPackage:
    """The automated variant: `cardinality` parallel script-task instances, then a sign-off."""
    package = read_package_dir(BENCH_MODELS / "mi-compute")
    marker = b"<bpmn:loopCardinality>300</bpmn:loopCardinality>"
    assert marker in package.bpmn, "bench/models/mi-compute must declare 300 instances"
    bpmn = package.bpmn.replace(marker, f"<bpmn:loopCardinality>{cardinality}"
                                        f"</bpmn:loopCardinality>".encode())
    return ModelPackage(bpmn=bpmn, forms=package.forms, standard=package.standard)


def new_reference() -> str:
    """A payment reference unique across runs and processes."""
    return f"BENCH-{uuid.uuid4().hex[:10]}-{next(_references)}"


@dataclass
class World:
    """A database loaded with models and officers, seen through one engine context."""

    ctx: EngineContext
    actors: dict[str, Actor]
    tokens: dict[str, str]

    def actor_for(self, role: str) -> Actor:
        """The officer who works steps of `role` (the counter acts for the applicant)."""
        return self.actors["front-office" if role in APPLICANT_ROLES else role]

    def token_for(self, role: str) -> str:
        """The bearer token of `actor_for(role)`."""
        return self.tokens["front-office" if role in APPLICANT_ROLES else role]


def build_world(ctx: EngineContext, mi_cardinality: int) -> World:
    """Import the shipped procedures and the bench models; create one officer per role."""
    models.import_directory(ctx, SYSTEM, SHIPPED)
    models.upload_model(ctx, SYSTEM, REGION, read_package_dir(BENCH_MODELS / "simple-form"))
    models.upload_model(ctx, SYSTEM, REGION, mi_package(mi_cardinality))
    models.upload_model(ctx, SYSTEM, REGION, mi_compute_package(mi_cardinality))
    actors, tokens = {}, {}
    for role in OFFICER_ROLES:
        created = users.add_user(ctx, SYSTEM, f"bench {role}", [role], REGION)
        actors[role] = users.authenticate(ctx, created.token)
        tokens[role] = created.token
    return World(ctx, actors, tokens)
