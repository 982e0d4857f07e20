"""The `permitflow` command (DESIGN §7), run in-process with click's CliRunner.

Every command reads PERMITFLOW_DATABASE_URL; here it points at the `db_url` fixture, so
each test runs on SQLite and on PostgreSQL. The contexts the commands build are disposed
after each test (a real CLI process just exits).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import inspect, select, text

from api import create_app
from api.commands import cli
from api.wiring import build_context
from engine.context import EngineContext
from engine.persistence.database import make_engine
from engine.persistence.tables import EventRecord, TokenRecord
from engine.services import applications
from tests.factories import ROOT, TIMER_BPMN, Clock, make_user, tiny_bpmn, upload

WIB = timezone(timedelta(hours=7))
SHIPPED = ROOT / "process_models"


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """`run("regions", "add", ...)` -> click Result, against `db_url`."""
    monkeypatch.setenv("PERMITFLOW_DATABASE_URL", db_url)
    built: list[EngineContext] = []
    real = cli.engine_context

    def tracked() -> EngineContext:
        built.append(real())
        return built[-1]

    monkeypatch.setattr(cli, "engine_context", tracked)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli.main, list(args))

    yield invoke
    for context in built:
        context.session_factory.kw["bind"].dispose()


@pytest.fixture
def ctx(db_url: str) -> Iterator[EngineContext]:
    context = build_context(db_url)
    yield context
    context.session_factory.kw["bind"].dispose()


def ok(result: Result) -> list[str]:
    assert result.exit_code == 0, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output.splitlines()


def refused(result: Result, *needles: str) -> str:
    """Exit 1, the message on the first line (problems as '  - ' bullets), no traceback."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.output.splitlines()
    assert lines and lines[0].startswith("error: "), result.output
    assert all(line.startswith("  - ") for line in lines[1:]), result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, (needle, result.output)
    return result.output


# -- db, regions, users ----------------------------------------------------------------------


