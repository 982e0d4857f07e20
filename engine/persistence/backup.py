"""Backups that restore (issue #17 item 7): `permitflow backup FILE` / `restore FILE`.

SQLite: SQLite's online backup API copies the database in one step, inside one read
transaction, so the copy is one consistent moment even while the API and workers write (in
WAL mode a reader blocks no writer); the copy is checked (`quick_check`) and renamed into
place only when whole. A restore writes through SQLite too (the backup API in the other
direction), holding an exclusive lock on the target, so a stale `-wal` file of the old
database can never be replayed over the restored one.

PostgreSQL: `pg_dump --format=custom` and `pg_restore` (see `pg_backup`).

Both refuse a restore into a database in use or (without `force`) one that holds tables,
and compare the backup's Alembic revision with this code's before touching the target.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from engine.domain.errors import EngineError
from engine.persistence.database import normalize_url
from engine.persistence.schema import SchemaState, head_revision, revision_state

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(EngineError):
    """A backup or restore that cannot be done as asked; the detail says what to do."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    backend: str  # "sqlite" or "postgresql"
    revision: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class RestoreReport:
    backend: str
    revision: str
    state: SchemaState  # CURRENT or BEHIND; UNKNOWN is refused
    replaced: bool  # the target held tables (restored over with force)


BACKUP_NAME = "permitflow-{stamp}.backup"
BACKUP_GLOB = "permitflow-*.backup"


def dated_path(directory: Path, now: datetime) -> Path:
    """`DIR/permitflow-YYYYMMDDTHHMMSSZ.backup`: names that sort as the times they were taken."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return directory / BACKUP_NAME.format(stamp=stamp)


def prune(directory: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest dated backups in `directory`; the removed ones."""
    dated = sorted(directory.glob(BACKUP_GLOB))
    removed = dated[: max(0, len(dated) - keep)]
    for path in removed:
        path.unlink()
    return removed


def backend_of(url: str) -> str:
    """`sqlite` or `postgresql`."""
    return make_url(normalize_url(url)).get_backend_name()


def backup(url: str, dest: Path, *, force: bool = False) -> BackupReport:
    """Write a consistent backup of the database at `url` to `dest`.

    Raises: BackupError (no database there, `dest` exists without `force`, a tool missing
    or failing), StorageUnavailableError.
    """
    if dest.exists() and not force:
        raise BackupError(f"{dest} exists; choose another file or pass --force to replace it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if backend_of(url) == "sqlite":
        return _sqlite_backup(_sqlite_path(url), dest)
    from engine.persistence import pg_backup

    return pg_backup.dump(url, dest)


def restore(url: str, source: Path, *, force: bool = False) -> RestoreReport:
    """Restore the backup `source` into the database at `url`.

    Refused before the target is touched when: `source` is not a permitflow backup of the
    target's kind, its schema revision is unknown to this code (a newer permitflow made
    it), the target is in use, or the target holds tables and `force` is not given.

    Raises: BackupError, StorageUnavailableError.
    """
    kind = backup_kind(source)
    backend = backend_of(url)
    if kind != backend:
        raise BackupError(
            f"{source} is a {kind} backup and the target database is {backend}: restore a "
            f"backup into the kind of database it was taken from"
        )
    if backend == "sqlite":
        return _sqlite_restore(source, _sqlite_path(url), force)
    from engine.persistence import pg_backup

    return pg_backup.restore(url, source, force)


def backup_kind(source: Path) -> str:
    """`sqlite` (a database file) or `postgresql` (a `pg_dump -Fc` archive).

    Raises: BackupError when it is neither (or missing).
    """
    try:
        with source.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read the backup {source}: {exc.strerror}") from None
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(
        f"{source} is neither a SQLite database nor a pg_dump custom-format archive "
        "(`permitflow backup` writes one of these)"
    )


def checked_revision(revision: str | None, source: Path) -> str:
    """The backup's revision, if this code can run it (now or after `db upgrade`).

    Raises: BackupError naming what to do.
    """
    if revision is None:
        raise BackupError(
            f"{source} has no schema revision (no alembic_version row): it is not a "
            "permitflow database"
        )
    if revision_state(revision) == SchemaState.UNKNOWN:
        raise BackupError(
            f"{source} is at schema revision {revision}, which this permitflow does not know "
            f"(its newest is {head_revision()}): a newer permitflow made it; restore it with "
            "that version or a newer one"
        )
    return revision


def _sqlite_path(url: str) -> Path:
    database = make_url(normalize_url(url)).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _sqlite_backup(path: Path, dest: Path) -> BackupReport:
    if not path.is_file():
        raise BackupError(f"no SQLite database at {path} (PERMITFLOW_DATABASE_URL)")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    # mode=rw: never create an empty database where the real one was expected.
    source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            # pages=-1: the whole database in one step, one read transaction, one moment.
            # (Step-wise copies restart whenever another connection writes, which under a
            # steady load may be forever.)
            source.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _check_integrity(copy, partial)
            revision = checked_revision(_revision(copy), path)
        finally:
            copy.close()
        _fsync(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    os.replace(partial, dest)
    return BackupReport(dest, "sqlite", revision, dest.stat().st_size)


def _sqlite_restore(source: Path, target: Path, force: bool) -> RestoreReport:
    backup_db = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        _check_integrity(backup_db, source)
        revision = checked_revision(_revision(backup_db), source)
        target.parent.mkdir(parents=True, exist_ok=True)
        db = _exclusive(target)
        try:
            replaced = _has_tables(db)
            if replaced and not force:
                raise BackupError(
                    f"the target database {target} holds tables; pass --force to replace it "
                    "with the backup (keep a backup of it first)"
                )
            backup_db.backup(db, pages=-1)
            db.execute("PRAGMA journal_mode=WAL")  # as the engine runs it
            _check_integrity(db, target)
        finally:
            db.close()
    finally:
        backup_db.close()
    return RestoreReport("sqlite", revision, revision_state(revision), replaced)


def _exclusive(target: Path) -> sqlite3.Connection:
    """A connection holding the target's exclusive lock until it closes.

    In WAL mode every open connection (an API process's pool, a worker) holds a shared
    lock on the database file, so the lock is refused while anything has it open.

    Raises: BackupError when the database is in use.
    """
    db = sqlite3.connect(target, timeout=0, isolation_level=None)
    try:
        db.execute("PRAGMA locking_mode=EXCLUSIVE")  # kept after the transaction ends
        db.execute("BEGIN EXCLUSIVE")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        db.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        db.close()
        raise BackupError(
            f"the target database {target} is in use ({exc}): stop the API processes and "
            "workers that use it, then restore"
        ) from None
    return db


def _has_tables(db: sqlite3.Connection) -> bool:
    found = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    return bool(found[0])


def _revision(db: sqlite3.Connection) -> str | None:
    try:
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no such table: never migrated
        return None
    return str(row[0]) if row else None


def _check_integrity(db: sqlite3.Connection, path: Path) -> None:
    try:
        result = db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from None
    if result != "ok":
        raise BackupError(f"{path} fails SQLite's integrity check: {result}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
