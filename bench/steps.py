"""Per-step cost: the raw library step, the engine's adapter, the service layer, HTTP.

All paths walk the same scenario on the same model in the same process, interleaved
instance by instance, so the machine's noise falls on every path alike. A sample is
one step's completion; starting an application and paying are not timed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.drivers import Transport, http_lifecycle, service_lifecycle
from bench.measure import Stopwatch, ms
from bench.raw import RawSpiff, timed_steps
from bench.report import TIMES, Row, ratio, verdict
from bench.world import Scenario, World
from engine.modeling import compile_model, read_package_dir
from engine.workflow.live_cache import LiveWorkflows
from engine.workflow.outcome import LoadedSpec
from engine.workflow.runtime import WorkflowRuntime

TARGET = 2.0  # issue #16: a step over HTTP costs at most 2x the raw library step
SERVICE_TARGET = 1.5  # ... and through the service layer at most 1.5x


@dataclass
class _Samples:
    raw_default: Stopwatch = field(default_factory=Stopwatch)
    raw_ref: Stopwatch = field(default_factory=Stopwatch)
    adapter: Stopwatch = field(default_factory=Stopwatch)
    service: dict[str, Stopwatch] = field(default_factory=dict)
    # The same service walk with the live-workflow cache off (every step restores), A/B.
    service_off: dict[str, Stopwatch] = field(default_factory=dict)
    http: dict[str, Stopwatch] = field(default_factory=dict)


class PerStep:
    """Collects step samples over one or more databases; `rows()` reports them."""

    def __init__(self, scenarios: list[Scenario]) -> None:
        self.scenarios = scenarios
        self.raw = {s.key: RawSpiff(s.bpmn, s.process_id) for s in scenarios}
        self.samples = {s.key: _Samples() for s in scenarios}
        self.databases: list[str] = []
        self._flip = False
        self._specs = {s.key: compile_model(read_package_dir(s.bpmn.parent)).spec
                       for s in scenarios}

    def measure(self, world: World, http: Transport, db: str, instances: int,
                warmup: int = 1) -> None:
        """Walk `warmup` untimed, then `instances` timed applications per model and path."""
        self.databases.append(db)
        runtime = world.ctx.runtime
        for scenario in self.scenarios:
            samples = self.samples[scenario.key]
            watches = (samples.service.setdefault(db, Stopwatch()),
                       samples.http.setdefault(db, Stopwatch()),
                       samples.service_off.setdefault(db, Stopwatch()))
            loaded = runtime.load_spec(("bench", scenario.key), self._specs[scenario.key])
            for _ in range(warmup):
                self._instance(world, http, runtime, loaded, scenario, _Samples(),
                               (None, None, None))
            for _ in range(instances):
                self._instance(world, http, runtime, loaded, scenario, samples, watches)

    def _instance(
        self, world: World, http: Transport, runtime: WorkflowRuntime, loaded: LoadedSpec,
        scenario: Scenario, samples: _Samples,
        watches: tuple[Stopwatch | None, Stopwatch | None, Stopwatch | None],
    ) -> None:
        raw = self.raw[scenario.key]
        steps = [(s.element_id, s.data) for s in scenario.steps]
        for serializer, watch in ((raw.default, samples.raw_default),
                                  (raw.spec_ref, samples.raw_ref)):
            durations, _ = timed_steps(raw, steps, serializer, time.perf_counter,
                                       scenario.data)
            for duration in durations:
                watch.add(duration)
        _adapter_instance(runtime, loaded, scenario, samples.adapter)
        self._flip = not self._flip  # the cache on first, then off first: A/B, B/A, ...
        for cached in (True, False) if self._flip else (False, True):
            if cached:
                service_lifecycle(world, scenario, watches[0])
                continue
            live, world.ctx.live = world.ctx.live, LiveWorkflows(0)
            try:
                service_lifecycle(world, scenario, watches[2])
            finally:
                world.ctx.live = live
        http_lifecycle(http, world, scenario, watches[1])
        for watch in (samples.raw_default, samples.raw_ref, samples.adapter, *watches):
            if watch is not None:
                watch.next_run()

    def rows(self) -> list[Row]:
        """One block of rows per model."""
        rows: list[Row] = []
        for scenario in self.scenarios:
            rows += self._model_rows(scenario, self.samples[scenario.key])
        return rows

    def _model_rows(self, scenario: Scenario, samples: _Samples) -> list[Row]:
        name = f"per step, `{scenario.key}` ({len(scenario.steps)} steps)"
        raw = samples.raw_default.summary()
        reference = f"raw step {ms(raw.median)}"
        rows = [
            Row(name, "raw SpiffWorkflow step: load JSON, list ready, run, save (default "
                "serializer)", "-", ms(raw.median), raw.noise()),
            _vs(name, "raw step, spec stored by reference", "-", samples.raw_ref, raw.median,
                reference),
            _vs(name, "engine adapter `WorkflowRuntime.complete` (sandbox, codec; no DB)", "-",
                samples.adapter, raw.median, reference),
        ]
        for db in self.databases:
            rows.append(_vs(name, "service `tasks.complete_task`", db, samples.service[db],
                            raw.median, reference, target=SERVICE_TARGET))
            rows.append(_vs(name, "service, live-workflow cache off (A/B: every step reads "
                            "and restores the state)", db, samples.service_off[db], raw.median,
                            reference))
            rows.append(_vs(name, "HTTP `POST /tasks/{id}/complete`, Flask test client "
                            "(in-process, no socket)", db, samples.http[db], raw.median,
                            reference, target=TARGET))
        return rows


def _vs(
    section: str, measure: str, db: str, watch: Stopwatch, reference: float, label: str,
    target: float | None = None,
) -> Row:
    summary = watch.summary()
    quotient = summary.median / reference
    return Row(section, measure, db, ms(summary.median), summary.noise(), label,
               ratio(summary.median, reference),
               f"≤ {target:g}{TIMES} raw" if target else "",
               verdict(quotient <= target) if target else "")


def _adapter_instance(
    runtime: WorkflowRuntime, loaded: LoadedSpec, scenario: Scenario, watch: Stopwatch
) -> None:
    """The engine's own load-run-save for each step, without the database."""
    now = datetime.now(UTC)
    outcome = runtime.start(loaded, dict(scenario.data), now)
    for step in scenario.steps:
        task_id = next(s.task_id for s in outcome.steps
                       if s.state == "ready" and s.element_id == step.element_id)
        with watch.timed():
            outcome = runtime.complete(loaded, outcome.state, task_id, step.data, now)
    if not outcome.completed:
        raise RuntimeError(f"adapter: {scenario.key} did not complete: {outcome.error}")
