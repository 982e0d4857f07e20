"""PostgreSQL backups: `pg_dump --format=custom` and `pg_restore`, run for the operator.

`permitflow backup` runs `pg_dump` when it is on PATH (Debian: `postgresql-client-15`; the
client's major version must be at least the server's) and otherwise refuses, printing the
exact command to run where the tools are. The connection is the one PERMITFLOW_DATABASE_URL
names, host lists and `options` included; the password goes through `PGPASSWORD`, never the
command line. When the URL selects a schema (`options=-csearch_path=...`), only that schema
is dumped; otherwise the whole database.

`pg_dump` reads one snapshot (REPEATABLE READ) and takes only ACCESS SHARE locks, so it runs
while the API and workers write, and the archive is one consistent moment.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from engine.persistence.backup import BackupError, BackupReport, RestoreReport, checked_revision
from engine.persistence.database import make_engine, normalize_url
from engine.persistence.schema import revision_state

INSTALL_HINT = "Debian: apt install postgresql-client-15"


def dump(url: str, dest: Path) -> BackupReport:
    """`pg_dump -Fc` of the database (or the URL's schema) into `dest`.

    Raises: BackupError.
    """
    params, password = libpq_params(url)
    partial = dest.with_name(dest.name + ".partial")
    schema = search_path_schema(params)
    args = ["--format=custom", "--no-password", f"--file={partial}"]
    args += [f"--schema={schema}"] if schema else []
    args += [f"--dbname={conninfo(params)}"]
    try:
        _run("pg_dump", args, password, shown_args=[*args[:2], f"--file={dest}", *args[3:]])
        revision = checked_revision(dump_revision(partial), dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, dest)
    return BackupReport(dest, "postgresql", revision, dest.stat().st_size)


def restore(url: str, source: Path, force: bool) -> RestoreReport:
    """`pg_restore` of the archive `source` into the database at `url`, in one transaction.

    Raises: BackupError (unknown revision, another schema, target in use or not empty
    without `force`, pg_restore failing), StorageUnavailableError.
    """
    revision = checked_revision(dump_revision(source), source)
    params, password = libpq_params(url)
    schema = search_path_schema(params) or "public"
    held = archive_schema(source)
    if held != schema:
        raise BackupError(
            f"{source} holds the schema {held!r} and the target URL uses {schema!r}: set "
            f"options=-csearch_path={held} in the target URL (or restore into a database "
            "whose URL names that schema)"
        )
    others, tables = _target_state(url, schema)
    if others:
        raise BackupError(
            f"the target database is in use ({others} other session(s) connected): stop the "
            "API processes and workers that use it, then restore"
        )
    if tables and not force:
        raise BackupError(
            f"the target schema {schema!r} holds {tables} table(s); pass --force to replace "
            "them with the backup (keep a backup of them first)"
        )
    args = ["--no-owner", "--no-password", "--exit-on-error", "--single-transaction"]
    args += ["--clean", "--if-exists"] if tables else []
    args += [f"--dbname={conninfo(params)}", str(source)]
    _run("pg_restore", args, password)
    return RestoreReport("postgresql", revision, revision_state(revision), bool(tables))


def dump_revision(archive: Path) -> str | None:
    """The Alembic revision stored in a `pg_dump -Fc` archive (None: no alembic_version).

    Raises: BackupError when pg_restore cannot read it.
    """
    listing = _run("pg_restore", ["--data-only", "--table=alembic_version", "--file=-",
                                  str(archive)], None)
    found = re.search(r"FROM stdin;\n(.*?)\n\\\.", listing, re.S)
    if not found or not found.group(1).strip():
        return None
    return found.group(1).strip().split("\t")[0]


def archive_schema(archive: Path) -> str:
    """The schema whose alembic_version the archive holds."""
    listing = _run("pg_restore", ["--list", str(archive)], None)
    found = re.search(r"\bTABLE (\S+) alembic_version\b", listing)
    if not found:
        raise BackupError(f"{archive} holds no alembic_version table: not a permitflow backup")
    return found.group(1)


def libpq_params(url: str) -> tuple[dict[str, str], str | None]:
    """The libpq connection parameters of a permitflow URL, and its password apart."""
    parsed = make_url(normalize_url(url))
    params: dict[str, str] = {}
    query = {k: (v if isinstance(v, tuple) else (v,)) for k, v in parsed.query.items()}
    hosts = list(query.pop("host", ()))
    if hosts:  # host=h1:5432&host=h2:5433 (what normalize_url makes of a host list)
        names = [h.rpartition(":")[0] if ":" in h else h for h in hosts]
        ports = [h.rpartition(":")[2] if ":" in h else "5432" for h in hosts]
        params["host"], params["port"] = ",".join(names), ",".join(ports)
    elif parsed.host:
        params["host"] = parsed.host
        if parsed.port:
            params["port"] = str(parsed.port)
    if parsed.username:
        params["user"] = parsed.username
    if parsed.database:
        params["dbname"] = parsed.database
    for key, values in query.items():
        params[key] = values[-1]
    return params, parsed.password if isinstance(parsed.password, str) else None


def conninfo(params: dict[str, str]) -> str:
    """A libpq `key=value` connection string (values quoted where libpq needs it)."""
    def quoted(value: str) -> str:
        if value and not re.search(r"[\s'\\]", value):
            return value
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    return " ".join(f"{key}={quoted(value)}" for key, value in params.items())


def search_path_schema(params: dict[str, str]) -> str | None:
    """The first schema of a `-c search_path=...` in the URL's `options`, if any."""
    found = re.search(r"-c\s*search_path=([^\s]+)", params.get("options", ""))
    if not found:
        return None
    first = found.group(1).split(",")[0].strip().strip('"')
    return first or None


def _target_state(url: str, schema: str) -> tuple[int, int]:
    """(other client sessions on the target database, tables in the target schema)."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            others = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )).scalar_one()
            tables = conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = :s"), {"s": schema}
            ).scalar_one()
    finally:
        engine.dispose()
    return int(others), int(tables)


def _run(tool: str, args: list[str], password: str | None,
         shown_args: list[str] | None = None) -> str:
    """Run a PostgreSQL client tool; its standard output.

    Raises: BackupError when the tool is not on PATH (with the command to run elsewhere)
    or fails (with its message).
    """
    shown = shlex.join([tool, *(shown_args or args)])
    if password:
        shown = f"PGPASSWORD=... {shown}"
    found = shutil.which(tool)
    if found is None:
        raise BackupError(
            f"{tool} is not on PATH ({INSTALL_HINT}, the same major version as the server or "
            f"newer); run where it is:\n    {shown}"
        )
    env = dict(os.environ, **({"PGPASSWORD": password} if password else {}))
    # The tool is found on PATH; the arguments are ours (no shell).
    done = subprocess.run(  # noqa: S603
        [found, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()
        raise BackupError(
            f"{tool} failed (exit {done.returncode}): "
            + ("; ".join(message[-3:]) if message else "no message")
            + f"\n    command: {shown}"
        )
    return done.stdout
