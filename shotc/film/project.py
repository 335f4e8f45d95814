"""Film stage: one script's project as `cut`, `review` and `prune` see it: its compiled
scenes, its ledger (opened if there is one: a project never run has no takes, and these
commands never create a ledger) and its render directory. Which clip is in the cut, the takes
of each version and the picks come from `shotc.film.takes` (the same code as `status` and
`pick`); this module only puts them in the shape each command needs.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from shotc.film.cut import CutEntry
from shotc.film.prune import KnownFile
from shotc.film.script import CompiledScript
from shotc.film.takes import SceneTakes, cut_entries, record_pick, scene_takes
from shotc.run.ledger import Ledger, ledger_path_for
from shotc.run.ledger_open import open_ledger
from shotc.run.planner import output_dir
from shotc.run.scene_key import DigestCache


@dataclass(frozen=True, slots=True)
class TakeView:
    take: int
    mode: str
    task_id: str | None
    path: Path | None  # None until the clip is on disk
    state: str  # done, running, failed, ...
    draft: bool
    in_cut: bool


@dataclass(frozen=True, slots=True)
class SceneView:
    state: str  # new, running, done, failed, changed, unknown, ...
    elapsed: float | None  # seconds since the running take was submitted
    reason: str | None  # why the latest take failed
    takes: tuple[TakeView, ...]


class FilmProject:
    def __init__(self, script: CompiledScript, ledger: Ledger | None) -> None:
        self.script = script
        self.ledger = ledger
        self.render_dir = output_dir(script.path, None)
        self.digest = DigestCache()
        self._takes: list[SceneTakes] | None = None

    @classmethod
    @contextlib.contextmanager
    def open(cls, script: CompiledScript) -> Iterator[Self]:
        from shotc.run.config import find_config, load_config  # the ledger may be configured

        setting = load_config(find_config(None, [script.path])).ledger
        ledger = open_ledger(ledger_path_for(script.path), create=False, setting=setting)
        try:
            yield cls(script, ledger)
        finally:
            if ledger is not None:
                ledger.close()

    @contextlib.contextmanager
    def no_run(self) -> Iterator[bool]:
        """Hold the project's run lock (False: a `run` holds it)."""
        if self.ledger is None:
            yield True
            return
        from shotc.run.commands import run_lock

        with run_lock([self.ledger]) as free:
            yield free

    # -- what the takes module tells ---------------------------------------------------------

    def takes(self) -> list[SceneTakes]:
        """Every scene with its takes (read once per FilmProject: one command, one poll)."""
        if self._takes is None:
            compiled = [s.compiled for s in self.script.scenes]
            self._takes = scene_takes(compiled, self.ledger, digest=self.digest)
        return self._takes

    def cut(self, *, drafts: bool) -> list[CutEntry]:
        return cut_entries(self.takes(), drafts=drafts)

    def review_scenes(self) -> dict[str, SceneView]:
        """Per scene id: its state, and its current version's takes (own mode, then drafts)
        with the one in the cut marked (a draft is marked only when it was picked)."""
        out: dict[str, SceneView] = {}
        now = time.time()
        for st in self.takes():
            chosen = st.chosen(drafts=False)
            views = tuple(
                TakeView(
                    t.take,
                    t.mode,
                    t.task_id,
                    t.path,
                    t.state,
                    t.draft,
                    chosen is not None and t.submission_id == chosen.submission_id,
                )
                for t in st.current
            )
            state, elapsed, reason = st.state, None, None
            own = st.own
            if state == "running" and self.ledger is not None:
                running = next(t for t in own if t.state == "running")
                sub = self.ledger.get(running.submission_id)
                since = sub.submitted_at or sub.created_at
                elapsed = max(0.0, now - since)
            elif state == "failed":
                reason = next((t.reason for t in own if t.state == "failed" and t.reason), None)
            out[st.scene_id] = SceneView(state, elapsed, reason, views)
        return out

    def pick(self, scene: str, take: int, mode: str | None) -> None:
        """Record a pick as `shotc pick` does (PickError when refused)."""
        compiled = [s.compiled for s in self.script.scenes]
        record_pick(compiled, self.ledger, scene, take, mode, digest=self.digest)
        self._takes = None

    def known_files(self) -> list[KnownFile]:
        """Every download the ledger recorded for this script's submissions."""
        if self.ledger is None:
            return []
        name = self.ledger.script_name(self.script.path)
        current = {st.version for st in self.takes()}
        out = []
        for sub in self.ledger.all_latest([name]):
            is_current = sub.version in current
            for rec in self.ledger.downloads(sub.id):
                out.append(
                    KnownFile(
                        Path(rec.path),
                        rec.sha256,
                        rec.size,
                        rec.mtime_ns,
                        sub.scene_id,
                        sub.take,
                        sub.mode,
                        is_current,
                    )
                )
        return out

    def needed_paths(self) -> set[Path]:
        """The clips no prune may delete: each current take's and the cut's (with drafts)."""
        needed = {t.path for st in self.takes() for t in st.current if t.path is not None}
        needed |= {e.path for e in self.cut(drafts=True) if e.path is not None}
        return needed
