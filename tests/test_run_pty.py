"""`shotc run` in a real pseudo-terminal against the fake kie.ai: the live display, read back
through a terminal emulator (pyte), fits the terminal and leaves each scene exactly once in
the scrollback, at 80x24 and at a cramped 60x15 with more scenes than rows."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from collections import Counter
from pathlib import Path

import pytest
from fakekie import FakeKie
from fakekie.project import FAST_CONFIG, clips, write_project

pyte = pytest.importorskip("pyte")

SCENES = 30
TIMEOUT = 120.0


def run_in_pty(
    args: list[str], *, env: dict[str, str], cwd: Path, size: tuple[int, int]
) -> tuple[int, list[str]]:
    """(exit code, the lines of scrollback and screen) of `shotc ARGS` with stderr on a pty of
    `size` (columns, lines); stdout goes to a file, as in `shotc run film.shot > summary`."""
    columns, lines = size
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    clean = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    with open(cwd / "summary.txt", "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "shotc", *args],
            cwd=cwd,
            env={**clean, "TERM": "xterm-256color", **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=slave,
        )
    os.close(slave)
    screen = pyte.HistoryScreen(columns, lines, history=100_000)
    stream = pyte.ByteStream(screen)
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer closed the pty
                    data = b""
                if not data:
                    break
                stream.feed(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
    history = ["".join(ch.data for ch in row.values()) for row in screen.history.top]
    return code, [line.rstrip() for line in [*history, *screen.display]]


@pytest.mark.parametrize("size", [(80, 24), (60, 15)])
def test_run_display_fits_the_terminal_and_shows_each_scene_once(
    kie: FakeKie, tmp_path: Path, size: tuple[int, int]
) -> None:
    kie.states = (("waiting", 0.2), ("queuing", 0.2), ("generating", 0.6))
    script = write_project(tmp_path, scenes=SCENES, config=FAST_CONFIG)
    code, shown = run_in_pty(["run", str(script)], env=kie.env(), cwd=tmp_path, size=size)
    assert code == 0, "\n".join(shown)
    assert len(clips(script)) == SCENES
    columns = size[0]
    assert all(len(line) <= columns for line in shown)
    firsts = Counter(line.split(" ")[0] for line in shown)
    text = "\n".join(shown)
    for i in range(1, SCENES + 1):
        assert firsts[f"scene-{i}"] == 1, (f"scene-{i}", text)
    assert "more:" not in text  # the live block's summary row is gone at the end
