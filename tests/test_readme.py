"""The README walk-through, run verbatim against a real `permitflow serve` (as `make serve` starts it)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def walkthrough() -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    return "\n".join(re.findall(r"<!-- walkthrough -->\n```bash\n(.*?)```", text, flags=re.S))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int) -> None:
    """Until the server on `port` answers (at most 30 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1)
            return
        except OSError:
            time.sleep(0.2)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    env = {**os.environ, "PERMITFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'readme.db'}"}
    for command in (["db", "upgrade"], ["models", "import", "process_models"]):
        subprocess.run(
            [str(BIN / "permitflow"), *command], cwd=ROOT, env=env, check=True, capture_output=True
        )
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "permitflow"), "serve", "--port", str(port), "--no-worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        yield port, env
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_readme_walkthrough_works_verbatim(server: tuple[int, dict[str, str]]) -> None:
    port, env = server
    script = "set -euo pipefail\n" + walkthrough().replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    env = {**env, "PATH": f"{BIN}:{env['PATH']}"}
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert '"key":"sk-domisili"' in out.replace(" ", "") and '"version":1' in out.replace(" ", "")
    assert "is not a valid NIK" in out
    assert "\ncompleted\n" in out
    assert "audit chains intact" in out
    code = re.search(r"tracking code (PF-[0-9A-Z-]+)", out)
    assert code is not None, out[-2000:]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/track/{code[1]}", timeout=5) as answer:
        public = answer.read().decode()
    assert code[1] in public and "Siti" not in public  # the applicant's name stays private
