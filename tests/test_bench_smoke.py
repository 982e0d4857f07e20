"""`python -m bench --smoke` runs every section at tiny sizes on SQLite, so the benchmark
cannot rot while the engine changes under it. Its figures are not checked, only that
every section ran and reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.factories import ROOT

SECTIONS = (
    "per step, `pbg`",
    "per step, `simple-form`",
    "lifecycle throughput over HTTP, `simple-form`",
    "lifecycle throughput over HTTP, `pbg`",
    "officer inbox",
    "worker pass",
    "parallel multi-instance step",
    "state size, `pbg` after 8 steps",
)


def _bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )


def test_smoke_run_reports_every_section(tmp_path: Path) -> None:
    output = tmp_path / "results.md"
    done = _bench("--smoke", "--output", str(output))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    text = output.read_text("utf-8")
    assert "## Machine" in text and "SQLite" in text
    for section in SECTIONS:
        assert f"| {section}" in text, f"no row for {section!r}"
    assert "PostgreSQL**: not measured" in text  # --smoke never touches PostgreSQL


def test_unknown_section_is_refused() -> None:
    done = _bench("--only", "nonsense", timeout=30)
    assert done.returncode == 2 and "unknown section" in done.stderr
