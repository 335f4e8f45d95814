"""Run stage: the ledger's store (opening it, transactions, reads) and its records of files
on disk and at kie.ai: downloads and uploads.

The ledger is a SQLite file (the default, `shotc.run.ledger_sqlite`) or a PostgreSQL database
named by a `postgresql://` URL (`shotc.run.ledger_pg`, shared by machines); this module and
the mixins built on it are the same for both (`shotc.run.ledger_db` says what they ask of a
backend). One transaction per change (with an `events` row). `Ledger` (`shotc.run.ledger`)
adds the submissions and their state machine on top.

The first write that fails (disk full, I/O error, the server gone) is remembered in `failed`:
the run sends nothing more, and `Ledger.begin` refuses new intents by itself.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any, Self

from shotc.run.errors import LocalIOError, redact_url
from shotc.run.ledger_db import Connection, Database, Row, is_postgres_url
from shotc.run.ledger_schema import Download, Upload
from shotc.run.ledger_sqlite import SqliteDatabase

LEDGER_DIR = ".shotc"
LEDGER_NAME = "ledger.sqlite"


class LedgerWriteFailed(LocalIOError):
    """A change could not be committed (disk full, I/O error, locked for too long). Nothing may
    be sent after it: a task id the ledger cannot record would live only in memory."""


class LedgerConflict(LocalIOError):
    """A change broke a constraint (a task id the ledger already holds for another row)."""


def upsert(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    """INSERT of one row that replaces the row with the same key: the spelling of SQLite's
    INSERT OR REPLACE that both dialects take (the key is each such table's only unique
    constraint, and no table references these rows, so the two mean the same)."""
    marks = ", ".join("?" for _ in columns)
    kept = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {kept}"
    )


_DOWNLOAD_COLUMNS = ("submission_id", "path", "sha256", "size", "mtime_ns", "downloaded_at")
_UPLOAD_COLUMNS = ("sha256", "base", "url", "name", "size", "uploaded_at", "expires_at")


class LedgerStore:
    """`where`: the SQLite file, or a `postgresql://` (`postgres://`) URL. `root`: the
    project directory, which scripts and downloads are stored relative to so the project can
    move; for a file it defaults to the directory holding `.shotc/` (else the file's own),
    for a URL it must be given (a database has no directory, and a guess such as the current
    one would file paths under the wrong project)."""

    def __init__(self, where: Path | str, *, root: Path | None = None) -> None:
        self._lock = threading.RLock()
        self.failed: LedgerWriteFailed | None = None
        self._db: Database
        if isinstance(where, str):
            if not is_postgres_url(where):
                raise LocalIOError(f"ledger {redact_url(where)}: not a postgresql:// URL")
            if root is None:
                raise ValueError("a PostgreSQL ledger needs root=, its project directory")
            self.root = root.resolve()
            # The ledger's home on this machine (see `shotc.run.ledger_location`): no file,
            # but the key commands group scenes by and the directory of what is this
            # machine's own (the recovery file). Never to be opened as a SQLite ledger.
            self.path = self.root / LEDGER_DIR / LEDGER_NAME
            from shotc.run.ledger_pg import PgDatabase  # psycopg only for a PostgreSQL ledger

            self._db = PgDatabase(where, self.path.parent)
            self.home = self.path
        else:
            self.path = where
            given_root = root
            if root is None:
                root = where.parent.parent if where.parent.name == LEDGER_DIR else where.parent
            self.root = root.resolve()
            # One SQLite file shared by projects (SHOTC_LEDGER): this project's home is its own.
            self.home = where if given_root is None else self.root / LEDGER_DIR / LEDGER_NAME
            self._db = SqliteDatabase(where, self.root)
        self.label = self._db.label  # the ledger in messages (never a password)

    @property
    def backend(self) -> str:
        """`sqlite` or `postgresql`."""
        return "sqlite" if isinstance(self._db, SqliteDatabase) else "postgresql"

    def try_run_lock(self) -> AbstractContextManager[object] | None:
        """Take this ledger's run lock (one `shotc run` at a time: an flock beside a SQLite
        file; an advisory lock in the PostgreSQL database, for every machine), held until the
        returned context exits; None when another run holds it."""
        with self._lock:
            return self._db.try_run_lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def script_name(self, script: Path) -> str:
        try:
            return script.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return script.resolve().as_posix()

    def _write_failed(self, exc: Exception) -> LedgerWriteFailed:
        failure = LedgerWriteFailed(f"ledger {self.label}: {self._db.why(exc)}")
        if self.failed is None:
            self.failed = failure
        return failure

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        db = self._db
        with self._lock:
            try:
                conn = db.begin()
            except db.error as exc:
                raise self._write_failed(exc) from None
            try:
                yield conn
            except BaseException as exc:
                # SQLite may have rolled back on its own already (disk full, I/O error); a
                # PostgreSQL server may be gone.
                with suppress(db.error):
                    db.rollback()
                if isinstance(exc, db.conflict):
                    # A constraint (a task id the ledger already holds): this change only.
                    raise LedgerConflict(f"ledger {self.label}: {db.why(exc)}") from None
                if isinstance(exc, db.error):
                    # A failing disk or server: a ledger failure like any other, never a
                    # traceback.
                    raise self._write_failed(exc) from None
                raise
            try:
                db.commit()
            except db.error as exc:
                with suppress(db.error):
                    db.rollback()
                raise self._write_failed(exc) from None

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> Sequence[Row]:
        with self._lock:
            try:
                return self._db.query(sql, args)
            except self._db.error as exc:
                raise LocalIOError(f"ledger {self.label}: {self._db.why(exc)}") from None

    def _event(
        self, conn: Connection, sid: int, old: str | None, new: str, detail: str | None
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

    def _repath(self, conn: Connection, old: str, new: str) -> None:
        """Every download recorded at stored path `old` is now at `new`; a record already at
        `new` for the same submission gives way (SQLite's UPDATE OR REPLACE, in words both
        dialects take)."""
        if old == new:
            return
        conn.execute(
            "DELETE FROM downloads WHERE path = ? AND submission_id IN "
            "(SELECT submission_id FROM downloads WHERE path = ?)",
            (new, old),
        )
        conn.execute("UPDATE downloads SET path = ? WHERE path = ?", (new, old))

    def _download(self, row: Row) -> Download:
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
                upsert("downloads", _DOWNLOAD_COLUMNS, ("submission_id", "path")),
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
            self._repath(conn, self._stored(old), self._stored(new))

    # -- uploads --------------------------------------------------------------------------

    def upload(self, sha256: str, base: str) -> Upload | None:
        rows = self._query("SELECT * FROM uploads WHERE sha256 = ? AND base = ?", (sha256, base))
        return Upload(**dict(rows[0])) if rows else None

    def record_upload(self, up: Upload) -> None:
        with self._tx() as conn:
            conn.execute(
                upsert("uploads", _UPLOAD_COLUMNS, ("sha256", "base")),
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
