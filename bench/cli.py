"""`python -m bench`: run the sections, print the table, write `bench/results.md`."""

from __future__ import annotations

import argparse
import gc
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask

from api import create_app
from bench import backlog, multi, steps, throughput
from bench.config import FULL, SECTIONS, SMOKE, Sizes
from bench.databases import Database, postgres_database, postgres_unavailable, sqlite_database
from bench.drivers import FlaskTransport, SocketTransport
from bench.machine import describe, load_average
from bench.report import Row, document, write
from bench.server import HOST, Server
from bench.world import World, build_world, pbg_scenario, simple_form_scenario

T = TypeVar("T")
RESULTS = Path(__file__).resolve().parent / "results.md"
# In this process only: SpiffWorkflow logs every task state change at INFO (~5 records a
# step), which would bury the progress lines. Measured, it costs no time; the server keeps
# its default level.
LOG_LEVEL = "WARNING"
ORDER = ("steps", "throughput", "inbox", "worker", "multi", "state")


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes on SQLite only, seconds (the test suite runs this)")
    parser.add_argument("--skip-postgres", action="store_true", help="measure on SQLite only")
    parser.add_argument("--only", default=None,
                        help=f"comma-separated sections: {', '.join(SECTIONS)}")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the results (default: bench/results.md; "
                             "--smoke writes nothing unless given)")
    args = parser.parse_args(argv)
    wanted = set(args.only.split(",")) if args.only else set(SECTIONS)
    unknown = wanted - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; "
                     f"choose from {', '.join(SECTIONS)}")
    args.sections = wanted
    if args.output is None and not args.smoke:
        args.output = RESULTS
    return args


class Run:
    """One benchmark run: its databases, worlds, server, rows and notes."""

    def __init__(self, args: argparse.Namespace, workdir: Path, stack: ExitStack) -> None:
        self.args, self.workdir, self.stack = args, workdir, stack
        self.sizes: Sizes = SMOKE if args.smoke else FULL
        self.rows: dict[str, list[Row]] = {name: [] for name in ORDER}
        self.notes: list[str] = []
        self.databases: list[Database] = []
        self.worlds: dict[str, tuple[World, Flask]] = {}

    def wants(self, *names: str) -> bool:
        """Whether any of the sections `names` was asked for."""
        return bool(self.args.sections.intersection(names))

    def open_databases(self) -> None:
        """SQLite always; PostgreSQL unless skipped or unreachable (then noted)."""
        self._adopt(sqlite_database(self.workdir))
        if self.args.smoke or self.args.skip_postgres:
            return
        reason = postgres_unavailable()
        if reason is not None:
            self.notes.append(f"PostgreSQL not measured: {reason}")
            return
        self._adopt(postgres_database())

    def _adopt(self, db: Database) -> None:
        self.databases.append(db)
        self.stack.callback(db.close)

    def world(self, db: Database) -> tuple[World, Flask]:
        """The loaded world on `db` and an in-process app on it (built once)."""
        if db.label not in self.worlds:
            world = build_world(db.context(), self.sizes.mi_cardinality)
            app = create_app({"DATABASE_URL": db.url, "LOG_LEVEL": LOG_LEVEL})
            db.adopt_app(app.extensions["permitflow"])
            self.worlds[db.label] = (world, app)
            # As `permitflow serve`'s workers do once their app is built (api/commands/
            # server.py): what lives as long as the process is kept out of the collector's
            # full walks. Every path of the run (the raw library's too) runs in this heap.
            gc.freeze()
        return self.worlds[db.label]

    def section(self, name: str, work: Callable[..., T], *args: Any) -> T:
        """Run one section's `work(*args)`, saying how long it took."""
        started = time.perf_counter()
        print(f"[bench] {name} ...", flush=True)
        result = work(*args)
        print(f"[bench] {name} done in {time.perf_counter() - started:.0f} s", flush=True)
        return result


def _per_database(run: Run) -> None:
    pbg, simple = pbg_scenario(), simple_form_scenario()
    per_step = steps.PerStep([pbg, simple]) if run.wants("steps") else None
    for db in run.databases:
        world, app = run.world(db)
        if per_step is not None:
            run.section(f"per-step cost on {db.label}", per_step.measure, world,
                        FlaskTransport(app.test_client(use_cookies=False)), db.label,
                        run.sizes.step_instances,
                        run.sizes.step_warmup)
        if run.wants("multi"):
            run.rows["multi"] += run.section(f"multi-instance on {db.label}",
                                             multi.measure_service, world, db.label,
                                             run.sizes.mi_cardinality)
        if run.wants("state"):
            run.rows["state"] += multi.measure_state(world, db, pbg, steps=8)
    if per_step is not None:
        run.rows["steps"] = per_step.rows()
    if run.wants("multi"):
        run.rows["multi"] += run.section("multi-instance, raw SpiffWorkflow", multi.measure_raw,
                                         run.sizes.mi_cardinality, run.sizes.raw_mi_repeats)


def _served(run: Run) -> None:
    """Throughput, inbox and worker, on the server database (PostgreSQL when measured)."""
    if not run.wants("throughput", "inbox", "worker"):
        return
    db = run.databases[-1]
    world, app = run.world(db)
    server = Server(db.url, run.sizes.server_workers, run.sizes.server_threads,
                    run.workdir / "gunicorn.log")
    run.stack.callback(server.stop)
    server.start()
    if run.wants("throughput"):
        run.rows["throughput"] += run.section(
            f"throughput over HTTP on {db.label}", throughput.measure, server, world,
            [simple_form_scenario(), pbg_scenario()], run.sizes.throughput_clients,
            run.sizes.throughput_seconds, run.sizes.throughput_repeats, db.label)
    if run.wants("inbox", "worker"):
        socket = SocketTransport(HOST, server.port)
        run.stack.callback(socket.close)
        paths = backlog.Paths(FlaskTransport(app.test_client()), socket, server.description)
        inbox, passes, notes = run.section(
            f"inbox and worker on {db.label}", backlog.measure, db, world, paths, run.sizes,
            run.wants("inbox"), run.wants("worker"))
        run.rows["inbox"] += inbox
        run.rows["worker"] += passes
        run.notes.extend(notes)
    server.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 on success."""
    args = parse(argv)
    logging.basicConfig(level=LOG_LEVEL)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="permitflow-bench-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, True)
        run = Run(args, workdir, stack)
        run.open_databases()
        postgres = next((d.version for d in run.databases if d.kind == "postgres"), None)
        machine = describe(postgres)
        _per_database(run)
        _served(run)
    run.notes.append(f"whole run: {time.perf_counter() - started:.0f} s; load average at the "
                     f"end {load_average()}")
    rows = [row for name in ORDER for row in run.rows[name]]
    title = "permitflow benchmark" + (" (smoke run: tiny sizes, not results)" if args.smoke else "")
    text = document(machine, rows, run.notes, title)
    print(text)
    if args.output is not None:
        write(args.output, text)
        print(f"[bench] written to {args.output}")
    return 0
