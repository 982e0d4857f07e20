"""`permitflow serve` (gunicorn) in a subprocess on a free localhost port."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.report import TIMES
from bench.world import ROOT

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _command() -> list[str]:
    script = Path(sys.executable).with_name("permitflow")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from api.commands.cli import main; main()"]


class Server:
    """The API under gunicorn, without the background SLA worker (it would add noise)."""

    def __init__(self, database_url: str, workers: int, threads: int, log: Path) -> None:
        self.url, self.workers, self.threads, self.log = database_url, workers, threads, log
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def description(self) -> str:
        """How the table describes the server."""
        return f"gunicorn {self.workers} proc {TIMES} {self.threads} threads, localhost socket"

    def start(self, timeout: float = 60.0) -> None:
        """Start and wait until `/api/v1/openapi.json` answers.

        Raises: RuntimeError when the server exits or does not answer in time.
        """
        self.port = free_port()
        env = dict(os.environ, PERMITFLOW_DATABASE_URL=self.url)
        command = [*_command(), "serve", "--host", HOST, "--port", str(self.port),
                   "--workers", str(self.workers), "--threads", str(self.threads), "--no-worker"]
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"permitflow serve exited ({self._process.returncode}); "
                                   f"see {self.log}")
            if self._answers():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"permitflow serve did not answer within {timeout:.0f} s; "
                           f"see {self.log}")

    def _answers(self) -> bool:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
        try:
            conn.request("GET", "/api/v1/openapi.json")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self) -> None:
        """SIGTERM the gunicorn arbiter we started (it stops its workers); SIGKILL if it hangs."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only what we started
            process.wait(timeout=10)
