"""The project's own promises: layering, import locations, migrations in step with the models."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from engine.persistence.database import make_engine
from engine.persistence.schema import downgrade, upgrade
from engine.persistence.tables import Base

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("package", ["engine", "api", "forms"])
def test_generic_top_level_packages_import_from_this_repository(package: str) -> None:
    module = __import__(package)
    assert Path(module.__file__).resolve().is_relative_to(ROOT)


def test_import_contracts_hold() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_match_the_models_and_round_trip(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata
        )
    assert diff == []
    downgrade(db_url, "base")
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    upgrade(db_url)
    with engine.connect() as conn:
        assert set(Base.metadata.tables) <= set(inspect(conn).get_table_names())
    engine.dispose()


# One deliberate violation per import contract (pyproject.toml): each must break its own
# contract, so a contract that silently stopped checking anything is caught.
VIOLATIONS = {
    "Only api/ knows about the web": ("engine/services/catalog.py", "import flask"),
    "forms is a leaf": ("forms/schemas.py", "import engine.domain.sla"),
    "The domain is plain Python": ("engine/domain/views.py", "import lxml"),
    "Only engine.workflow imports SpiffWorkflow": ("engine/services/catalog.py", "import SpiffWorkflow"),
    "Layers: api > services > unit of work > modeling | persistence > workflow > sandbox > domain": (
        "engine/workflow/timers.py",
        "import engine.persistence.tables",
    ),
    "The sandbox is used through its public module only": (
        "engine/workflow/timers.py",
        "import engine.sandbox._policy",
    ),
    "SQLAlchemy only in engine.persistence and the unit of work": (
        "engine/services/catalog.py",
        "import sqlalchemy",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("contract", ["(none)", *sorted(VIOLATIONS)])
def test_each_import_contract_breaks_on_a_deliberate_violation(
    contract: str, tmp_path: Path
) -> None:
    import shutil
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = [c["name"] for c in config["tool"]["importlinter"]["contracts"]]
    assert set(VIOLATIONS) == set(names), "every contract needs a deliberate violation here"
    for package in ("engine", "api", "forms"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    if contract != "(none)":
        path, line = VIOLATIONS[contract]
        target = tmp_path / path
        target.write_text(target.read_text() + f"\n{line}\n")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    out = " ".join(result.stdout.split())  # the report wraps long contract names
    if contract == "(none)":  # the copy itself keeps every contract
        assert result.returncode == 0, out[-2000:]
        return
    assert result.returncode != 0
    assert f"{contract} BROKEN" in out, out[-2000:]


def test_statuses_are_compared_and_set_through_their_enums() -> None:
    """`engine/domain/statuses.py` names every status once; no bare status text elsewhere."""

    bare = re.compile(
        r"""\.(status|state)\s*(==|!=|=)\s*["']|\b(status|state)=["']|"""
        r"""\.(status|state)\s+(not\s+)?in\s+\(["']"""
    )
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for package in ("engine", "api")
        for path in (ROOT / package).rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if bare.search(line)
    ]
    assert not found, "\n".join(found)


def _make_test_lint_commands() -> list[str]:
    """The lint commands of the Makefile's `test` target, as run from the repository."""
    recipe = (ROOT / "Makefile").read_text("utf-8").split("\ntest:", 1)[1]
    lines = []
    for line in recipe.splitlines()[1:]:
        if not line.startswith("\t"):
            break
        lines.append(line.strip())
    commands = [c.replace("$(BIN)/", ".venv/bin/") for c in lines if c.startswith("$(BIN)/")]
    return [c for c in commands if not c.startswith(".venv/bin/pytest")]


def test_pre_commit_hooks_run_the_same_linters_as_make_test() -> None:
    import yaml

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text("utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    make = _make_test_lint_commands()
    assert {c.split()[0] for c in make} >= {
        ".venv/bin/lint-imports", ".venv/bin/ruff", ".venv/bin/mypy"
    }, make  # the Makefile was read
    assert [" ".join([h["entry"], *h.get("args", [])]) for h in hooks] == make
    for hook in hooks:  # run as the Makefile runs them: the whole tree, the project's venv
        assert hook["language"] == "system" and hook["pass_filenames"] is False, hook["id"]


def test_relative_links_in_the_docs_point_at_files_that_exist() -> None:

    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()
    docs = [ROOT / f for f in listed if not f.startswith("api/web/static/vendor/")]
    assert ROOT / "docs" / "architecture.md" in docs
    broken = [
        f"{doc.relative_to(ROOT)}: {target}"
        for doc in docs
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text("utf-8"))
        if not re.match(r"[a-z]+:|#", target)
        and not (doc.parent / target.split("#")[0]).exists()
    ]
    assert broken == []


def test_paths_the_developer_docs_name_exist() -> None:
    """docs/architecture.md, the ADRs and CONTRIBUTING name files in backticks: a rename must
    update them (templates such as `<region>` or `00NN` are skipped)."""

    docs = [ROOT / "docs" / "architecture.md", ROOT / "CONTRIBUTING.md"]
    docs += sorted((ROOT / "docs" / "adr").glob("*.md"))
    top = "engine|api|forms|tests|migrations|process_models|docs|bench|tools"
    missing = [
        f"{doc.relative_to(ROOT)}: {name}"
        for doc in docs
        for name in re.findall(rf"`((?:{top})/[^`\s<>*]*)`", doc.read_text("utf-8"))
        if "NN" not in name and not (ROOT / name.split("::")[0]).exists()
    ]
    assert missing == []


def test_the_lock_file_pins_every_declared_dependency() -> None:
    """`requirements.lock` (used as pip constraints by `make`) pins each dependency and
    dev dependency of pyproject.toml: renew it with `make lock` when adding one."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["dev"]]

    def canonical(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    pinned = {
        canonical(line.split("==")[0])
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line
    }
    names = {canonical(re.split(r"[\[<>=!~ ;]", spec, maxsplit=1)[0]) for spec in declared}
    assert names - pinned == set()
