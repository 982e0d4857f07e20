"""The deployment recipe in deploy/ names only commands, options and settings that exist."""

from __future__ import annotations

import shlex

from api.commands import cli
from api.config import Defaults
from tests.factories import ROOT

DEPLOY = ROOT / "deploy"


def test_every_unit_command_parses_as_a_permitflow_command() -> None:
    commands = []
    for unit in DEPLOY.glob("*.service"):
        for line in unit.read_text().splitlines():
            if line.startswith(("ExecStart=", "ExecStartPre=", "ExecStartPost=")):
                commands.append(shlex.split(line.split("=", 1)[1]))
    assert len(commands) == 5  # api: upgrade, serve; worker; backup: backup, audit heads
    for argv in commands:
        assert argv[0].endswith("/permitflow")
        group, *rest = argv[1:]
        command = cli.main.commands[group]
        context = command.make_context(group, list(rest))  # raises on an unknown option
        while rest and hasattr(command, "commands") and rest[0] in command.commands:
            command = command.commands[rest[0]]
            context = command.make_context(rest[0], rest[1:])
            rest = rest[1:]
        assert context is not None


def test_the_environment_file_sets_known_settings_only() -> None:
    for line in (DEPLOY / "permitflow.env").read_text().splitlines():
        line = line.lstrip("# ").strip()
        if line.startswith("PERMITFLOW_") and "=" in line:
            name = line.split("=", 1)[0].removeprefix("PERMITFLOW_")
            assert hasattr(Defaults, name), name
