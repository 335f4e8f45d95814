"""Run stage: the ledger, a SQLite file that remembers every upload, submission and download.

WAL journal, `synchronous=FULL`, one transaction per state change (with an `events` row), so
the intent committed before a POST and the task id committed after it survive a crash, a
Ctrl-C or a power cut. One connection shared by the run's threads behind a lock: each change
is a few rows, far cheaper than the HTTP call around it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shotc.run.errors import LocalIOError
from shotc.run.ledger_schema import (
    ABANDONED,
    KIE_STATES,
    NOT_SENT,
    RESUBMITTABLE,
    RETRYING,
    SENDING,
    SUCCESS,
    TRANSITIONS,
    UNKNOWN,
    Download,
    Event,
    Submission,
    Upload,
    migrate,
)

LEDGER_DIR = ".shotc"
LEDGER_NAME = "ledger.sqlite"


class TransitionError(LocalIOError):
    """A state change the state machine forbids: a bug, never silently applied."""


def _urls(row: sqlite3.Row) -> list[str]:
    return list(json.loads(row["result_urls"])) if row["result_urls"] else []


def ledger_path_for(script: Path) -> Path:
    return script.resolve().parent / LEDGER_DIR / LEDGER_NAME


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        # The project directory: scripts are stored relative to it so the project can move.
        self.root = path.parent.parent if path.parent.name == LEDGER_DIR else path.parent
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            migrate(self._conn)
        except (OSError, sqlite3.Error, ValueError) as exc:
            raise LocalIOError(f"ledger {path}: {exc}") from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def script_name(self, script: Path) -> str:
        try:
            return script.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return script.resolve().as_posix()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise LocalIOError(f"ledger {self.path}: {exc}") from None
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise LocalIOError(f"ledger {self.path}: {exc}") from None

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise LocalIOError(f"ledger {self.path}: {exc}") from None

    # -- reading ----------------------------------------------------------------------------

    def get(self, submission_id: int) -> Submission:
        rows = self._query("SELECT * FROM submissions WHERE id = ?", (submission_id,))
        if not rows:
            raise LocalIOError(f"ledger has no submission {submission_id}")
        return Submission.from_row(rows[0])

    def latest(self, scene_key: str, take: int) -> Submission | None:
        rows = self._query(
            "SELECT * FROM submissions WHERE scene_key = ? AND take = ? ORDER BY id DESC LIMIT 1",
            (scene_key, take),
        )
        return Submission.from_row(rows[0]) if rows else None

    def scene_history(self, script: str, scene_id: str) -> list[Submission]:
        rows = self._query(
            "SELECT * FROM submissions WHERE script = ? AND scene_id = ? ORDER BY id",
            (script, scene_id),
        )
        return [Submission.from_row(r) for r in rows]

    def all_latest(self, scripts: list[str] | None = None) -> list[Submission]:
        """The latest attempt of every (scene key, take), oldest first; optionally only
        those submitted from the given scripts."""
        rows = self._query(
            "SELECT * FROM submissions WHERE id IN "
            "(SELECT MAX(id) FROM submissions GROUP BY scene_key, take) ORDER BY id"
        )
        subs = [Submission.from_row(r) for r in rows]
        return [s for s in subs if scripts is None or s.script in scripts]

    def events(self, submission_id: int) -> list[Event]:
        rows = self._query(
            "SELECT submission_id, at, from_state, to_state, detail FROM events "
            "WHERE submission_id = ? ORDER BY id",
            (submission_id,),
        )
        return [Event(**dict(r)) for r in rows]

    # -- state changes: one transaction each ---------------------------------------------

    def _event(
        self, conn: sqlite3.Connection, sid: int, old: str | None, new: str, detail: str | None
    ) -> None:
        conn.execute(
            "INSERT INTO events (submission_id, at, from_state, to_state, detail) "
            "VALUES (?, ?, ?, ?, ?)",
            (sid, time.time(), old, new, detail),
        )

    def begin(
        self,
        *,
        scene_key: str,
        take: int,
        script: str,
        scene_id: str,
        film_title: str,
        request: str,
        seconds: int,
        mode: str,
        sound: bool,
        est_credits: float,
        replaces_unknown: int | None = None,
    ) -> Submission:
        """Commit the intent to submit (state `sending`, first attempt) just before the POST.

        `replaces_unknown` abandons that `unknown` attempt in the same transaction, so the
        user's --resubmit-unknown is recorded exactly when the new attempt is."""
        now = time.time()
        with self._tx() as conn:
            live = conn.execute(
                "SELECT id, state FROM submissions WHERE scene_key = ? AND take = ? "
                "ORDER BY id DESC LIMIT 1",
                (scene_key, take),
            ).fetchone()
            if replaces_unknown is not None:
                if live is None or live["id"] != replaces_unknown or live["state"] != UNKNOWN:
                    raise TransitionError(f"submission {replaces_unknown} is not the unknown one")
                self._set_state(conn, replaces_unknown, UNKNOWN, ABANDONED, "resubmit-unknown")
            elif live is not None and live["state"] not in RESUBMITTABLE:
                raise TransitionError(
                    f"scene {scene_id} take {take} already has a live submission "
                    f"({live['state']}); refusing to send it twice"
                )
            cur = conn.execute(
                "INSERT INTO submissions (scene_key, take, script, scene_id, film_title, state,"
                " request, seconds, mode, sound, est_credits, attempts, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                (
                    scene_key,
                    take,
                    script,
                    scene_id,
                    film_title,
                    SENDING,
                    request,
                    seconds,
                    mode,
                    int(sound),
                    est_credits,
                    now,
                    now,
                ),
            )
            sid = int(cur.lastrowid or 0)
            self._event(conn, sid, None, SENDING, None)
        return self.get(sid)

    def _set_state(
        self,
        conn: sqlite3.Connection,
        sid: int,
        expected: str | None,
        new: str,
        detail: str | None,
        **fields: Any,
    ) -> str:
        row = conn.execute("SELECT state FROM submissions WHERE id = ?", (sid,)).fetchone()
        if row is None:
            raise TransitionError(f"no submission {sid}")
        old = str(row["state"])
        if expected is not None and old != expected:
            raise TransitionError(f"submission {sid} is {old}, expected {expected}")
        if new != old and new not in TRANSITIONS[old]:
            raise TransitionError(f"submission {sid}: {old} -> {new} is not allowed")
        fields["state"] = new
        fields["updated_at"] = time.time()
        cols = ", ".join(f"{k} = ?" for k in fields)
        conn.execute(f"UPDATE submissions SET {cols} WHERE id = ?", (*fields.values(), sid))
        if new != old or detail:
            self._event(conn, sid, old, new, detail)
        return old

    def attempt(self, sid: int) -> None:
        """Another POST is about to go out after a retryable refusal: back to `sending`."""
        with self._tx() as conn:
            self._set_state(conn, sid, RETRYING, SENDING, None)
            conn.execute("UPDATE submissions SET attempts = attempts + 1 WHERE id = ?", (sid,))

    def created(self, sid: int, task_id: str) -> None:
        """The answer came: commit the task id (state `waiting`)."""
        now = time.time()
        with self._tx() as conn:
            self._set_state(
                conn,
                sid,
                SENDING,
                "waiting",
                task_id,
                task_id=task_id,
                submitted_at=now,
                error=None,
            )

    def retrying(self, sid: int, reason: str) -> None:
        with self._tx() as conn:
            self._set_state(conn, sid, SENDING, RETRYING, reason, error=reason)

    def not_sent(self, sid: int, reason: str) -> None:
        with self._tx() as conn:
            self._set_state(
                conn, sid, None, NOT_SENT, reason, error=reason, finished_at=time.time()
            )

    def unknown(self, sid: int, reason: str) -> None:
        with self._tx() as conn:
            self._set_state(conn, sid, SENDING, UNKNOWN, reason, error=reason)

    def remote(
        self,
        sid: int,
        state: str,
        *,
        result_urls: list[str] | None = None,
        fail_code: str | None = None,
        fail_msg: str | None = None,
        cost_time_ms: int | None = None,
    ) -> bool:
        """Record a state read from recordInfo; whether it changed anything. The only change
        to a `success` row is result URLs filled in where it has none (an older shotc recorded
        `success` before kie.ai had filled in resultJson)."""
        if state not in KIE_STATES:
            raise TransitionError(f"kie.ai state {state!r} is not one this ledger knows")
        with self._tx() as conn:
            row = conn.execute(
                "SELECT state, result_urls FROM submissions WHERE id = ?", (sid,)
            ).fetchone()
            if row is None:
                raise TransitionError(f"no submission {sid}")
            if row["state"] == SUCCESS == state and result_urls and not _urls(row):
                urls = json.dumps(result_urls)
                conn.execute("UPDATE submissions SET result_urls = ? WHERE id = ?", (urls, sid))
                self._event(conn, sid, SUCCESS, SUCCESS, "result URLs")
                return True
            if row["state"] == state:
                return False
            fields: dict[str, Any] = {}
            if state in ("success", "fail"):
                fields["finished_at"] = time.time()
                fields["result_urls"] = json.dumps(result_urls or [])
                fields["fail_code"] = fail_code
                fields["fail_msg"] = fail_msg
                fields["cost_time_ms"] = cost_time_ms
            detail = f"{fail_code}: {fail_msg}" if state == "fail" else None
            self._set_state(conn, sid, None, state, detail, **fields)
            return True

    def recover(self) -> list[Submission]:
        """After a crash (call with the run lock held): an attempt left `sending` may have
        reached kie.ai, so it becomes `unknown`; one left `retrying` created nothing."""
        changed: list[int] = []
        with self._tx() as conn:
            for row in conn.execute(
                "SELECT id, state FROM submissions WHERE state IN (?, ?)", (SENDING, RETRYING)
            ).fetchall():
                if row["state"] == SENDING:
                    self._set_state(
                        conn,
                        row["id"],
                        SENDING,
                        UNKNOWN,
                        "interrupted mid-POST",
                        error="the run stopped before the answer was recorded",
                    )
                else:
                    self._set_state(
                        conn,
                        row["id"],
                        RETRYING,
                        NOT_SENT,
                        "interrupted",
                        error="the run stopped between attempts",
                    )
                changed.append(int(row["id"]))
        return [self.get(i) for i in changed]

    # -- downloads ------------------------------------------------------------------------

    def record_download(self, sid: int, path: Path, sha256: str, size: int) -> None:
        mtime_ns = os.stat(path).st_mtime_ns
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO downloads VALUES (?, ?, ?, ?, ?, ?)",
                (sid, str(path), sha256, size, mtime_ns, time.time()),
            )
            self._event(conn, sid, None, "downloaded", str(path))

    def downloads(self, sid: int) -> list[Download]:
        rows = self._query("SELECT * FROM downloads WHERE submission_id = ?", (sid,))
        return [Download(**dict(r)) for r in rows]

    def downloads_at(self, path: Path) -> list[Download]:
        rows = self._query("SELECT * FROM downloads WHERE path = ?", (str(path),))
        return [Download(**dict(r)) for r in rows]

    def move_download(self, old: Path, new: Path) -> None:
        """A recorded file was set aside (renamed) to make room: follow it."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE OR REPLACE downloads SET path = ? WHERE path = ?", (str(new), str(old))
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
