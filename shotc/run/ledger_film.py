"""Run stage: the ledger's records for the film (film.md): the cut's picks, each submission's
version, and the journal of clip files moved into the film layout.

A mixin on `LedgerStore` that `Ledger` inherits, kept apart from the submissions' state
machine (`shotc.run.ledger`) and the file and upload records (`shotc.run.ledger_store`). The
tables are made by migration V4 (`shotc.run.ledger_schema`).
"""

from __future__ import annotations

import time
from pathlib import Path

from shotc.run.ledger_db import Row
from shotc.run.ledger_schema import Move, Pick, Submission
from shotc.run.ledger_store import LedgerStore, upsert

_PICK_COLUMNS = ("script", "scene_id", "version", "take", "mode", "picked_at")


class FilmRecords(LedgerStore):
    # -- versions -------------------------------------------------------------------------

    def version_history(self, script: str, versions: list[str]) -> list[Submission]:
        """The latest attempt of every (scene key, take) of these versions of `script`'s
        scenes, oldest first (whatever scene id they were sent under: a renamed scene keeps
        its takes)."""
        if not versions:
            return []
        marks = ", ".join("?" for _ in versions)
        rows = self._query(
            "SELECT * FROM submissions WHERE id IN (SELECT MAX(id) FROM submissions "
            f"WHERE script = ? AND version IN ({marks}) GROUP BY scene_key, take) ORDER BY id",
            (script, *versions),
        )
        return [Submission.from_row(r) for r in rows]

    def scene_latest(self, script: str, scene_ids: list[str]) -> list[Submission]:
        """The latest attempt of every (scene key, take) ever sent under these scene ids."""
        if not scene_ids:
            return []
        marks = ", ".join("?" for _ in scene_ids)
        rows = self._query(
            "SELECT * FROM submissions WHERE id IN (SELECT MAX(id) FROM submissions "
            f"WHERE script = ? AND scene_id IN ({marks}) GROUP BY scene_key, take) ORDER BY id",
            (script, *scene_ids),
        )
        return [Submission.from_row(r) for r in rows]

    # -- picks ----------------------------------------------------------------------------

    def picks(self, script: str) -> dict[str, Pick]:
        """Every pick of `script`'s scenes, by scene id."""
        rows = self._query("SELECT * FROM picks WHERE script = ?", (script,))
        return {str(r["scene_id"]): Pick(**dict(r)) for r in rows}

    def record_pick(self, script: str, scene_id: str, version: str, take: int, mode: str) -> Pick:
        """The cut uses this take for this scene from now on (the previous pick is replaced;
        the change is kept as an event of the take's submission when there is one)."""
        now = time.time()
        with self._tx() as conn:
            conn.execute(
                upsert("picks", _PICK_COLUMNS, ("script", "scene_id")),
                (script, scene_id, version, take, mode, now),
            )
            row = conn.execute(
                "SELECT id FROM submissions WHERE script = ? AND version = ? AND take = ? "
                "AND mode = ? ORDER BY id DESC LIMIT 1",
                (script, version, take, mode),
            ).fetchone()
            if row is not None:
                self._event(conn, int(row["id"]), None, "picked", f"{scene_id} take {take}")
        return Pick(script, scene_id, version, take, mode, now)

    # -- moves into the film layout --------------------------------------------------------

    def _move(self, row: Row) -> Move:
        fields = dict(row)
        fields["old_path"] = str(self.root / fields["old_path"])
        fields["new_path"] = str(self.root / fields["new_path"])
        return Move(**fields)

    def plan_move(self, submission_id: int | None, old: Path, new: Path) -> Move:
        """Journal a rename before it happens (see `finish_move`)."""
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO moves (submission_id, old_path, new_path, planned_at) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                (submission_id, self._stored(old), self._stored(new), time.time()),
            )
            mid = int(cur.fetchall()[0]["id"])
        return self._move(self._query("SELECT * FROM moves WHERE id = ?", (mid,))[0])

    def finish_move(self, move: Move, *, moved: bool = True) -> None:
        """The rename happened: every download recorded at the old path is now at the new one
        (in the same transaction as the journal's mark). `moved=False`: it did not happen
        (the journal entry is closed, the downloads keep their path)."""
        old, new = self._stored(Path(move.old_path)), self._stored(Path(move.new_path))
        with self._tx() as conn:
            if moved:
                self._repath(conn, old, new)
            conn.execute("UPDATE moves SET done_at = ? WHERE id = ?", (time.time(), move.id))
            if move.submission_id is not None and moved:
                self._event(conn, move.submission_id, None, "moved", f"{old} -> {new}")

    def unfinished_moves(self) -> list[Move]:
        rows = self._query("SELECT * FROM moves WHERE done_at IS NULL ORDER BY id")
        return [self._move(r) for r in rows]

    def moves(self) -> list[Move]:
        return [self._move(r) for r in self._query("SELECT * FROM moves ORDER BY id")]
