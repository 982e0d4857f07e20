"""How big each section is: the real run and the `--smoke` run."""

from __future__ import annotations

from dataclasses import dataclass

SECTIONS = ("steps", "throughput", "inbox", "worker", "multi", "state")


@dataclass(frozen=True, slots=True)
class Sizes:
    """Repetitions and data volumes of one run."""

    step_instances: int  # instances walked per path (raw, adapter, service, HTTP) and model
    step_warmup: int  # untimed instances first (spec cache, SQL compile cache, form schemas)
    throughput_seconds: float  # one measurement window
    throughput_repeats: int
    throughput_clients: tuple[int, ...]
    server_workers: int  # gunicorn processes
    server_threads: int  # threads per gunicorn process
    inbox_levels: tuple[int, ...]  # open tasks in the table when the inbox is measured
    inbox_queries: int  # per level and path
    worker_levels: tuple[int, ...]  # open tasks when a worker pass is measured
    worker_due: int  # of which this many are due
    worker_repeats: int
    mi_cardinality: int
    raw_mi_repeats: int


FULL = Sizes(
    step_instances=25,
    step_warmup=1,
    throughput_seconds=8.0,
    throughput_repeats=3,
    throughput_clients=(1, 4),
    server_workers=2,
    server_threads=4,
    inbox_levels=(1_000, 100_000, 1_000_000),
    inbox_queries=200,
    worker_levels=(1_000, 100_000, 1_000_000),
    worker_due=1_000,
    worker_repeats=5,
    mi_cardinality=300,
    raw_mi_repeats=3,
)

SMOKE = Sizes(
    step_instances=1,
    step_warmup=0,
    throughput_seconds=0.0,  # one lifecycle per client
    throughput_repeats=1,
    throughput_clients=(1,),
    server_workers=1,
    server_threads=2,
    inbox_levels=(300,),
    inbox_queries=5,
    worker_levels=(30, 300),
    worker_due=30,
    worker_repeats=2,
    mi_cardinality=3,
    raw_mi_repeats=1,
)
