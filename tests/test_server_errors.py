"""Issue #11 cause 10: what gunicorn refuses before the app runs is problem+json too.

Through a real `permitflow serve` (as `make serve` starts it): an over-long request line got
gunicorn's HTML 414 page, and a malformed header its HTML 400.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_readme import BIN, ROOT, free_port, wait_for


@pytest.fixture
def port(tmp_path: Path) -> Iterator[int]:
    env = {**os.environ, "PERMITFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    subprocess.run([str(BIN / "permitflow"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    chosen = free_port()
    process = subprocess.Popen(
        [str(BIN / "permitflow"), "serve", "--port", str(chosen), "--no-worker"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(chosen)
        yield chosen
    finally:
        process.terminate()
        process.wait(timeout=10)


def raw_request(port: int, data: bytes) -> tuple[int, str, dict[str, object]]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(data)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers["Content-Type"], json.loads(body)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /api/v1/catalog?q=" + b"x" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /api/v1/catalog HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400),
        (b"GET /api/v1/catalog HTTP/9.9\r\nHost: x\r\n\r\n", 400),
        (b"GET /api/v1/catalog HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", 431),
    ],
    ids=["long-request-line", "bad-header-name", "bad-version", "too-many-headers"],
)
def test_requests_gunicorn_refuses_get_problem_json(port: int, request_bytes: bytes, status: int) -> None:
    answer, content_type, problem = raw_request(port, request_bytes)
    assert (answer, content_type) == (status, "application/problem+json")
    assert problem["status"] == status and problem["type"] and problem["title"]
