"""Serving the app with gunicorn (threads per process, N processes)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from api import create_app
from api.cli import engine_context
from api.config import setting
from api.worker_loop import start_background_worker


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
    if with_worker:
        # One worker thread in the serving (arbiter) process; more workers can run as
        # separate `permitflow worker` processes: they coordinate through the database.
        start_background_worker(engine_context(), setting("WORKER_INTERVAL"))
    _Gunicorn(options).run()
