"""Run stage: the ledger, which remembers every upload, submission and download: a SQLite file
(the default) or a PostgreSQL database shared by machines (`Ledger(where, root=...)`).

This module holds the submissions and their state machine; the store itself (backends,
transactions, migrations) and the download and upload records are in `shotc.run.ledger_store`. One
transaction per state change, with an `events` row, so the intent committed before a POST
and the task id committed after it survive a crash, a Ctrl-C or a power cut.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from shotc.run.config import CLAIM_LEASE
from shotc.run.errors import LocalIOError
from shotc.run.ledger_claims import ClaimedElsewhere, ClaimRecords
from shotc.run.ledger_db import Connection, Row
from shotc.run.ledger_film import FilmRecords
from shotc.run.ledger_frames import FrameRecords
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
    WAITING,
    Event,
    Submission,
)
from shotc.run.ledger_store import (
    LEDGER_DIR,
    LEDGER_NAME,
    LedgerConflict,
    LedgerWriteFailed,
)
from shotc.run.scene_key import version_of_canonical

__all__ = [
    "LEDGER_DIR",
    "LEDGER_NAME",
    "ClaimedElsewhere",
    "Ledger",
    "LedgerConflict",
    "LedgerWriteFailed",
    "TransitionError",
    "ledger_path_for",
]


class TransitionError(LocalIOError):
    """A state change the state machine forbids: a bug, never silently applied."""


def _urls(row: Row) -> list[str]:
    return list(json.loads(row["result_urls"])) if row["result_urls"] else []


def ledger_path_for(script: Path) -> Path:
    return script.resolve().parent / LEDGER_DIR / LEDGER_NAME


class Ledger(FilmRecords, FrameRecords, ClaimRecords):
    """Every submission and its state changes (with the files and picks it inherits)."""

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

    def _writable(self) -> None:
        """No new POST after a failed write: its answer might not be recordable either."""
        if self.failed is not None:
            raise LedgerWriteFailed(f"{self.failed} (an earlier write failed: nothing is sent)")

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
        lease: float = CLAIM_LEASE,
    ) -> Submission:
        """Commit the intent to submit (state `sending`, first attempt, this checkout its
        owner) just before the POST: the claim on this scene and take.

        `replaces_unknown` abandons that `unknown` attempt in the same transaction, so the
        user's --resubmit-unknown is recorded exactly when the new attempt is. Raises
        ClaimedElsewhere when another machine holds a live attempt at it (follow that one);
        an attempt whose owner's lease has passed is settled first (`ledger_claims`)."""
        self._writable()
        now = time.time()
        row = (
            scene_key, take, script, scene_id, film_title, SENDING, request, seconds, mode,
            int(sound), est_credits, now, now, version_of_canonical(request),
            self.machine_id(), now + lease,
        )  # fmt: skip
        try:
            return self._begin(scene_key, take, scene_id, replaces_unknown, row)
        except LedgerConflict:
            # The unique index on live attempts: another machine began it between our read
            # and our insert (possible only where writers are not serialised).
            live = self.latest(scene_key, take)
            if live is None or live.state in RESUBMITTABLE:
                raise
            raise ClaimedElsewhere(live.id, live.owner) from None

    def _begin(
        self,
        scene_key: str,
        take: int,
        scene_id: str,
        replaces_unknown: int | None,
        row: tuple[object, ...],
    ) -> Submission:
        with self._tx() as conn:
            self._expire(conn, "scene_key = ? AND take = ?", (scene_key, take))
            live = conn.execute(
                "SELECT id, state, owner FROM submissions WHERE scene_key = ? AND take = ? "
                "ORDER BY id DESC LIMIT 1",
                (scene_key, take),
            ).fetchone()
            if replaces_unknown is not None:
                if live is None or live["id"] != replaces_unknown or live["state"] != UNKNOWN:
                    raise TransitionError(f"submission {replaces_unknown} is not the unknown one")
                self._set_state(conn, replaces_unknown, UNKNOWN, ABANDONED, "resubmit-unknown")
            elif live is not None and live["state"] not in RESUBMITTABLE:
                if not self.mine(live["owner"]):
                    raise ClaimedElsewhere(int(live["id"]), live["owner"])
                raise TransitionError(
                    f"scene {scene_id} take {take} already has a live submission "
                    f"({live['state']}); refusing to send it twice"
                )
            cur = conn.execute(
                "INSERT INTO submissions (scene_key, take, script, scene_id, film_title, state,"
                " request, seconds, mode, sound, est_credits, created_at, updated_at,"
                " version, owner, lease_until, attempts)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id",
                row,
            )
            sid = int(cur.fetchall()[0]["id"])  # every row read, so the INSERT is done
            self._event(conn, sid, None, SENDING, None)
        return self.get(sid)

    def _set_state(
        self,
        conn: Connection,
        sid: int,
        expected: str | None,
        new: str,
        detail: str | None,
        current: str | None = None,
        **fields: Any,
    ) -> str:
        """`current`: the state the caller just read in this transaction (one read fewer)."""
        if current is None:
            row = conn.execute("SELECT state FROM submissions WHERE id = ?", (sid,)).fetchone()
            if row is None:
                raise TransitionError(f"no submission {sid}")
            current = str(row["state"])
        old = current
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

    def attempt(self, sid: int, lease: float = CLAIM_LEASE) -> None:
        """Another POST is about to go out after a retryable refusal: back to `sending`."""
        self._writable()
        with self._tx() as conn:
            self._set_state(conn, sid, RETRYING, SENDING, None)
            conn.execute("UPDATE submissions SET attempts = attempts + 1 WHERE id = ?", (sid,))
            self._renew(conn, sid, lease, posted=False)

    def created(self, sid: int, task_id: str) -> None:
        """The answer came: commit the task id (state `waiting`). An attempt another machine
        took for silent meanwhile (`unknown`, its lease passed) is this task all the same."""
        now = time.time()
        with self._tx() as conn:
            row = conn.execute("SELECT state FROM submissions WHERE id = ?", (sid,)).fetchone()
            if row is None:
                raise TransitionError(f"no submission {sid}")
            late = row["state"] == UNKNOWN
            self._set_state(
                conn,
                sid,
                UNKNOWN if late else SENDING,
                "waiting",
                task_id,
                current=str(row["state"]),
                task_id=task_id,
                submitted_at=now,
                error=None,
            )

    def adopt(self, sid: int, task_id: str, *, scene_key: str, take: int) -> bool:
        """Record a task id that was received but not recorded (from the recovery file);
        whether the ledger now holds it for this submission. Only a row still waiting for
        its answer (`sending`, or `unknown` after a crash) takes it; anything else is left
        alone (False) for the user to look at."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT state, task_id, scene_key, take FROM submissions WHERE id = ?", (sid,)
            ).fetchone()
            if row is None or row["scene_key"] != scene_key or row["take"] != take:
                return False
            if row["task_id"] is not None:
                return bool(row["task_id"] == task_id)
            if row["state"] not in (SENDING, UNKNOWN):
                return False
            self._set_state(
                conn,
                sid,
                None,
                WAITING,
                f"{task_id} (recovered)",
                task_id=task_id,
                submitted_at=time.time(),
                error=None,
            )
            return True

    def retrying(self, sid: int, reason: str, lease: float = CLAIM_LEASE) -> None:
        """The attempt provably created nothing; another may follow (the claim is kept)."""
        with self._tx() as conn:
            self._set_state(conn, sid, SENDING, RETRYING, reason, error=reason)
            self._renew(conn, sid, lease, posted=False)

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
            self._set_state(conn, sid, None, state, detail, current=str(row["state"]), **fields)
            return True

    def recover(self) -> list[Submission]:
        """After a crash (call with the run lock held): an attempt left `sending` whose POST
        had left may have reached kie.ai, so it becomes `unknown`; one whose POST never left,
        or left `retrying`, created nothing. Only this checkout's own attempts on a ledger
        shared with other machines' runs (theirs may be alive: `ledger_claims`)."""
        changed: list[int] = []
        with self._tx() as conn:
            for row in conn.execute(
                "SELECT id, state, owner, posted_at FROM submissions WHERE state IN (?, ?)",
                (SENDING, RETRYING),
            ).fetchall():
                if not self.mine(row["owner"]):
                    continue
                if row["state"] == SENDING and row["posted_at"] is None:
                    self._set_state(
                        conn,
                        row["id"],
                        SENDING,
                        NOT_SENT,
                        "interrupted before its POST",
                        error="the run stopped before this attempt was sent",
                    )
                elif row["state"] == SENDING:
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
