"""Tests' PostgreSQL: a real server from `initdb` in a temporary directory, on a Unix socket.

The ledger's PostgreSQL backend is tested against the real thing, never a mock: a server
started by the tests themselves (Debian's `postgresql` package, installed by `.ci/run` where
missing), listening only on a socket in its own directory (no TCP port, so nothing can collide
with another server or reach the network). Every wait is bounded; the server is stopped with
`pg_ctl stop -m immediate` at the end, and its directory removed.

`PgServer.database()` makes a fresh, empty database per test, so tests never see each other's
rows, and returns its URL (`postgresql://user@/db?host=/socket/dir`).
"""

from __future__ import annotations

import contextlib
import getpass
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Self

STARTUP_TIMEOUT = 60  # seconds for initdb and for the server to accept connections


def pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, else Debian's versioned folder."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    base = Path("/usr/lib/postgresql")
    versions = sorted(
        (p for p in base.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


class PgServer:
    """One PostgreSQL server for a test session; `database()` gives each test its own DB."""

    def __init__(self) -> None:
        bindir = pg_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (initdb not found): run .ci/run")
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="shotc-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.socket_dir.mkdir()
        self.user = "shotc"
        self._names = itertools.count(1)
        self._started = False

    def _run(self, *argv: str, timeout: float = STARTUP_TIMEOUT) -> None:
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        cmd = [str(self.bindir / argv[0]), *argv[1:]]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            self._chown()
            cmd = ["runuser", "-u", _service_user(), "--", *cmd]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr[-2000:]}")

    def _chown(self) -> None:
        user = _service_user()
        shutil.chown(self.root, user)
        for path in self.root.rglob("*"):
            shutil.chown(path, user)

    def start(self) -> Self:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",  # a test server: durability is the ledger's concern, not initdb's
        )
        options = (
            f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off "
            "-c max_connections=200 -c shared_buffers=32MB"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            str(STARTUP_TIMEOUT),
            "start",
        )
        self._started = True
        return self

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{dbname}?host={self.socket_dir}"

    def database(self) -> str:
        """A new empty database; its URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        self.psql("postgres", f"CREATE DATABASE {name}")
        return self.url(name)

    def psql(self, dbname: str, sql: str) -> list[tuple[object, ...]]:
        """Run one statement as the superuser (autocommit); its rows, if it returns any."""
        import psycopg  # the driver under test; imported here so the module loads without it

        with psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=10) as conn:
            cur = conn.execute(sql)
            return list(cur.fetchall()) if cur.description else []

    def stop(self) -> None:
        if self._started:
            self._started = False
            # the directory goes anyway; a stray server dies with its socket dir
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _service_user() -> str:
    """The account the server runs as when the tests run as root (CI containers)."""
    for name in ("postgres", "nobody"):
        if subprocess.run(["id", name], capture_output=True).returncode == 0:
            return name
    return getpass.getuser()
