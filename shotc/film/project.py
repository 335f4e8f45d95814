"""Film stage: one script's project as `cut`, `review` and `prune` see it: its compiled
scenes, its ledger (opened if there is one: a project never run has no takes, and these
commands never create a ledger) and its render directory. Which clip is in the cut, and the
takes of each version, come from `shotc.film.takes` (the same code as `status` and `pick`);
this module only puts them in the shape each command needs.
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
from shotc.run.ledger import Ledger, ledger_path_for
from shotc.run.planner import output_dir


class PickError(Exception):
    """A pick the project refuses (no such scene, no such take); the message says why."""


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

    @classmethod
    @contextlib.contextmanager
    def open(cls, script: CompiledScript) -> Iterator[Self]:
        path = ledger_path_for(script.path)
        ledger = Ledger(path) if path.exists() else None
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

    def now(self) -> float:
        return time.time()

    # -- what the takes module tells ---------------------------------------------------------

    def cut(self, *, drafts: bool) -> list[CutEntry]:
        raise NotImplementedError("merge `takes` (shotc.film.takes.the_cut)")

    def review_scenes(self) -> dict[str, SceneView]:
        raise NotImplementedError("merge `takes`")

    def pick(self, scene: str, take: int, mode: str) -> None:
        raise NotImplementedError("merge `takes` (shotc.film.takes.record_pick)")

    def known_files(self) -> list[KnownFile]:
        raise NotImplementedError("merge `takes`")

    def needed_paths(self) -> set[Path]:
        raise NotImplementedError("merge `takes`")