def test_db_upgrade_creates_the_schema_and_is_idempotent(
    run, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(2):
        assert ok(run("db", "upgrade")) == ["database at head"]
    fresh = f"sqlite:///{tmp_path / 'fresh' / 'new.db'}"
    monkeypatch.setenv("PERMITFLOW_DATABASE_URL", fresh)
    heads = []
    for url in (fresh, fresh, db_url):
        monkeypatch.setenv("PERMITFLOW_DATABASE_URL", url)
        assert ok(run("db", "upgrade")) == ["database at head"]
        engine = make_engine(url)
        with engine.connect() as conn:
            assert {"regions", "applications", "events", "tasks"} <= set(inspect(conn).get_table_names())
            heads.append(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
        engine.dispose()
    assert len(set(heads)) == 1


def test_regions_add(run) -> None:
    assert ok(run("regions", "add", "3273", "--name", "Kota Bandung")) == [
        "region 3273 Kota Bandung (Asia/Jakarta)"]
    assert ok(run("regions", "add", "5171", "--name", "Kota Denpasar", "--timezone", "Asia/Makassar")) == [
        "region 5171 Kota Denpasar (Asia/Makassar)"]
    refused(run("regions", "add", "3273", "--name", "Lagi"), "already exists")


def test_users_add_prints_the_token_alone_on_the_last_line_and_it_works_over_http(
    run, db_url: str, ctx: EngineContext
) -> None:
    ok(run("regions", "add", "3273", "--name", "Kota Bandung"))
    lines = ok(run("users", "add", "--name", "Rina (analis)", "--role", "analyst", "--role",
                   "supervisor", "--region", "3273"))
    token = lines[-1]
    assert re.fullmatch(r"pf_[A-Za-z0-9_-]{40,}", token), lines
    assert all(token not in line for line in lines[:-1])
    assert re.fullmatch(r"user \d+ Rina \(analis\) roles=analyst,supervisor region=3273 "
                        r"token expires \S+", lines[0])
    admin_token = ok(run("users", "add", "--name", "Admin", "--role", "admin"))[-1]
    assert admin_token != token
    with ctx.uow() as uow:  # stored hashed, never as given
        hashes = uow._session.scalars(select(TokenRecord.token_hash)).all()
    assert token not in hashes and admin_token not in hashes and len(hashes) == 2

    app = create_app({"DATABASE_URL": db_url, "TESTING": True})
    try:
        client = app.test_client()
        for value, path in ((token, "/api/v1/regions/3273/process-models"),
                            (admin_token, "/api/v1/regions")):
            response = client.get(path, headers={"Authorization": f"Bearer {value}"})
            assert response.status_code == 200, response.json
        assert client.get("/api/v1/regions", headers={"Authorization": f"Bearer {token}x"}).status_code == 401
    finally:
        app.extensions["permitflow"].session_factory.kw["bind"].dispose()


# -- models ----------------------------------------------------------------------------------


def test_models_import_twice_skips_unchanged_packages(run) -> None:
    expected = sorted(f"{p.parent.name}/{p.name}" for p in SHIPPED.glob("*/*") if p.is_dir())
    first = ok(run("models", "import", str(SHIPPED)))
    assert sorted(line.split("@")[0] for line in first) == expected
    assert all(line.endswith("@1 imported") for line in first), first
    second = ok(run("models", "import", str(SHIPPED)))
    assert [line.replace("unchanged", "imported") for line in second] == first
    assert all(line.endswith("@1 unchanged") for line in second), second


def test_models_import_never_publishes_over_a_newer_upload(
    run, ctx: EngineContext, tmp_path: Path
) -> None:
    # Issue #11 cause 15: `make serve` imports process_models/ at every start; it used to
    # publish the shipped file as a new version over an analyst's newer upload.
    shipped = tmp_path / "process_models"
    shutil.copytree(SHIPPED / "3273" / "pbg", shipped / "3273" / "pbg")
    shutil.copy(SHIPPED / "3273" / "region.json", shipped / "3273")
    model = shipped / "3273" / "pbg" / "model.bpmn"
    assert ok(run("models", "import", str(shipped))) == ["3273/pbg@1 imported"]

    # A new release of the shipped file replaces a version that came from the import.
    model.write_bytes(model.read_bytes().replace(b"<bpmn:definitions", b"<!-- v2 -->\n<bpmn:definitions", 1))
    assert ok(run("models", "import", str(shipped))) == ["3273/pbg@2 imported"]
    assert ok(run("models", "import", str(shipped))) == ["3273/pbg@2 unchanged"]

    # An analyst's upload wins from then on: neither the same nor a newer shipped file
    # is published over it.
    upload(ctx, "3273", model.read_bytes().replace(b"<!-- v2 -->", b"<!-- analis -->"),
           forms={f.name: f.read_bytes() for f in (model.parent / "forms").iterdir()},
           standard=(model.parent / "standard.json").read_bytes())
    for _ in range(2):
        (line,) = ok(run("models", "import", str(shipped)))
        assert line.startswith("3273/pbg@3 kept-upload: version 3 was uploaded"), line
        model.write_bytes(model.read_bytes().replace(b"<!-- v2 -->", b"<!-- v3 -->"))
    with ctx.reader() as uow:
        record = uow.repos.models.get("3273", "pbg")
        assert record is not None and record.latest_version == 3


def test_models_import_refuses_a_bad_package_with_located_problems(run, tmp_path: Path) -> None:
    bad = tmp_path / "3273" / "rusak"
    bad.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "fixtures" / "bpmn" / "bad" / "missing_sla.bpmn", bad / "model.bpmn")
    output = refused(run("models", "import", str(tmp_path)), "element_id=task_a", "line=10")
    assert "no SLA" in output
    refused_usage = run("models", "import", str(tmp_path / "nowhere"))
    assert refused_usage.exit_code == 2 and "does not exist" in refused_usage.output


# -- worker ----------------------------------------------------------------------------------


def test_worker_once_at_a_given_time_fires_timers_and_records_breaches_once(
    run, ctx: EngineContext
) -> None:
    ok(run("regions", "add", "3273", "--name", "Kota Bandung"))
    ctx.clock = Clock(datetime(2026, 3, 2, 10, 0, tzinfo=WIB))  # Monday 10:00
    upload(ctx, "3273", TIMER_BPMN)
    upload(ctx, "3273", tiny_bpmn(key="slow", steps=1, sla="PT2H"))
    officer, _ = make_user(ctx, "front-office")
    for key in ("escalation", "escalation", "slow"):
        applications.start_application(ctx, officer, "3273", key, {}, {})
    assert ok(run("worker", "--once", "--now", "2026-03-02T13:00:00+07:00")) == [
        "timers fired: 0, steps breached: 1, applications breached: 0"]
    assert ok(run("worker", "--now", "2026-03-02T14:00:00+07:00")) == [
        "timers fired: 2, steps breached: 0, applications breached: 0"]
    assert ok(run("worker", "--once", "--now", "2026-03-02T07:00:00Z")) == [
        "timers fired: 0, steps breached: 0, applications breached: 0"]
    # A month later: every application's process SLA has run out, each recorded once.
    assert ok(run("worker", "--now", "2026-04-02T10:00:00+07:00")) == [
        "timers fired: 0, steps breached: 2, applications breached: 3"]
    assert ok(run("worker", "--now", "2026-04-03T10:00:00+07:00")) == [
        "timers fired: 0, steps breached: 0, applications breached: 0"]
    # Events recorded at +07:00 times verify after reading back in UTC.
    assert ok(run("audit", "verify")) == ["audit chains intact"]
    for bad in ("yesterday", "2026-03-02T10:00:00"):
        result = run("worker", "--now", bad)
        assert result.exit_code == 2 and "Invalid value" in result.output, result.output
        assert "Traceback" not in result.output


# -- calendar --------------------------------------------------------------------------------


@pytest.mark.parametrize(("region", "start", "sla", "due_at", "local"), [
    # DESIGN §3: ready Mon 10:00 with P1D -> due Tue 16:00; Mon 15:00 with PT4H -> Tue 10:30.
    ("3273", "2026-03-02T10:00:00+07:00", "P1D", "2026-03-03T09:00:00+00:00", "2026-03-03T16:00:00+07:00"),
    ("3273", "2026-03-02T15:00:00+07:00", "PT4H", "2026-03-03T03:30:00+00:00", "2026-03-03T10:30:00+07:00"),
    # Ready before opening: the clock starts at 07:30; given in UTC, answered in UTC and local.
    ("3273", "2026-03-01T23:00:00Z", "PT4H", "2026-03-02T04:30:00+00:00", "2026-03-02T11:30:00+07:00"),
    # README: Tue 17 March 2026, P1D, across Nyepi and Idul Fitri with cuti bersama -> 25 March.
    ("3273", "2026-03-17T10:00:00+07:00", "P1D", "2026-03-25T09:00:00+00:00", "2026-03-25T16:00:00+07:00"),
    # The same instant in Denpasar (WITA) is 11:00 local: due Tue 16:00 WITA.
    ("5171", "2026-03-02T10:00:00+07:00", "P1D", "2026-03-03T08:00:00+00:00", "2026-03-03T16:00:00+08:00"),
])
def test_calendar_due(run, region: str, start: str, sla: str, due_at: str, local: str) -> None:
    ok(run("regions", "add", region, "--name", f"Region {region}", "--timezone",
           {"3273": "Asia/Jakarta", "5171": "Asia/Makassar"}[region]))
    assert ok(run("calendar", "due", "--region", region, "--from", start, "--sla", sla)) == [
        f"due_at: {due_at}", f"local:  {local}"]


def test_calendar_due_refuses_bad_input(run) -> None:
    ok(run("regions", "add", "3273", "--name", "Kota Bandung"))
    refused(run("calendar", "due", "--region", "3273", "--from", "2026-03-02T10:00:00+07:00",
                "--sla", "3 hari"), "not a working-time duration")
    refused(run("calendar", "due", "--region", "9999", "--from", "2026-03-02T10:00:00+07:00",
                "--sla", "P1D"), "9999")
    naive = run("calendar", "due", "--region", "3273", "--from", "2026-03-02T10:00:00", "--sla", "P1D")
    assert naive.exit_code == 2 and "offset" in naive.output and "Traceback" not in naive.output


def test_calendar_week_and_the_cuti_bersama_warning(run) -> None:
    """Issue #15 item 6: Friday's own hours move a due time; a deadline in 2028 (no SKB yet in
    the calendar) comes with a warning."""
    ok(run("regions", "add", "3273", "--name", "Kota Bandung"))
    assert ok(run("calendar", "week", "3273", "--working-days", "0,1,2,3,4",
                  "--day-hours", "4=07:30-16:30")) == [
        "working days: [0, 1, 2, 3, 4], 07:30-16:00", "weekday 4: 07:30-16:30"]
    assert ok(run("calendar", "due", "--region", "3273", "--from", "2026-03-06T09:00:00+07:00",
                  "--sla", "P0D"))[1] == "local:  2026-03-06T16:30:00+07:00"
    late = run("calendar", "due", "--region", "3273", "--from", "2027-12-20T10:00:00+07:00",
               "--sla", "P10D")
    assert late.exit_code == 0 and "warning: The cuti bersama (collective leave) of 2028" in (
        late.output)
    refused(run("calendar", "week", "3273", "--working-days", "0,9"), "/working_days")
    bad = run("calendar", "week", "3273", "--working-days", "0", "--day-hours", "Friday")
    assert bad.exit_code == 2 and "WEEKDAY=HH:MM-HH:MM" in bad.output


# -- audit -----------------------------------------------------------------------------------


def test_audit_verify_passes_then_finds_a_tampered_event(run, ctx: EngineContext) -> None:
    ok(run("regions", "add", "3273", "--name", "Kota Bandung"))
    ok(run("regions", "add", "3510", "--name", "Kab. Banyuwangi"))
    upload(ctx, "3273", tiny_bpmn())
    officer, _ = make_user(ctx, "front-office")
    applications.start_application(ctx, officer, "3273", "tiny", {"name": "Siti"}, {})
    assert ok(run("audit", "verify")) == ["audit chains intact"]
    with ctx.uow() as uow:
        target = uow._session.scalars(select(EventRecord).where(
            EventRecord.action == "application.started")).one()
        seq, event_id, chain = target.seq, target.id, target.chain
        uow._session.execute(text("UPDATE events SET actor = 'user:1:someone else' WHERE id = :i"),
                            {"i": event_id})
        uow.commit()
    result = run("audit", "verify")
    assert result.exit_code == 1, result.output
    # The application's own chain (issue #16), checked with its region's.
    assert chain == str(target.application_id)
    assert result.output.splitlines()[0].startswith(f"chain {chain}: broken at event #{seq} (id {event_id})")
    assert "Traceback" not in result.output
    assert run("audit", "verify", "--region", "3273").exit_code == 1
    assert ok(run("audit", "verify", "--region", "3510")) == ["audit chains intact"]


def test_audit_heads_are_published_and_checked_later(run, ctx: EngineContext,
                                                     tmp_path: Path) -> None:
    ok(run("regions", "add", "3273", "--name", "Kota Bandung"))
    upload(ctx, "3273", tiny_bpmn())
    officer, _ = make_user(ctx, "front-office")
    applications.start_application(ctx, officer, "3273", "tiny", {"name": "Siti"}, {})
    record = tmp_path / "heads.jsonl"
    lines = ok(run("audit", "heads", "--append-to", str(record)))
    assert record.read_text("utf-8").splitlines() == lines
    assert [json.loads(line)["chain"] for line in lines] == ["3273"]
    assert ok(run("audit", "verify", "--published", str(record))) == [
        "audit chains intact, 1 published head(s) matched"]
    with ctx.uow() as uow:  # the chain is cut below the published head, head rewound
        uow._session.execute(text("DELETE FROM events WHERE chain = '3273' AND seq > 1"))
        uow._session.execute(text("UPDATE audit_chain_heads SET seq = 1, hash = (SELECT hash FROM "
                                 "events WHERE chain = '3273' AND seq = 1) WHERE chain = '3273'"))
        uow.commit()
    assert ok(run("audit", "verify")) == ["audit chains intact"]
    result = run("audit", "verify", "--published", str(record))
    assert result.exit_code == 1 and "chain 3273: broken at event #" in result.output
    record.write_text("not a head\n", "utf-8")
    result = run("audit", "verify", "--published", str(record))
    assert result.exit_code == 1 and "line=1" in result.output and "Traceback" not in result.output


# -- demo and bad input ----------------------------------------------------------------------


def test_demo_runs_every_shipped_scenario(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PERMITFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'untouched.db'}")
    result = CliRunner().invoke(cli.main, ["demo"])
    lines = ok(result)
    assert lines[-1] == "all scenarios passed"
    scenarios = sorted(SHIPPED.glob("*/*/scenarios/*.json"))
    assert sum(line.strip().startswith("=> ") for line in lines) == len(scenarios) > 0
    assert not any("FAILED" in line for line in lines)
    assert not (tmp_path / "untouched.db").exists()  # the demo never touches the real database


@pytest.mark.parametrize(("args", "needle"), [
    (("regions", "add", "12x", "--name", "X"), "field=code"),
    (("regions", "add", "3273", "--name", " ", "--timezone", "Europe/Berlin"), "field=timezone"),
    (("users", "add", "--name", "U", "--role", "admin", "--role", ""), "invalid role ''"),
    (("users", "add", "--name", "U", "--role", "Kepala Dinas", "--region", "3273"), "invalid role"),
    (("users", "add", "--name", "U", "--role", "analyst"), "field=region"),
    (("users", "add", "--name", "U", "--role", "analyst", "--region", "9999"), "9999"),
    (("users", "add", "--name", " ", "--role", "analyst", "--region", "3273"), "needs a name"),
])
def test_bad_input_is_one_message_and_exit_1(run, args: tuple[str, ...], needle: str) -> None:
    ok(run("regions", "add", "3273", "--name", "Kota Bandung"))
    refused(run(*args), needle)


def test_an_unmigrated_database_is_one_message_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PERMITFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = CliRunner().invoke(cli.main, ["regions", "add", "3273", "--name", "Kota Bandung"])
    refused(result, "db upgrade")
