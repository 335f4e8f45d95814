"""Run stage: progress on stderr, one line per scene with its state and elapsed time.

On a terminal the lines are redrawn in place a few times a second; otherwise (a pipe, a log,
CI) each change of state is printed once as a plain line, so logs stay readable and small.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Sequence
from typing import TextIO

from shotc.run.planner import Job
from shotc.run.untrusted import terminal


def fmt_elapsed(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    def __init__(self, stream: TextIO, *, live: bool, quiet: bool = False) -> None:
        self._stream = stream
        self._live = live and not quiet
        self._quiet = quiet
        # Reentrant: the Ctrl-C handler writes from the main thread, which may be inside
        # refresh() holding this lock when the signal arrives.
        self._lock = threading.RLock()
        self._drawn = 0
        self._t0 = time.monotonic()

    @property
    def live(self) -> bool:
        return self._live

    def say(self, text: str) -> None:
        """A message outside the per-scene lines (a warning, the reason for a halt)."""
        with self._lock:
            self._clear()
            self._stream.write(terminal(text, keep_newlines=True) + "\n")
            self._stream.flush()

    def update(self, job: Job, status: str, detail: str = "") -> None:
        """Called by workers on each change of state."""
        job.status = status
        if detail:
            job.message = detail
        if self._live or self._quiet:
            return
        elapsed = fmt_elapsed(time.monotonic() - (job.started or self._t0))
        line = f"{job.label}: {status} ({elapsed})" + (f" {detail}" if detail else "")
        with self._lock:
            self._stream.write(terminal(line) + "\n")
            self._stream.flush()

    def refresh(self, jobs: Sequence[Job]) -> None:
        if not self._live:
            return
        now = time.monotonic()
        width = max(20, shutil.get_terminal_size((100, 24)).columns - 1)
        height = max(3, shutil.get_terminal_size((100, 24)).lines - 2)
        lines = []
        label_w = min(32, max((len(j.label) for j in jobs), default=8))
        for job in jobs:
            end = job.ended or now
            elapsed = fmt_elapsed(end - job.started) if job.started else "-"
            text = f"{job.label:<{label_w}}  {job.status:<12} {elapsed:>8}  {job.message}"
            lines.append(terminal(text)[:width])
        if len(lines) > height:
            hidden = len(lines) - height + 1
            lines = [*lines[: height - 1], f"... and {hidden} more"]
        with self._lock:
            self._clear()
            self._stream.write("\n".join(lines) + "\n")
            self._stream.flush()
            self._drawn = len(lines)

    def _clear(self) -> None:
        if self._drawn:
            self._stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def finish(self, jobs: Sequence[Job]) -> None:
        """Leave the final state of every line on screen."""
        if self._live:
            self.refresh(jobs)
            self._drawn = 0
