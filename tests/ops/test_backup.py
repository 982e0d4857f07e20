"""Backups that restore (issue #17 item 7): `permitflow backup` / `restore`, both databases.

The central test takes a backup while threads start applications and complete steps,
restores it into a fresh database (a new SQLite file; a new PostgreSQL database this test
creates and drops), and checks that `audit verify` passes and every application continues.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from api.commands import cli
from api.wiring import build_context
from engine.context import EngineContext
from engine.domain.actors import Actor
from engine.persistence.database import make_engine
from engine.persistence.pg_backup import conninfo, libpq_params, search_path_schema
from engine.persistence.schema import head_revision, upgrade
from engine.services import applications, tasks
from engine.services.audit import verify_audit
from tests.factories import make_region, make_user, tiny_bpmn, upload
from tests.ops import pg_cluster
from tests.ops.scenario import APPLICANT

WAIT = 120.0  # seconds: the bound of every wait for progress below


@pytest.fixture
def cli_run(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """`cli_run(url, "backup", file)`: the CLI against `url`; the contexts it built are
    disposed when it returns, as a real CLI process's connections close when it exits."""
    built: list[EngineContext] = []
    real = cli.engine_context

    def tracked() -> EngineContext:
        built.append(real())
        return built[-1]

    monkeypatch.setattr(cli, "engine_context", tracked)

    def invoke(url: str, *args: str) -> Result:
        monkeypatch.setenv("PERMITFLOW_DATABASE_URL", url)
        try:
            return CliRunner().invoke(cli.main, list(args))
        finally:
            while built:
                _dispose(built.pop())

    yield invoke


