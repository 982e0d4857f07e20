"""Serving the app with gunicorn (threads per process, N processes)."""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.http import errors as http_errors
from gunicorn.workers.gthread import ThreadWorker

from api import create_app  # imports no prometheus_client (see api/metrics.py)

# What gunicorn answers itself, before the app sees a request (an over-long request line, a
# malformed header, ...): status, problem type and title, as api/errors.py would answer it.
_PARSER_ERRORS: list[tuple[type[Exception], int, str, str]] = [
    (http_errors.LimitRequestLine, 414, "uri-too-long", "Alamat permintaan terlalu panjang"),
    (http_errors.LimitRequestHeaders, 431, "headers-too-large", "Header permintaan terlalu besar"),
    (http_errors.ExpectationFailed, 417, "expectation-failed", "Harapan tidak dapat dipenuhi"),
    (http_errors.UnsupportedTransferCoding, 501, "not-implemented", "Tidak didukung"),
    (http_errors.ForbiddenProxyRequest, 403, "forbidden", "Tidak diizinkan"),
    (http_errors.ParseException, 400, "bad-request", "Permintaan tidak valid"),
]

# The server's own faults among gunicorn's parse errors: gunicorn answers and logs those.
_NOT_THE_CLIENTS = (
    http_errors.ConfigurationProblem,
    http_errors.InvalidResponseHeader,
    http_errors.InvalidResponseHeaderName,
    http_errors.NoMoreData,
)


class ProblemWorker(ThreadWorker):
    """gunicorn's threaded worker, answering the requests it cannot parse with
    application/problem+json instead of its HTML page (e.g. a 414 for a request line
    longer than gunicorn's limit), like every answer of the app."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        found = next((row for row in _PARSER_ERRORS if isinstance(exc, row[0])), None)
        if isinstance(exc, _NOT_THE_CLIENTS):
            found = None
        if found is None:  # not a request gunicorn refused: its own handling (and logging)
            super().handle_error(req, client, addr, exc)
            return
        _, status, type_, title = found
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        body = json.dumps(
            {"type": type_, "title": title, "status": status, "detail": str(exc)[:200]}
        ).encode()
        head = (
            f"HTTP/1.1 {status} {title}\r\nConnection: close\r\n"
            f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1", "replace") + body)
        except OSError:
            self.log.debug("Failed to send error message.")


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """The app, built in each worker process; what it built is then frozen out of the
        garbage collector's reach (`gc.freeze`).

        The app lives as long as the process: its mappers, compiled schemas, routes and
        workflow specs are never garbage, yet each full collection walked them all, during
        a request. On the bench's `simple-form` lifecycle (one client, PostgreSQL, a shared
        and loaded machine, 10k requests each way, interleaved) collections took 0.079 ms a
        request and up to 234 ms at once (the slowest request 247 ms); frozen, 0.035 ms and
        at most 9.5 ms (the slowest request 103 ms). The mean rate moved within its noise.
        """
        app = create_app()
        gc.freeze()
        return app


MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
SHARED_MEMORY = "/dev/shm"  # noqa: S108 - a memory file system, for gunicorn's heartbeat files


def prepare_metrics_dir(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    """The directory where every process of this server writes its metrics, created and
    emptied (values of an earlier run would be summed in); made temporary when unset.

    Set in the environment before gunicorn forks and before anything imports
    prometheus_client, which chooses its multiprocess storage at import.
    """
    given = environ.get(MULTIPROC_DIR)
    path = Path(given) if given else Path(tempfile.mkdtemp(prefix="permitflow-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    environ[MULTIPROC_DIR] = str(path)
    return path


def _child_exit(_server: Any, worker: Any) -> None:
    """gunicorn hook: a worker process ended; its live gauges (pool use) stop counting."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def gunicorn_options(host: str, port: int, *, workers: int, threads: int) -> dict[str, Any]:
    """gunicorn's settings for `permitflow serve`.

    The workers' heartbeat file (touched twice a request by each gthread main loop) lives
    in memory, /dev/shm, when there is one, as gunicorn's documentation advises: on a disk
    the touch waits for the file system's journal, and while it waits the worker's main
    loop hands no request to its threads (measured on the bench machine with other disk
    writers: 0.37 ms a touch on average in /tmp, about 4 us alone).

    No gunicorn access log: the app writes the request's line itself, as JSON with its
    request id and the route *template* (`api/observability.py`). gunicorn's own line
    repeated each request in another format, with the raw path (a tracking code, a task
    id) that the app's line leaves out, and cost each request the formatting of every
    header of the request and the answer.
    """
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": max(1, workers),
        "threads": max(1, threads),
        "worker_class": "api.commands.server.ProblemWorker",
        "timeout": 60,
        "child_exit": _child_exit,
    }
    if Path(SHARED_MEMORY).is_dir():
        options["worker_tmp_dir"] = SHARED_MEMORY
    return options


def run_server(host: str, port: int, *, workers: int, threads: int, with_worker: bool) -> None:
    """Serve until interrupted; `with_worker` also runs the SLA/timer worker loop."""
    prepare_metrics_dir()
    options = gunicorn_options(host, port, workers=workers, threads=threads)
    worker = _spawn_worker() if with_worker else None
    try:
        _Gunicorn(options).run()
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=10)
            _child_exit(None, worker)


def _spawn_worker() -> subprocess.Popen[bytes]:
    """`permitflow worker` as a child process beside the API.

    A process, not a thread: gunicorn forks its workers from this process, and forking with
    a running thread can leave locks held in the children. Workers coordinate through the
    database only, so this one is simply the first of any number.
    """
    return subprocess.Popen([sys.executable, "-m", "api.commands.cli", "worker"])
