"""Run stage: the ledger's SQLite file (opening, migrating, transactions) and its records of
files on disk and at kie.ai: downloads and uploads.

WAL journal, `synchronous=FULL`, one transaction per change (with an `events` row). One
connection shared by the run's threads behind a lock: each change is a few rows, far cheaper
than the HTTP call around it. `Ledger` (`shotc.run.ledger`) adds the submissions and their
state machine on top.

A ledger is never silently replaced by a new one: a new ledger is built under a temporary name
and linked into place only once it holds its schema, so a file at the ledger's path that is
empty or not SQLite is damage (refused, exit 4), never "no ledger yet" (which would pay for
every scene again). The first write that fails (disk full, I/O error) is remembered in
`failed`: the run sends nothing more, and `Ledger.begin` refuses new intents by itself.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Self

from shotc.run.errors import LocalIOError
from shotc.run.ledger_schema import Download, Upload, migrate

LEDGER_DIR = ".shotc"
LEDGER_NAME = "ledger.sqlite"
EMPTY_LEDGER = "the ledger is empty: restore it or remove it"
NOT_A_LEDGER = (
    "this file is not a readable shotc ledger (damaged, or another file): restore it from a "
    "backup or move it away"
)


class LedgerWriteFailed(LocalIOError):
    """A change could not be committed (disk full, I/O error, locked for too long). Nothing may
    be sent after it: a task id the ledger cannot record would live only in memory."""


class LedgerConflict(LocalIOError):
    """A change broke a constraint (a task id the ledger already holds for another row)."""


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


class LedgerStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        # The project directory: scripts and downloads are stored relative to it so the
        # project can move.
        where = path.parent.parent if path.parent.name == LEDGER_DIR else path.parent
        self.root = where.resolve()
        self._lock = threading.RLock()
        self.failed: LedgerWriteFailed | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                _create(path)
            _check_existing(path)
            self._conn = _connect(path)
        except LocalIOError:
            raise
        except (OSError, sqlite3.Error, ValueError) as exc:
            raise LocalIOError(f"ledger {path}: {_why(exc)}") from None
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            migrate(self._conn, self.root)
        except (OSError, sqlite3.Error, ValueError) as exc:
            self._conn.close()
            raise LocalIOError(f"ledger {path}: {_why(exc)}") from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def script_name(self, script: Path) -> str:
        try:
            return script.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return script.resolve().as_posix()

    def _write_failed(self, exc: sqlite3.Error) -> LedgerWriteFailed:
        failure = LedgerWriteFailed(f"ledger {self.path}: {_why(exc)}")
        if self.failed is None:
            self.failed = failure
        return failure

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._write_failed(exc) from None
            try:
                yield self._conn
            except BaseException as exc:
                # SQLite may have rolled back on its own already (disk full, I/O error).
                with suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.IntegrityError):
                    # A constraint (a task id the ledger already holds): this change only.
                    raise LedgerConflict(f"ledger {self.path}: {exc}") from None
                if isinstance(exc, sqlite3.Error):
                    # A failing disk: a ledger failure like any other, never a traceback.
                    raise self._write_failed(exc) from None
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                raise self._write_failed(exc) from None

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise LocalIOError(f"ledger {self.path}: {_why(exc)}") from None

    def _event(
        self, conn: sqlite3.Connection, sid: int, old: str | None, new: str, detail: str | None
    ) -> None:
        conn.execute(
            "INSERT INTO events (submission_id, at, from_state, to_state, detail) "
            "VALUES (?, ?, ?, ?, ?)",
            (sid, time.time(), old, new, detail),
        )

    # -- downloads ------------------------------------------------------------------------
    # Paths are stored relative to the project directory (absolute only outside it), so a
    # moved project keeps its clips; callers only ever see absolute paths.

    def _stored(self, path: Path) -> str:
        absolute = path.resolve()
        try:
            return absolute.relative_to(self.root).as_posix()
        except ValueError:
            return str(absolute)

    def _download(self, row: sqlite3.Row) -> Download:
        fields = dict(row)
        fields["path"] = str(self.root / fields["path"])  # an absolute one stays as it is
        return Download(**fields)

    def record_download(self, sid: int, path: Path, sha256: str, size: int) -> None:
        try:
            mtime_ns = os.stat(path).st_mtime_ns
        except OSError as exc:
            raise LocalIOError(f"{path}: {exc.strerror or exc}") from None
        stored = self._stored(path)
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO downloads VALUES (?, ?, ?, ?, ?, ?)",
                (sid, stored, sha256, size, mtime_ns, time.time()),
            )
            self._event(conn, sid, None, "downloaded", stored)

    def downloads(self, sid: int) -> list[Download]:
        rows = self._query("SELECT * FROM downloads WHERE submission_id = ?", (sid,))
        return [self._download(r) for r in rows]

    def downloads_at(self, path: Path) -> list[Download]:
        rows = self._query("SELECT * FROM downloads WHERE path = ?", (self._stored(path),))
        return [self._download(r) for r in rows]

    def move_download(self, old: Path, new: Path) -> None:
        """A recorded file was set aside (renamed) to make room: follow it."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE OR REPLACE downloads SET path = ? WHERE path = ?",
                (self._stored(new), self._stored(old)),
            )

    # -- uploads --------------------------------------------------------------------------

    def upload(self, sha256: str, base: str) -> Upload | None:
        rows = self._query("SELECT * FROM uploads WHERE sha256 = ? AND base = ?", (sha256, base))
        return Upload(**dict(rows[0])) if rows else None

    def record_upload(self, up: Upload) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO uploads (sha256, base, url, name, size, uploaded_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (up.sha256, up.base, up.url, up.name, up.size, up.uploaded_at, up.expires_at),
            )

    def forget_upload(self, up: Upload) -> bool:
        """Drop this cached upload; whether it was still there. Only this very upload (same
        time) goes: a fresh one of the same file recorded meanwhile stays."""
        with self._tx() as conn:
            cur = conn.execute(
                "DELETE FROM uploads WHERE sha256 = ? AND base = ? AND uploaded_at = ?",
                (up.sha256, up.base, up.uploaded_at),
            )
            return cur.rowcount > 0


def _why(exc: BaseException) -> str:
    """SQLite's words for a damaged or foreign file are terse; say what to do instead."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
        return f"{text}: {NOT_A_LEDGER}"
    return text
