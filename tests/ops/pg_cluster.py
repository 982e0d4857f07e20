"""Throw-away PostgreSQL 15 clusters on loopback, for the failover test.

A primary and a streaming standby (`pg_basebackup -R`) with synchronous replication, on free
ports in a temporary directory. initdb refuses to run as root, so when the tests run as root
(CI does) every server command runs as the `postgres` OS user (`runuser -u postgres --`) in
a directory it owns. Every wait is bounded; `stop()` always leaves nothing running.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.pool import NullPool

from engine.persistence.database import make_engine

BIN = Path("/usr/lib/postgresql/15/bin")
BOUND = 60  # seconds: the limit of every server command and every wait below


def unavailable_reason() -> str | None:
    """None when this machine can run the clusters; else why not (the test's skip reason)."""
    if not (BIN / "initdb").exists():
        return f"no PostgreSQL 15 server binaries at {BIN} (Debian: postgresql-15)"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root without runuser: initdb refuses root and cannot switch user"
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` OS user to run initdb as"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Pair:
    """A primary and its synchronous standbys; `start()`, then `stop()` in a finally."""

    def __init__(self, standbys: int = 1) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="pf_failover_"))
        self.primary, self.primary_port = self.root / "primary", free_port()
        self.names = [f"standby{n}" for n in range(1, standbys + 1)]
        self.standbys = [self.root / name for name in self.names]
        self.standby_ports = [free_port() for _ in self.names]
        # The first standby, for the tests that have one.
        self.standby, self.standby_port = self.standbys[0], self.standby_ports[0]
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)

    def url(self, port: int, database: str = "permitflow") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"

    def host_list_url(self) -> str:
        """libpq's multi-host form, as an operator writes it: every server."""
        hosts = ",".join(f"127.0.0.1:{p}" for p in (self.primary_port, *self.standby_ports))
        return f"postgresql://postgres@{hosts}/permitflow"

    @property
    def synchronous_names(self) -> str:
        """One standby must confirm each commit: the only one, or ANY 1 of several."""
        if len(self.names) == 1:
            return self.names[0]
        return f"ANY 1 ({', '.join(self.names)})"

    def start(self, *, standby: bool = True) -> None:
        """initdb the primary, create the database, clone the standbys, make them
        synchronous (`standby=False`: the primary alone, a private server)."""
        self._server("initdb", "-D", str(self.primary), "-U", "postgres", "-A", "trust",
                     "-E", "UTF8", "--locale=C", "--no-sync")
        self._configure(self.primary, self.primary_port,
                        "wal_level = replica", "max_wal_senders = 6", "wal_keep_size = '64MB'")
        self._pg_ctl(self.primary, "start")
        self.execute(self.primary_port, "CREATE DATABASE permitflow", database="postgres")
        if not standby:
            return
        for name, data, port in zip(self.names, self.standbys, self.standby_ports, strict=True):
            self._server("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port),
                         "-U", "postgres", "-D", str(data), "-R", "-X", "stream",
                         "-c", "fast", "--no-sync")
            # cluster_name is the walreceiver's application_name, which the primary names.
            self._configure(data, port, f"cluster_name = '{name}'", "hot_standby = on")
            self._pg_ctl(data, "start")
        self.execute(self.primary_port,
                     f"ALTER SYSTEM SET synchronous_standby_names = '{self.synchronous_names}'")
        self.execute(self.primary_port, "SELECT pg_reload_conf()")
        for index in range(len(self.names)):
            self._wait_synchronous(index)

    def _wait_synchronous(self, index: int) -> None:
        expected = "sync" if len(self.names) == 1 else "quorum"
        self.wait_for(lambda: self.scalar(
            self.primary_port,
            "SELECT sync_state FROM pg_stat_replication WHERE application_name = :n",
            n=self.names[index],
        ) == expected, f"{self.names[index]} to replicate synchronously")

    def crash_primary(self) -> int:
        """kill -9 the primary's postmaster and every process of it, as a machine crash
        would end them; the postmaster's pid."""
        return self._crash(self.primary)

    def crash_standby(self, index: int = 0) -> int:
        """kill -9 a standby and every process of it."""
        return self._crash(self.standbys[index])

    def _crash(self, data: Path) -> int:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        children = [p for p in _all_pids() if _parent(p) == pid]
        for victim in (pid, *children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        return pid

    def stop_standby(self, index: int = 0) -> None:
        """Stop a standby at once (a lost synchronous standby)."""
        self._server("pg_ctl", "-D", str(self.standbys[index]), "-m", "immediate", "-w",
                     "-t", str(BOUND), "stop")

    def start_standby(self, index: int = 0) -> None:
        """Start a standby again and wait until it replicates synchronously."""
        self._pg_ctl(self.standbys[index], "start")
        self._wait_synchronous(index)

    def promote_standby(self, index: int = 0) -> None:
        self._server("pg_ctl", "-D", str(self.standbys[index]), "-w", "-t", str(BOUND),
                     "promote")

    def stop(self) -> None:
        """Stop every server (immediate), kill what would not stop, remove the directory."""
        for data in (*self.standbys, self.primary):
            if (data / "postmaster.pid").exists():
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    self._server("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "-t",
                                 "30", "stop")
            pid_file = data / "postmaster.pid"
            if pid_file.exists():  # a server that did not stop, or a stale file
                pid = int(pid_file.read_text().split()[0])
                if str(data) in _command_line(pid):  # ours, not a reused pid
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def execute(self, port: int, sql: str, database: str = "permitflow") -> None:
        engine = make_engine(self.url(port, database), poolclass=NullPool,
                             isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(sql))
        engine.dispose()

    def scalar(self, port: int, sql: str, **params: object) -> object:
        engine = make_engine(self.url(port), poolclass=NullPool)
        with engine.connect() as conn:
            found = conn.execute(text(sql), params).scalar()
        engine.dispose()
        return found

    @staticmethod
    def wait_for(check: object, what: str) -> None:
        deadline = time.monotonic() + BOUND
        while not check():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {BOUND} s for {what}")
            time.sleep(0.1)

    def _configure(self, data: Path, port: int, *lines: str) -> None:
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {port}",
            f"unix_socket_directories = '{self.root}'",
            "max_connections = 60",
            "shared_buffers = '32MB'",
            *lines,
        ]
        with (data / "postgresql.conf").open("a") as conf:  # later lines win
            conf.write("\n# permitflow failover test\n" + "\n".join(settings) + "\n")

    def _pg_ctl(self, data: Path, action: str) -> None:
        log = self.root / f"{data.name}.log"
        self._server("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", str(BOUND), action)

    def _server(self, tool: str, *args: str) -> None:
        command = [str(BIN / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=BOUND + 10,
                              cwd=self.root, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr[-2000:]}")

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text()[-3000:] if path.exists() else ""


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
