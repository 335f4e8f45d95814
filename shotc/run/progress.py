"""Run stage: progress on stderr, one row per scene with its state and elapsed time.

On a terminal (`shotc.terminal.interactive`) the rows are a `rich` Live block redrawn in place:
no row is wider than the terminal (a long one ends in `…`), and the block is never taller than
the screen: when the scenes do not fit, the unfinished ones are shown first and the rest are
summarised on the last row ("and 9 more: 4 running, 5 done"). When the run ends the block is
replaced by the final state, every scene's row printed once, so the scrollback holds each scene
exactly once. Off a terminal (a pipe, a log, CI) each change of state is printed once as a plain
line, so logs stay readable and small. rich is imported only for a live display.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from shotc.run.planner import Job
from shotc.run.states import GOOD_OUTCOMES, Outcome
from shotc.run.untrusted import terminal
from shotc.terminal import use_colour

if TYPE_CHECKING:
    from rich.console import Console, Group
    from rich.live import Live
    from rich.text import Text

_LABEL_MAX = 32  # columns of the scene column at most; a longer label ends in `…`
_STYLES: dict[str, str] = {
    **dict.fromkeys(GOOD_OUTCOMES, "green"),
    **dict.fromkeys((Outcome.FAILED, Outcome.REFUSED, Outcome.ERROR), "red"),
}


def fmt_elapsed(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def summary_of(jobs: Sequence[Job]) -> str:
    """`4 running, 5 done`: the hidden jobs by where they stand (unfinished ones are running)."""
    counts: Counter[str] = Counter()
    for job in jobs:
        if not job.outcome:
            counts[Outcome.RUNNING] += 1
        elif job.outcome == Outcome.CACHED:
            counts[Outcome.DONE] += 1
        else:
            counts[job.outcome] += 1
    first = [Outcome.RUNNING, Outcome.DONE]
    order = [*first, *sorted(set(counts) - set(first))]
    return ", ".join(f"{counts[what]} {what}" for what in order if counts[what])


def visible(jobs: Sequence[Job], rows: int) -> tuple[list[Job], list[Job]]:
    """(shown, hidden) for a block of at most `rows` rows: every job when they fit; otherwise
    rows - 1 of them, the unfinished first, in their order, and a summary row for the rest."""
    if len(jobs) <= rows:
        return list(jobs), []
    room = max(0, rows - 1)
    unfinished = [j for j in jobs if not j.outcome]
    finished = sorted((j for j in jobs if j.outcome), key=lambda j: -j.ended)
    chosen = {id(j) for j in [*unfinished, *finished][:room]}
    shown = [j for j in jobs if id(j) in chosen]
    return shown, [j for j in jobs if id(j) not in chosen]


class Progress:
    def __init__(self, stream: TextIO, *, live: bool, quiet: bool = False) -> None:
        self._stream = stream
        self._live = live and not quiet
        self._quiet = quiet
        # Reentrant: the Ctrl-C handler writes from the main thread, which may be inside
        # refresh() holding this lock when the signal arrives.
        self._lock = threading.RLock()
        self._t0 = time.monotonic()
        self._console: Console | None = None
        self._display: Live | None = None

    @property
    def live(self) -> bool:
        return self._live

    def say(self, text: str) -> None:
        """A message outside the per-scene rows (a warning, the reason for a halt)."""
        with self._lock:
            if self._display is not None and self._console is not None:
                from rich.text import Text

                self._console.print(
                    Text(terminal(text, keep_newlines=True))
                )  # above the live block
                return
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
        with self._lock:
            display = self._start()
            display.update(self._block(jobs, time.monotonic()), refresh=True)

    def finish(self, jobs: Sequence[Job]) -> None:
        """Replace the live block by the final state: every scene's row, once."""
        if not self._live:
            return
        with self._lock:
            console = self._start_console()
            if self._display is not None:
                self._display.update("", refresh=True)
                self._display.stop()
                self._display = None
            now = time.monotonic()
            width = _label_width(jobs)
            for job in jobs:
                console.print(self._row(job, now, width))

    # -- rendering ------------------------------------------------------------------------

    def _start_console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            colour = use_colour(self._stream)
            self._console = Console(
                file=self._stream,
                force_terminal=True,
                color_system="standard" if colour else None,
                no_color=not colour,
                highlight=False,
                emoji=False,
                markup=False,
                soft_wrap=False,
            )
        return self._console

    def _start(self) -> Live:
        if self._display is None:
            from rich.live import Live

            self._display = Live(
                console=self._start_console(),
                auto_refresh=False,  # the orchestrator's loop refreshes a few times a second
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
                vertical_overflow="crop",
            )
            self._display.start()
        return self._display

    def _block(self, jobs: Sequence[Job], now: float) -> Group:
        from rich.console import Group
        from rich.text import Text

        console = self._start_console()
        # One row short of the screen: a block as tall as the screen would scroll when the
        # cursor moves below it, leaving a stale copy of its first row behind.
        shown, hidden = visible(jobs, max(1, console.size.height - 1))
        width = _label_width(shown)
        rows = [self._row(job, now, width) for job in shown]
        if hidden:
            rows.append(self._fit(Text(f"and {len(hidden)} more: {summary_of(hidden)}")))
        return Group(*rows)

    def _row(self, job: Job, now: float, label_width: int) -> Text:
        from rich.text import Text

        end = job.ended or now
        elapsed = fmt_elapsed(end - job.started) if job.started else "-"
        label = job.label if len(job.label) <= label_width else job.label[: label_width - 1] + "…"
        row = Text(terminal(f"{label:<{label_width}}  "))
        row.append(f"{job.status:<12}", style=_STYLES.get(job.status, "yellow"))
        row.append(terminal(f" {elapsed:>8}  {job.message}".rstrip()))
        return self._fit(row)

    def _fit(self, row: Text) -> Text:
        width = max(1, self._start_console().size.width - 1)  # never the last column: no wrap
        row.no_wrap = True
        row.truncate(width, overflow="ellipsis")
        return row


def _label_width(jobs: Sequence[Job]) -> int:
    return min(_LABEL_MAX, max((len(j.label) for j in jobs), default=8))
