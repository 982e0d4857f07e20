"""What the numbers were measured on: CPU, cores, Python, databases, date, load."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or the platform's guess)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    """1/5/15-minute load averages: this machine is shared, so they say how noisy it was."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def describe(postgres_version: str | None) -> list[tuple[str, str]]:
    """(label, value) pairs describing the machine and the software measured."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", cpu_model()),
        ("cores", f"{os.cpu_count()} logical, {usable} usable by this process"),
        ("OS", platform.platform()),
        ("Python", sys.version.split()[0]),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", postgres_version or "not measured"),
        ("SpiffWorkflow", _version("spiffworkflow")),
        ("SQLAlchemy / psycopg / Flask / gunicorn", " / ".join(
            _version(name) for name in ("sqlalchemy", "psycopg", "flask", "gunicorn"))),
        ("load average at start", load_average()),
    ]


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"
