"""Progress display: plain lines off a terminal, an in-place block on one."""

from __future__ import annotations

import io
from pathlib import Path

from shotc.diagnostics import Span
from shotc.language.compiler import CompiledScene
from shotc.run.planner import Job
from shotc.run.progress import Progress, fmt_elapsed


def job(scene_id: str) -> Job:
    scene = CompiledScene(
        scene_id, Path("/f.shot"), "F", {}, 1, 5, "pro", False, Span.point("f.shot", 1, 1)
    )
    return Job(
        key="k",
        take=1,
        ledger_path=Path("/l"),
        script_name="f.shot",
        scenes=[scene],
        request={},
        canonical="{}",
        targets=[],
        mode="pro",
        sound=False,
        seconds=5,
        est_credits=1.0,
        plan_state="new",
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


def test_live_block_is_redrawn_in_place() -> None:
    out = io.StringIO()
    progress = Progress(out, live=True)
    jobs = [job("a"), job("b")]
    progress.update(jobs[0], "generating")
    assert out.getvalue() == ""
    progress.refresh(jobs)
    progress.refresh(jobs)
    text = out.getvalue()
    assert "\x1b[2F\x1b[J" in text  # moved up over the two lines drawn before
    assert text.count("generating") == 2


def test_fmt_elapsed() -> None:
    assert fmt_elapsed(3.24) == "3.2s"
    assert fmt_elapsed(125) == "2m05s"
    assert fmt_elapsed(7300) == "2h01m"
