"""Run stage: the ledger's record of the last frames extracted for continuity
(`FIRST FRAME after`, language-1.1 §4), table `last_frames` (migration V5).

A mixin on `LedgerStore` that `Ledger` inherits. `shotc.run.continuity` writes a row after the
PNG is on disk and before it is uploaded, and reads it back so a frame, once used, keeps its
digest (and so the dependent scene its key).
"""

from __future__ import annotations

import time
from pathlib import Path

from shotc.run.ledger_schema import LastFrame
from shotc.run.ledger_store import LedgerStore, upsert

_COLUMNS = ("clip_sha256", "path", "sha256", "size", "script", "scene_id", "made_at")


class FrameRecords(LedgerStore):
    def last_frame(self, clip_sha256: str, path: Path) -> LastFrame | None:
        """The frame recorded for this clip content at this path, if any."""
        rows = self._query(
            "SELECT * FROM last_frames WHERE clip_sha256 = ? AND path = ?",
            (clip_sha256, self._stored(path)),
        )
        if not rows:
            return None
        fields = dict(rows[0])
        fields["path"] = str(self.root / fields["path"])  # an absolute one stays as it is
        return LastFrame(**fields)

    def record_last_frame(
        self, clip_sha256: str, path: Path, sha256: str, size: int, script: str, scene_id: str
    ) -> None:
        with self._tx() as conn:
            conn.execute(
                upsert("last_frames", _COLUMNS, ("clip_sha256", "path")),
                (clip_sha256, self._stored(path), sha256, size, script, scene_id, time.time()),
            )

    def latest_last_frame(self, script: str, scene_id: str) -> LastFrame | None:
        """The frame recorded last for a source scene of `script`: the one its dependents'
        latest takes were sent with."""
        rows = self._query(
            # made_at (time.time(), to the microsecond or better) orders one scene's frames;
            # the path only makes a tie, which never happens between two runs, deterministic.
            "SELECT * FROM last_frames WHERE script = ? AND scene_id = ?"
            " ORDER BY made_at DESC, path DESC LIMIT 1",
            (script, scene_id),
        )
        if not rows:
            return None
        fields = dict(rows[0])
        fields["path"] = str(self.root / fields["path"])
        return LastFrame(**fields)