@pytest.fixture
def fresh_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of db_url's kind to restore into: a new SQLite file, or a new
    PostgreSQL database (created here, dropped after) whose URL selects db_url's schema."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'permitflow.db'}"
        return
    name = f"pf_restore_{uuid.uuid4().hex[:10]}"
    admin = make_engine(db_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(db_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _dispose(ctx: EngineContext) -> None:
    ctx.session_factory.kw["bind"].dispose()


def _application_ids(url: str) -> set[uuid.UUID]:
    engine = make_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id FROM applications")).scalars().all()
    engine.dispose()
    return {r if isinstance(r, uuid.UUID) else uuid.UUID(str(r)) for r in rows}


class Load:
    """Threads that start applications and complete their steps until stopped."""

    def __init__(self, ctx: EngineContext, officer: Actor, threads: int = 3) -> None:
        self.ctx, self.officer = ctx, officer
        self.actions = 0
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(WAIT)
        assert not any(t.is_alive() for t in self._threads), "a load thread did not stop"

    def wait_for(self, actions: int) -> None:
        deadline = time.monotonic() + WAIT
        while self.actions < actions and not self.errors:
            assert time.monotonic() < deadline, f"the load made {self.actions} of {actions}"
            time.sleep(0.01)
        assert not self.errors, self.errors

    def _done(self) -> None:
        with self._lock:
            self.actions += 1

    def _run(self) -> None:
        open_apps: list[uuid.UUID] = []  # this thread's: no two threads touch one application
        try:
            while not self._stop.is_set():
                app = applications.start_application(
                    self.ctx, self.officer, "3273", "tiny", dict(APPLICANT), {}
                )
                open_apps.append(app.id)
                self._done()
                oldest = applications.get_application(self.ctx, self.officer, open_apps[0])
                ready = [t for t in oldest.tasks if t.state == "ready"]
                after = tasks.complete_task(self.ctx, self.officer, ready[0].id, {})
                if after.status != "running":
                    open_apps.pop(0)
                self._done()
        except BaseException as exc:  # reported by wait_for and the test
            self.errors.append(exc)


@pytest.mark.slow
def test_a_backup_taken_mid_load_restores_and_every_application_continues(
    db_url: str, fresh_url: str, tmp_path: Path, cli_run: Callable[..., Result],
    record_property: Callable[[str, object], None],
) -> None:
    ctx = build_context(db_url)
    make_region(ctx, "3273")
    upload(ctx, "3273", tiny_bpmn(steps=3))
    officer, _ = make_user(ctx, "front-office", region="3273")
    dump = tmp_path / "permitflow.backup"
    try:
        with Load(ctx, officer) as load:
            load.wait_for(30)
            before = _application_ids(db_url)
            actions_before, began = load.actions, time.monotonic()
            backed_up = cli_run(db_url, "backup", str(dump))
            during, took = load.actions - actions_before, time.monotonic() - began
            load.wait_for(load.actions + 30)  # and the load went on after it
        assert not load.errors, load.errors
        assert backed_up.exit_code == 0, backed_up.output
        assert f"schema revision {head_revision()}" in backed_up.output
        everything = _application_ids(db_url)
    finally:
        _dispose(ctx)

    record_property("actions_while_the_backup_ran", during)
    record_property("backup_seconds", round(took, 2))
    print(f"backup under load: {during} actions while it ran, {took:.2f} s, "
          f"{len(before)} applications when it began")
    restored = cli_run(fresh_url, "restore", str(dump))
    assert restored.exit_code == 0, restored.output
    assert "audit chains intact" in restored.output

    # One moment of the source: at least what existed when the backup began, not what was
    # started after it ended, nothing that never existed.
    kept = _application_ids(fresh_url)
    assert before <= kept < everything

    again = build_context(fresh_url)
    try:
        continued = 0
        for app_id in kept:
            app = applications.get_application(again, officer, app_id)
            if app.status != "running":
                assert app.status == "completed"
                continue
            ready = [t for t in app.tasks if t.state == "ready"]
            assert len(ready) == 1, (app_id, app.tasks)
            after = tasks.complete_task(again, officer, ready[0].id, {"restored": True})
            assert ready[0].id not in {t.id for t in after.tasks if t.state == "ready"}
            assert tasks.get_task(again, officer, ready[0].id).state == "completed"
            continued += 1
        assert continued > 0
        assert verify_audit(again) == []
    finally:
        _dispose(again)


@pytest.mark.slow
def test_restore_refuses_a_target_in_use_or_holding_tables_without_force(
    db_url: str, fresh_url: str, tmp_path: Path, cli_run: Callable[..., Result]
) -> None:
    ctx = build_context(db_url)
    make_region(ctx, "3273")
    _dispose(ctx)
    dump = tmp_path / "backup"
    assert cli_run(db_url, "backup", str(dump)).exit_code == 0
    again = cli_run(db_url, "backup", str(dump))
    assert again.exit_code == 1 and "--force" in again.output

    assert cli_run(fresh_url, "restore", str(dump)).exit_code == 0
    second = cli_run(fresh_url, "restore", str(dump))
    assert second.exit_code == 1 and "holds" in second.output and "--force" in second.output

    user = build_context(fresh_url)  # an API process, say
    try:
        with user.reader() as uow:
            assert [r.code for r in uow.repos.regions.list()] == ["3273"]
        in_use = cli_run(fresh_url, "restore", "--force", str(dump))
        assert in_use.exit_code == 1 and "in use" in in_use.output, in_use.output
    finally:
        _dispose(user)
    forced = cli_run(fresh_url, "restore", "--force", str(dump))
    assert forced.exit_code == 0 and "replaced" in forced.output, forced.output
    assert "audit chains intact" in forced.output


def test_restore_refuses_a_newer_schema_and_tells_what_to_do_with_an_older_one(
    sqlite_template: Path, tmp_path: Path, cli_run: Callable[..., Result]
) -> None:
    old = tmp_path / "old.db"
    upgrade(f"sqlite:///{old}", "0009_production")
    older = cli_run(f"sqlite:///{old}", "backup", str(tmp_path / "old.backup"))
    assert older.exit_code == 0 and "0009_production" in older.output
    restored = cli_run(f"sqlite:///{tmp_path / 'a.db'}", "restore", str(tmp_path / "old.backup"))
    assert restored.exit_code == 0, restored.output
    assert "run `permitflow db upgrade`" in restored.output

    future = tmp_path / "future.db"
    future.write_bytes(sqlite_template.read_bytes())
    with sqlite3.connect(future) as db:
        db.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    db.close()
    refused = cli_run(f"sqlite:///{tmp_path / 'b.db'}", "restore", str(future))
    assert refused.exit_code == 1
    assert "0099_from_the_future" in refused.output and "newer permitflow" in refused.output
    assert not (tmp_path / "b.db").exists()  # refused before the target was touched


def test_restore_refuses_what_is_not_a_backup_of_its_kind(
    tmp_path: Path, cli_run: Callable[..., Result]
) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    answer = cli_run(f"sqlite:///{tmp_path / 'x.db'}", "restore", str(junk))
    assert answer.exit_code == 1 and "neither a SQLite database nor a pg_dump" in answer.output
    pg_dump_like = tmp_path / "x.dump"
    pg_dump_like.write_bytes(b"PGDMP\x01\x0e\x00")
    answer = cli_run(f"sqlite:///{tmp_path / 'x.db'}", "restore", str(pg_dump_like))
    assert answer.exit_code == 1 and "postgresql backup" in answer.output
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("CREATE TABLE t (x)").connection.close()
    answer = cli_run(f"sqlite:///{tmp_path / 'x.db'}", "restore", str(empty))
    assert answer.exit_code == 1 and "not a permitflow database" in answer.output
    missing = cli_run(f"sqlite:///{tmp_path / 'none.db'}", "backup", str(tmp_path / "b"))
    assert missing.exit_code == 1 and "no SQLite database" in missing.output
    assert not (tmp_path / "none.db").exists()


def test_without_pg_dump_on_path_the_exact_command_is_printed(
    tmp_path: Path, cli_run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump there
    url = "postgresql://pf:s3cret@db1:5432,db2:5433/permitflow?options=-csearch_path%3Dpf"
    answer = cli_run(url, "backup", str(tmp_path / "pf.dump"))
    assert answer.exit_code == 1
    assert "pg_dump is not on PATH" in answer.output
    assert (
        f"PGPASSWORD=... pg_dump --format=custom --no-password --file={tmp_path / 'pf.dump'} "
        "--schema=pf"
    ) in answer.output
    assert "'--dbname=host=db1,db2 port=5432,5433 user=pf dbname=permitflow" in answer.output
    assert "s3cret" not in answer.output


def test_libpq_parameters_of_each_url_form() -> None:
    params, password = libpq_params("postgresql://pf:pw@db1:5432,db2/permitflow?sslmode=require")
    assert password == "pw"
    assert params == {
        "host": "db1,db2", "port": "5432,5432", "user": "pf", "dbname": "permitflow",
        "sslmode": "require", "target_session_attrs": "read-write",
    }
    params, password = libpq_params("postgresql+psycopg://pf@db:6432/x?options=-c%20search_path%3Dmine,public")
    assert (params["host"], params["port"], password) == ("db", "6432", None)
    assert search_path_schema(params) == "mine"
    assert conninfo({"options": "-c a='b'"}) == "options='-c a=\\'b\\''"


def test_a_directory_gets_dated_backups_and_keep_prunes_the_oldest(
    sqlite_template: Path, tmp_path: Path, cli_run: Callable[..., Result]
) -> None:
    (tmp_path / "live.db").write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{tmp_path / 'live.db'}"
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    old = [shelf / f"permitflow-2026010{n}T013000Z.backup" for n in (1, 2, 3)]
    for path in old:
        path.write_bytes(b"an older backup")
    (shelf / "notes.txt").write_text("not a backup: never removed")
    made = cli_run(url, "backup", str(shelf), "--keep", "2")
    assert made.exit_code == 0, made.output
    dated = sorted(shelf.glob("permitflow-*.backup"))
    assert dated[0] == old[2] and len(dated) == 2
    assert dated[1].name.startswith("permitflow-20") and dated[1].stat().st_size > 10_000
    assert (shelf / "notes.txt").exists()
    assert f"removed the older backup {old[0]}" in made.output
    refused = cli_run(url, "backup", str(tmp_path / "one.backup"), "--keep", "2")
    assert refused.exit_code == 2 and "--keep needs TARGET to be a directory" in refused.output


@pytest.fixture
def own_server() -> Iterator[pg_cluster.Pair]:
    """A private PostgreSQL 15 server (initdb, loopback), for whole-database backups: the
    shared test server's databases are not ours to dump whole."""
    reason = pg_cluster.unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = pg_cluster.Pair()
    try:
        server.start(standby=False)
        yield server
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.postgres
def test_a_whole_database_backup_restores_into_another_database(
    own_server: pg_cluster.Pair, tmp_path: Path, cli_run: Callable[..., Result]
) -> None:
    # No search_path in the URL: pg_dump takes the whole database (the public schema).
    source = f"postgresql://postgres@127.0.0.1:{own_server.primary_port}/permitflow"
    target = f"postgresql://postgres@127.0.0.1:{own_server.primary_port}/restored"
    upgrade(source)
    ctx = build_context(source)
    try:
        make_region(ctx, "3273")
        upload(ctx, "3273", tiny_bpmn(steps=2))
        officer, _ = make_user(ctx, "front-office", region="3273")
        started = applications.start_application(ctx, officer, "3273", "tiny", dict(APPLICANT), {})
    finally:
        _dispose(ctx)
    dump = tmp_path / "whole.dump"
    made = cli_run(source, "backup", str(dump))
    assert made.exit_code == 0, made.output
    own_server.execute(own_server.primary_port, "CREATE DATABASE restored", database="postgres")
    restored = cli_run(target, "restore", str(dump))
    assert restored.exit_code == 0 and "audit chains intact" in restored.output, restored.output
    again = cli_run(target, "restore", str(dump))
    assert again.exit_code == 1 and "--force" in again.output
    forced = cli_run(target, "restore", "--force", str(dump))
    assert forced.exit_code == 0 and "replaced" in forced.output, forced.output

    on_copy = build_context(target)
    try:
        ready = [t for t in started.tasks if t.state == "ready"]
        after = tasks.complete_task(on_copy, officer, ready[0].id, {})
        assert after.status == "running" and verify_audit(on_copy) == []
    finally:
        _dispose(on_copy)


def test_restore_refuses_a_sqlite_database_another_process_has_open(
    sqlite_template: Path, tmp_path: Path, cli_run: Callable[..., Result]
) -> None:
    # As a running API or worker process holds it: an idle connection, no transaction.
    live = tmp_path / "live.db"
    live.write_bytes(sqlite_template.read_bytes())
    backup_file = tmp_path / "b.backup"
    assert cli_run(f"sqlite:///{live}", "backup", str(backup_file)).exit_code == 0
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys\n"
         f"db = sqlite3.connect({str(live)!r})\n"
         "db.execute('PRAGMA journal_mode=WAL'); db.execute('SELECT 1 FROM regions').fetchall()\n"
         "print('open', flush=True); sys.stdin.read()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        refused = cli_run(f"sqlite:///{live}", "restore", "--force", str(backup_file))
        assert refused.exit_code == 1 and "in use" in refused.output, refused.output
    finally:
        holder.communicate("", timeout=30)  # closes its stdin: it exits
    done = cli_run(f"sqlite:///{live}", "restore", "--force", str(backup_file))
    assert done.exit_code == 0 and "audit chains intact" in done.output, done.output
