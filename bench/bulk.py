"""Open tasks and their applications written straight into the tables, for the inbox and the worker.

The spread is that of a province's permit offices: 25 regions (Kota Bandung, 3273, holds
10 % of the open work), nine step roles, two open steps per application (parallel
reviews). The benchmark's officer holds `front-office` in 3273, which also lets them work
the applicant's steps, so their inbox selects about 1 % of all open tasks.

On PostgreSQL rows go in with `COPY`; the secondary indexes of `tasks` and `applications`
are dropped first and rebuilt after from their exact `pg_indexes` definitions (a bulk
load's usual order), then `VACUUM ANALYZE`, the state autovacuum would reach. On SQLite
(smoke runs) they go in with executemany, then `ANALYZE`.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from bench.databases import Database
from engine.context import EngineContext
from engine.domain.actors import SYSTEM
from engine.persistence.tables import ApplicationRecord, TaskRecord
from engine.services import regions

OFFICER_REGION = "3273"
# (code, share of the open work); 3273 gets 10 %, the rest share 90 % unevenly.
_OTHER = ("3510", "3171", "3172", "3173", "3174", "3175", "3578", "3374", "3471", "5171",
          "6371", "7371", "1271", "1371", "1671", "3201", "3204", "3216", "3275", "3276",
          "3671", "6471", "9471", "5271")
_OTHER_WEIGHTS = [1 / (i + 2) for i in range(len(_OTHER))]
REGION_WEIGHTS = [(OFFICER_REGION, 0.10)] + [
    (code, 0.90 * w / sum(_OTHER_WEIGHTS)) for code, w in zip(_OTHER, _OTHER_WEIGHTS, strict=True)
]
# (role, share within a region, element id, step name, sla)
ROLES = (
    ("front-office", 0.06, "check_completeness", "Pemeriksaan kelengkapan berkas", "P1D"),
    ("applicant", 0.03, "complete_documents", "Lengkapi berkas", "P5D"),
    ("pemohon", 0.01, "pay_retribution", "Pembayaran retribusi", "P5D"),
    ("technical-team", 0.30, "architecture_review", "Pemeriksaan dokumen arsitektur", "P5D"),
    ("head-of-office", 0.15, "approve_technical_standard", "Pengesahan SPPST", "P2D"),
    ("cashier", 0.05, "verify_payment", "Verifikasi pembayaran", "P1D"),
    ("surveyor", 0.15, "location_survey", "Survei lokasi", "P3D"),
    ("legal", 0.10, "legal_review", "Telaah hukum", "P3D"),
    ("health-office", 0.15, "health_review", "Rekomendasi dinas kesehatan", "P3D"),
)
OFFICER_SHARE = 0.10 * sum(share for role, share, *_ in ROLES
                           if role in ("front-office", "applicant", "pemohon"))
TASKS_PER_APPLICATION = 2
_APP_COLUMNS = ("id", "region_code", "model_version_id", "process_key", "version", "title",
                "status", "tracking_code", "applicant", "state", "created_at", "updated_at",
                "process_sla", "sla_backstop", "sla_budget_minutes", "sla_used_minutes",
                "sla_running_since", "due_at", "row_version")
_TASK_COLUMNS = ("id", "application_id", "region_code", "process_key", "element_id", "name",
                 "role", "state", "ready_at", "sla", "fee", "clock_started_at", "due_at")
_UUIDS = {"id", "application_id"}
_Chunk = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]
_TIMES = {"created_at", "updated_at", "sla_running_since", "due_at", "ready_at",
          "clock_started_at"}


class BulkData:
    """Grows the tables to a number of open tasks; the first `due` written are overdue."""

    def __init__(self, db: Database, ctx: EngineContext, now: datetime, due: int) -> None:
        self.db, self.engine, self.now, self.due = db, db.engine(ctx), now, due
        self.written = self._due_written = 0
        self._rng = random.Random(20261128)  # noqa: S311 - test data, not secrets
        self._serial = 0
        for code, _ in REGION_WEIGHTS:
            with ctx.uow() as uow:
                exists = uow.repos.regions.get(code) is not None
            if not exists:
                regions.create_region(ctx, SYSTEM, code, f"Wilayah {code}", "Asia/Jakarta")
        with self.engine.connect() as conn:
            self.version_id, self.title = conn.execute(text(
                "select id, title from model_versions where key = 'pbg' order by version desc"
            )).one()
        self._past = [self._stamp(now - timedelta(minutes=m)) for m in range(0, 30 * 1440, 7)]
        self._future = [self._stamp(now + timedelta(minutes=m)) for m in range(60, 20 * 1440, 7)]

    @staticmethod
    def _stamp(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S+00:00")

    def grow_to(self, total: int) -> float:
        """Write open tasks until `total` exist; returns the seconds it took (load + indexes)."""
        started = time.perf_counter()
        count = total - self.written
        if count > 0:
            chunks = self._generate(count)
            if self.db.kind == "postgres":
                self._copy(chunks)
            else:
                self._insert(chunks)
            self.written = total
        return time.perf_counter() - started

    def reset_breaches(self) -> None:
        """Undo a worker pass: the due tasks are due again, its audit events are gone."""
        with self.engine.begin() as conn:
            conn.execute(text("update tasks set breached_at = null where breached_at is not null "
                              "and state = 'ready'"))
            conn.execute(text("delete from events where action = 'sla.breached'"))

    def officer_selects(self) -> int:
        """How many open tasks the benchmark officer's inbox selects."""
        with self.engine.connect() as conn:
            return int(conn.execute(text(
                "select count(*) from tasks where state = 'ready' and region_code = :r and "
                "role in ('front-office', 'applicant', 'pemohon')"), {"r": OFFICER_REGION}
            ).scalar_one())

    # -- generation ----------------------------------------------------------------------------

    def _generate(self, count: int, chunk: int = 25_000) -> Iterator[_Chunk]:
        """(applications, tasks) rows, `chunk` applications at a time."""
        while count > 0:
            tasks = min(count, chunk * TASKS_PER_APPLICATION)
            yield self._chunk(tasks)
            count -= tasks

    def _chunk(self, count: int) -> _Chunk:
        rng, napps = self._rng, -(-count // TASKS_PER_APPLICATION)
        region_codes = rng.choices([c for c, _ in REGION_WEIGHTS],
                                   [w for _, w in REGION_WEIGHTS], k=napps)
        roles = rng.choices(ROLES, [r[1] for r in ROLES], k=count)
        apps, tasks = [], []
        for index, region in enumerate(region_codes):
            app_id, created = f"{rng.getrandbits(128):032x}", rng.choice(self._past)
            self._serial += 1
            apps.append((app_id, region, self.version_id, "pbg", 1, self.title, "running",
                         f"BN-{self._serial:012d}", "{}", "{}", created, created, "P28D", "f",
                         12_600, 0, created, rng.choice(self._future), 1))
            for role in roles[index * TASKS_PER_APPLICATION:(index + 1) * TASKS_PER_APPLICATION]:
                tasks.append(self._task(app_id, region, role))
        return apps, tasks

    def _task(self, app_id: str, region: str, role: tuple[Any, ...]) -> tuple[Any, ...]:
        rng = self._rng
        if self._due_written < self.due:
            self._due_written += 1
            due_at = self._stamp(self.now - timedelta(minutes=rng.randrange(1, 2880)))
            ready = self._stamp(self.now - timedelta(days=4, minutes=rng.randrange(1, 1440)))
        else:
            due_at, ready = rng.choice(self._future), rng.choice(self._past)
        return (f"{rng.getrandbits(128):032x}", app_id, region, "pbg", role[2], role[3], role[0],
                "ready", ready, role[4], 0, ready, due_at)

    # -- PostgreSQL ----------------------------------------------------------------------------

    def _copy(self, chunks: Iterator[_Chunk]) -> None:
        raw = self.engine.raw_connection()
        try:
            conn = raw.driver_connection
            with conn.cursor() as cursor:  # type: ignore[union-attr]
                cursor.execute("set maintenance_work_mem = '256MB'")
                cursor.execute("set session_replication_role = replica")  # no FK triggers
                dropped = _drop_secondary_indexes(cursor, ("applications", "tasks"))
                for apps, tasks in chunks:
                    _copy_rows(cursor, ApplicationRecord, _APP_COLUMNS, apps)
                    _copy_rows(cursor, TaskRecord, _TASK_COLUMNS, tasks)
                for statement in dropped:
                    cursor.execute(statement)
                cursor.execute("set session_replication_role = origin")
            conn.commit()  # type: ignore[union-attr]
            conn.autocommit = True  # type: ignore[union-attr]
            conn.execute("vacuum analyze applications")  # type: ignore[union-attr]
            conn.execute("vacuum analyze tasks")  # type: ignore[union-attr]
            conn.autocommit = False  # type: ignore[union-attr]
        finally:
            raw.close()

    # -- SQLite --------------------------------------------------------------------------------

    def _insert(self, chunks: Iterator[_Chunk]) -> None:
        with self.engine.begin() as conn:
            for apps, tasks in chunks:
                _insert_rows(conn, ApplicationRecord, _APP_COLUMNS, apps)
                _insert_rows(conn, TaskRecord, _TASK_COLUMNS, tasks)
            conn.execute(text("analyze"))


def _drop_secondary_indexes(cursor: Any, tables: tuple[str, ...]) -> list[str]:
    """Drop the indexes that back no constraint; return the statements that recreate them."""
    cursor.execute(
        "select i.indexname, i.indexdef from pg_indexes i "
        "join pg_class c on c.relname = i.indexname "
        "join pg_namespace n on n.oid = c.relnamespace and n.nspname = i.schemaname "
        "where i.schemaname = current_schema() and i.tablename = any(%s) "
        "and not exists (select 1 from pg_constraint k where k.conindid = c.oid)",
        (list(tables),),
    )
    found = cursor.fetchall()
    for name, _ in found:
        cursor.execute(f'drop index "{name}"')
    return [definition for _, definition in found]


def _copy_rows(cursor: Any, record: Any, columns: tuple[str, ...],
               rows: list[tuple[Any, ...]]) -> None:
    names, suffix = _completed_columns(record.__table__, columns)
    statement = f"copy {record.__tablename__} ({', '.join(names)}) from stdin"
    with cursor.copy(statement) as copy:
        copy.write("".join("\t".join(map(str, row)) + suffix + "\n" for row in rows))


def _completed_columns(table: Any, known: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    """The generated columns plus every other NOT NULL column without a server default,
    filled with its Python-side default (what the ORM would write), as a COPY suffix.

    Raises: RuntimeError naming a NOT NULL column this loader cannot fill (the schema
    grew one without a default: teach `_generate` about it).
    """
    extra, values = [], []
    for column in table.columns:
        if column.name in known or column.nullable or column.server_default is not None:
            continue
        default = column.default
        if default is None or not getattr(default, "is_scalar", False):
            raise RuntimeError(f"bench/bulk.py cannot fill {table.name}.{column.name} "
                               "(NOT NULL, no default): add it to the generated columns")
        extra.append(column.name)
        values.append(str(default.arg))
    return known + tuple(extra), "".join("\t" + value for value in values)


def _chunks(rows: list[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _insert_rows(conn: Connection, record: Any, columns: tuple[str, ...],
                 rows: list[tuple[Any, ...]]) -> None:
    table = record.__table__
    json_columns = {c.name for c in table.columns if c.name in ("applicant", "state")
                    and record is ApplicationRecord}
    values = [{name: _python(name, value, name in json_columns)
               for name, value in zip(columns, row, strict=True)} for row in rows]
    for chunk in _chunks(values, 5_000):  # type: ignore[arg-type]
        conn.execute(table.insert(), chunk)


def _python(column: str, value: Any, is_json: bool) -> Any:
    """The Python value SQLAlchemy expects for a column written as COPY text."""
    if column in _UUIDS:
        return uuid.UUID(hex=value)
    if column in _TIMES:
        return datetime.fromisoformat(value)
    if is_json:
        return json.loads(value)
    if column == "sla_backstop":
        return value == "t"
    return value
