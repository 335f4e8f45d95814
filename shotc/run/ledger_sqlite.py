"""Run stage: the ledger's SQLite backend, the embedded default (`.shotc/ledger.sqlite`).

WAL journal, `synchronous=FULL`, and `BEGIN IMMEDIATE` for each change, so one writer at a
time across processes. One connection shared by the run's threads (behind `LedgerStore`'s
lock): each change is a few rows, far cheaper than the HTTP call around it. The run lock is
an flock on `run.lock` beside the file.

A ledger is never silently replaced by a new one: a new ledger is built under a temporary name
and linked into place only once it holds its schema, so a file at the ledger's path that is
empty or not SQLite is damage (refused, exit 4), never "no ledger yet" (which would pay for
every scene again).
"""

from __future__ import annotations

import fcntl
import os
import secrets
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from typing import IO, Any

from shotc.run.errors import LocalIOError
from shotc.run.ledger_schema import migrate

EMPTY_LEDGER = "the ledger is empty: restore it or remove it"
NOT_A_LEDGER = (
    "this file is not a readable shotc ledger (damaged, or another file): restore it from a "
    "backup or move it away"
)
RUN_LOCK_NAME = "run.lock"  # beside the ledger: one `run` per project at a time


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def _create(path: Path) -> None:
    """Build a new ledger beside `path` and link it into place (never over an existing file).

    Until the link, nothing exists at `path`; after it, a complete SQLite file does. So an
    empty file there can only be damage, and two processes creating at once end with one
    ledger (the loser of the link opens the winner's)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.new")
    try:
        conn = _connect(tmp)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            migrate(conn)
        finally:
            conn.close()  # the last connection checkpoints the WAL into the file
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use that one
        except OSError:
            # A file system without hard links: a rename, which cannot replace a ledger made
            # meanwhile only if none is there (checked just before; the window is tiny).
            if not path.exists():
                os.rename(tmp, path)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            with suppress(OSError):
                leftover.unlink()


def _check_existing(path: Path) -> None:
    """Refuse a ledger file that is empty or not SQLite before SQLite would take it for a new
    database (an empty file) or fail with a bare "file is not a database"."""
    size = path.stat().st_size
    wal = path.with_name(path.name + "-wal")
    if size == 0 and not (wal.exists() and wal.stat().st_size > 0):
        raise LocalIOError(f"ledger {path}: {EMPTY_LEDGER}")
    if size > 0:
        with path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise LocalIOError(f"ledger {path}: {NOT_A_LEDGER}")


def why(exc: BaseException) -> str:
    """SQLite's words for a damaged or foreign file are terse; say what to do instead."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
        return f"{text}: {NOT_A_LEDGER}"
    return text


class _FileLock:
    """An flock held through an open file; closing the file releases it."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle

    def __enter__(self) -> object:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


def flock_run_lock(directory: Path) -> AbstractContextManager[object] | None:
    """`run.lock` in `directory`, held (an flock) until the returned context exits; None when
    another process holds it."""
    path = directory / RUN_LOCK_NAME
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle: IO[str] = path.open("a")
    except OSError as exc:
        raise LocalIOError(f"{path}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return _FileLock(handle)


class SqliteDatabase:
    error: type[Exception] = sqlite3.Error
    conflict: type[Exception] = sqlite3.IntegrityError

    def __init__(self, path: Path, root: Path) -> None:
        self.path = path
        self.label = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                _create(path)
            _check_existing(path)
            self._conn = _connect(path)
        except LocalIOError:
            raise
        except (OSError, sqlite3.Error, ValueError) as exc:
            raise LocalIOError(f"ledger {path}: {why(exc)}") from None
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            migrate(self._conn, root)
        except (OSError, sqlite3.Error, ValueError) as exc:
            self._conn.close()
            raise LocalIOError(f"ledger {path}: {why(exc)}") from None

    def begin(self) -> sqlite3.Connection:
        self._conn.execute("BEGIN IMMEDIATE")
        return self._conn

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    def query(self, sql: str, args: Sequence[Any]) -> list[sqlite3.Row]:
        return self._conn.execute(sql, args).fetchall()

    def why(self, exc: Exception) -> str:
        return why(exc)

    def try_run_lock(self) -> AbstractContextManager[object] | None:
        return flock_run_lock(self.path.parent)

    def close(self) -> None:
        self._conn.close()
