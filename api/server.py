"""Serving the app with gunicorn (threads per process, N processes)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from api import create_app


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app()


def run_server(host: str, port: int, *, workers: int, threads: int, with_worker: bool) -> None:
    """Serve until interrupted; `with_worker` also runs the SLA/timer worker loop."""
    options = {
        "bind": f"{host}:{port}",
        "workers": max(1, workers),
        "threads": max(1, threads),
        "worker_class": "gthread",
        "accesslog": "-",
        "timeout": 60,
    }
    worker = _spawn_worker() if with_worker else None
    try:
        _Gunicorn(options).run()
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=10)


def _spawn_worker() -> subprocess.Popen[bytes]:
    """`permitflow worker` as a child process beside the API.

    A process, not a thread: gunicorn forks its workers from this process, and forking with
    a running thread can leave locks held in the children. Workers coordinate through the
    database only, so this one is simply the first of any number.
    """
    return subprocess.Popen([sys.executable, "-m", "api.cli", "worker"])
