"""Start-up refuses a bad configuration with one clear message (issue #17 item 8): unknown
PERMITFLOW_* names with the closest known one, values that cannot be read, all at once, exit
status 2 and no traceback, for `serve`, `worker` and the other commands; `create_app` too."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from api import create_app
from api.config import (
    TOOL_VARIABLES,
    ConfigurationError,
    Defaults,
    configuration_problems,
    known_settings,
    parse_setting,
)
from tests.factories import ROOT

BAD = {
    "PERMITFLOW_DB_STATMENT_TIMEOUT": "5",  # a typo
    "PERMITFLOW_WORKER_INTERVAL": "soon",
    "PERMITFLOW_SESSION_COOKIE_SECURE": "maybe",
    "PERMITFLOW_LOG_LEVEL": "LOUD",
    "PERMITFLOW_DATABASE_URL": "postgresql://permitflow@db1:x,db2:5432/permitflow",
}
EXPECTED = [
    "PERMITFLOW_DATABASE_URL='postgresql://permitflow@db1:x,db2:5432/permitflow': cannot read "
    "host 'db1:x' of the host list 'db1:x,db2:5432': write host:port, e.g. "
    "postgresql://user@db1:5432,db2:5432/permitflow",
    "PERMITFLOW_DB_STATMENT_TIMEOUT: not a setting; did you mean "
    "PERMITFLOW_DB_STATEMENT_TIMEOUT?",
    "PERMITFLOW_LOG_LEVEL='LOUD': not one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
    "PERMITFLOW_SESSION_COOKIE_SECURE='maybe': not a boolean: write true or false",
    "PERMITFLOW_WORKER_INTERVAL='soon': not a number",
]


def _clean_environ() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items()
        if not k.startswith("PERMITFLOW_") or k.removeprefix("PERMITFLOW_") in TOOL_VARIABLES
    }


def test_every_problem_is_listed_at_once() -> None:
    assert configuration_problems({**_clean_environ(), **BAD}) == EXPECTED
    assert configuration_problems(_clean_environ()) == []


def test_values_are_read_like_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_setting("PRODUCTION", "FALSE") is False and parse_setting("PRODUCTION", "on")
    assert parse_setting("SPEC_CACHE_SIZE", " 64 ") == 64
    for name, raw, message in [
        ("SPEC_CACHE_SIZE", "1.5", "not a whole number"),
        ("DB_LOCK_TIMEOUT", "-1", "0 or more"),
        ("DB_LOCK_TIMEOUT", "nan", "finite"),
        ("LOG_FORMAT", "xml", "not one of json, text"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_setting(name, raw)
    # A time-zone setting (none today) is checked against the tz database.
    monkeypatch.setattr(Defaults, "OFFICE_TIMEZONE", "Asia/Jakarta", raising=False)
    assert parse_setting("OFFICE_TIMEZONE", "Asia/Makassar") == "Asia/Makassar"
    with pytest.raises(ValueError, match="not a known time zone"):
        parse_setting("OFFICE_TIMEZONE", "Asia/Bandung")


def test_production_without_a_secret_is_one_of_the_problems() -> None:
    problems = configuration_problems({"PERMITFLOW_PRODUCTION": "true", "PERMITFLOW_LOG_FORMAT": "x"})
    assert problems == [
        "PERMITFLOW_LOG_FORMAT='x': not one of json, text",
        "PERMITFLOW_SECRET_KEY: required when PERMITFLOW_PRODUCTION is true",
    ]


@pytest.mark.parametrize(
    "command",
    [["serve", "--port", "1"], ["worker"], ["db", "upgrade"],
     ["audit", "verify"]],
)
def test_commands_refuse_a_bad_environment_with_one_message(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api.commands.cli", *command],
        cwd=ROOT, env={**_clean_environ(), **BAD}, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[0] == "error: the configuration cannot be used (5 problems):"
    assert lines[1:6] == [f"  - {p}" for p in EXPECTED]
    assert lines[6] == "Every setting is listed in the README's Configuration table."


def test_create_app_refuses_it_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PERMITFLOW_SPEC_CACHE_SIZ", "10")
    with pytest.raises(ConfigurationError) as refused:
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "TESTING": True})
    assert refused.value.problems == [
        "PERMITFLOW_SPEC_CACHE_SIZ: not a setting; did you mean PERMITFLOW_SPEC_CACHE_SIZE?"
    ]


def test_every_permitflow_variable_the_repository_names_is_known() -> None:
    """A setting read anywhere must be in `Defaults` (or be a tool's variable), or start-up
    would refuse the environment that sets it."""
    named: set[str] = set()
    files = [*ROOT.glob("*.md"), ROOT / "Makefile", ROOT / ".ci" / "run", *ROOT.glob("deploy/*")]
    for folder in ("api", "engine", "forms", "tests", "bench", "tools", "docs"):
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".md", ".sh")]
    for path in files:
        if path.is_file():
            named |= set(re.findall(r"PERMITFLOW_([A-Z][A-Z0-9_]*[A-Z0-9])", path.read_text("utf-8")))
    allowed = known_settings() | TOOL_VARIABLES
    assert named - allowed - {"DB_STATMENT_TIMEOUT", "SPEC_CACHE_SIZ"} == set()
