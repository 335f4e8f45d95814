"""Run stage: who holds each attempt in a ledger shared by several machines (cli.md promise
11, migration V6), a mixin on `LedgerStore` that `Ledger` inherits.

Each checkout of a project is one *owner*: a random id kept in `.shotc/machine-id` beside the
ledger's home, made on the first write. An attempt (a submission row) names its owner and a
lease: while the lease runs, the owner answers for the attempt and no other machine touches
it; the owner renews it at each step (intent, POST, retry). When the lease has passed without
a word, the owner is taken for dead, and whoever looks next settles the attempt as the owner's
own next run would have: `not_sent` when its POST never left (`posted_at` empty: nothing can
exist at kie.ai), `unknown` when it may have. Then the scene is free to be sent again (for
`unknown`, only with --resubmit-unknown, as always).

A SQLite ledger is used by one `run` at a time (its run lock sits beside the file, whoever
opens it), so there every leftover attempt is a crash's and `recover` settles them all; on
PostgreSQL, runs of several machines overlap and each settles only its own.
"""

from __future__ import annotations

import os
import secrets
import time
from contextlib import suppress

from shotc.run.config import CLAIM_LEASE
from shotc.run.ledger_db import Connection
from shotc.run.ledger_schema import NOT_SENT, RETRYING, SENDING, UNKNOWN
from shotc.run.ledger_store import LedgerStore

MACHINE_ID = "machine-id"


class ClaimedElsewhere(Exception):
    """Another machine holds a live attempt at this scene and take: follow it, do not send."""

    def __init__(self, submission_id: int, owner: str | None) -> None:
        super().__init__(f"submission {submission_id} is held by {owner or 'another run'}")
        self.submission_id = submission_id
        self.owner = owner


class ClaimRecords(LedgerStore):
    _owner: str | None = None

    @property
    def exclusive(self) -> bool:
        """Whether this ledger's run lock excludes every other run of it (SQLite: the lock is
        beside the file), so that any attempt left live is a crash's leftover."""
        return self.backend == "sqlite"

    def machine_id(self, *, create: bool = True) -> str | None:
        """This checkout's owner id (made on first use when `create`; else None if none)."""
        if self._owner is None:
            path = self.home.parent / MACHINE_ID
            with suppress(OSError):
                self._owner = path.read_text(encoding="ascii").strip() or None
            if self._owner is None and create:
                made = secrets.token_hex(8)
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{MACHINE_ID}.{made}")
                tmp.write_text(made + "\n", encoding="ascii")
                try:
                    with suppress(FileExistsError):  # another process made one first: theirs
                        os.link(tmp, path)
                finally:
                    with suppress(OSError):
                        tmp.unlink()
                self._owner = path.read_text(encoding="ascii").strip()
        return self._owner

    def mine(self, owner: str | None) -> bool:
        """Whether an attempt is this checkout's to settle after a crash (rows from before V6
        have no owner: a single user's)."""
        return self.exclusive or owner is None or owner == self.machine_id(create=False)

    def posting(self, sid: int, lease: float = CLAIM_LEASE) -> bool:
        """The POST leaves now: from here the attempt may create a task. False when the
        claim is no longer ours (another machine took this run for silent and settled the
        attempt): then the POST must not leave."""
        now = time.time()
        with self._tx() as conn:
            held = conn.execute(
                "UPDATE submissions SET posted_at = ?, lease_until = ? "
                "WHERE id = ? AND state = ? RETURNING id",
                (now, now + lease, sid, SENDING),
            ).fetchall()
        return bool(held)

    def renew_leases(self, lease: float = CLAIM_LEASE) -> None:
        """The heartbeat of a live run: every live attempt this checkout holds is answered for
        a lease longer (one run per checkout, so they are all this run's)."""
        owner = self.machine_id(create=False)
        if owner is None:
            return
        with self._tx() as conn:
            conn.execute(
                "UPDATE submissions SET lease_until = ? WHERE owner = ? AND state IN (?, ?)",
                (time.time() + lease, owner, SENDING, RETRYING),
            )

    def _renew(self, conn: Connection, sid: int, lease: float, *, posted: bool) -> None:
        now = time.time()
        conn.execute(
            "UPDATE submissions SET lease_until = ?"
            + ("" if posted else ", posted_at = NULL")
            + " WHERE id = ?",
            (now + lease, sid),
        )

    def _expire(self, conn: Connection, where: str, args: tuple[object, ...]) -> list[int]:
        """Settle the live attempts matching `where` whose owner's lease has passed; their ids."""
        rows = conn.execute(
            "SELECT id, state, posted_at, owner FROM submissions "
            f"WHERE state IN (?, ?) AND lease_until IS NOT NULL AND lease_until < ? AND {where}",
            (SENDING, RETRYING, time.time(), *args),
        ).fetchall()
        settled = []
        for row in rows:
            if row["owner"] == self.machine_id(create=False):
                continue  # ours: our own `recover` says what became of it
            posted = row["state"] == SENDING and row["posted_at"] is not None
            new = UNKNOWN if posted else NOT_SENT
            why = f"its owner ({row['owner']}) went silent " + (
                "mid-POST: the task may exist" if posted else "before its POST"
            )
            self._set_state(conn, int(row["id"]), None, new, why, error=why)
            settled.append(int(row["id"]))
        return settled

    def expire_silent(self, sid: int) -> bool:
        """Settle attempt `sid` if its owner's lease has passed; whether it was."""
        with self._tx() as conn:
            return bool(self._expire(conn, "id = ?", (sid,)))

    # Provided by `Ledger` (the state machine), declared here for the type checker.
    def _set_state(
        self,
        conn: Connection,
        sid: int,
        expected: str | None,
        new: str,
        detail: str | None,
        current: str | None = None,
        **fields: object,
    ) -> str:
        raise NotImplementedError
