"""Progress display: plain lines off a terminal, a rich Live block on one that fits the screen
(checked on a pyte terminal emulator) and ends with each scene once."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest

from shotc.diagnostics import Span
from shotc.language.compiler import CompiledScene
from shotc.request.types import CreateTaskRequest
from shotc.run.planner import Job
from shotc.run.progress import Progress, fmt_elapsed, summary_of, visible
from shotc.run.states import Outcome, PlanState


def _unread() -> CreateTaskRequest:
    """An empty request for a job that is shown, never sent (nothing reads it)."""
    return cast(CreateTaskRequest, {})


def job(scene_id: str) -> Job:
    scene = CompiledScene(
        scene_id, Path("/f.shot"), "F", _unread(), 1, 5, "pro", False, Span.point("f.shot", 1, 1)
    )
    return Job(
        key="k",
        take=1,
        ledger_path=Path("/l"),
        script_name="f.shot",
        scenes=[scene],
        request=_unread(),
        canonical="{}",
        targets=[],
        mode="pro",
        sound=False,
        seconds=5,
        est_credits=1.0,
        plan_state=PlanState.NEW,
        will_send=True,
    )


def test_plain_lines_one_per_change() -> None:
    out = io.StringIO()
    progress = Progress(out, live=False)
    a = job("a")
    progress.update(a, "sending")
    progress.update(a, "waiting", "task_1")
    progress.refresh([a])  # nothing on a pipe
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("a: waiting") and "task_1" in lines[1]


class Terminal(io.StringIO):
    """What rich writes to a terminal, collected to feed a pyte screen."""

    def isatty(self) -> bool:
        return True


def screen_after(columns: int, lines: int, draw: Callable[[Progress], None]) -> list[str]:
    """The scrollback and screen, line by line, after `draw` wrote to a live display."""
    pyte = pytest.importorskip("pyte")
    out = Terminal()
    env = {"COLUMNS": str(columns), "LINES": str(lines), "NO_COLOR": "1"}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        draw(Progress(out, live=True))
    screen = pyte.HistoryScreen(columns, lines, history=10_000)
    stream = pyte.Stream(screen)
    stream.feed(out.getvalue().replace("\n", "\r\n"))
    history = ["".join(ch.data for ch in row.values()) for row in screen.history.top]
    return [line.rstrip() for line in [*history, *screen.display]]


@pytest.mark.parametrize(("columns", "lines"), [(80, 24), (60, 15)])
def test_live_block_fits_the_screen_and_ends_with_each_scene_once(columns: int, lines: int) -> None:
    jobs = [job(f"beat-{i:02d}" + "-long" * (i % 4)) for i in range(30)]
    for j in jobs:
        j.message = "a long message from kie.ai " * 4

    def draw(progress: Progress) -> None:
        for step in range(40):
            for i, j in enumerate(jobs):
                if i <= step and not j.outcome and (i + step) % 3 == 0:
                    j.outcome, j.ended = Outcome.DONE, 1.0 + step
                    progress.update(j, "done")
                elif not j.outcome:
                    progress.update(j, "generating")
            if step == 5:
                progress.say("a warning in the middle of the run")
            progress.refresh(jobs)
        progress.finish(jobs)

    shown = screen_after(columns, lines, draw)
    assert all(len(line) <= columns for line in shown)
    text = "\n".join(shown)
    firsts = Counter(line.split(" ")[0] for line in shown)
    for j in jobs:  # the final state lists each scene exactly once; no stale copies remain
        assert firsts[j.label] == 1, (j.label, text)
    assert text.count("a warning in the middle of the run") == 1
    assert "more:" not in text  # the summary row belonged to the live block only


def test_a_block_taller_than_the_screen_is_summarised() -> None:
    jobs = [job(f"s{i}") for i in range(30)]
    for j in jobs[:5]:
        j.outcome, j.ended = Outcome.DONE, 2.0
    shown, hidden = visible(jobs, 10)
    assert len(shown) == 9 and len(hidden) == 21
    assert all(not j.outcome for j in shown)  # the unfinished come first
    assert summary_of(hidden) == "16 running, 5 done"
    assert visible(jobs[:10], 10) == (jobs[:10], [])


def test_fmt_elapsed() -> None:
    assert fmt_elapsed(3.24) == "3.2s"
    assert fmt_elapsed(125) == "2m05s"
    assert fmt_elapsed(7300) == "2h01m"
