"""`shotc check --watch`: check again whenever a script or a file it includes is saved.

Polls the files' status (size, mtime, inode) a few times a second rather than using an OS
notification library: a handful of stat calls is nothing, it needs no dependency, and it
sees the save-by-rename that many editors do, where an inode watch loses the file.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from shotc.language.include_graph import reachable

Stamp = tuple[int, int, int] | None


def _stamp(path: Path) -> Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def watched_files(files: tuple[Path, ...]) -> list[Path]:
    """The scripts and everything they include (missing files too: their creation counts)."""
    found: dict[Path, None] = {}
    for file in files:
        found[Path(os.path.abspath(file))] = None
        for path, _script in reachable(file):
            found[path] = None
            for include in _script.includes:
                found[Path(os.path.abspath(path.parent / include.path))] = None
    return list(found)


def watch(
    files: tuple[Path, ...],
    check: Callable[[], None],
    interval: float = 0.25,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run `check`, then again after each change, until interrupted (Ctrl-C)."""
    while True:
        paths = watched_files(files)
        stamps = {p: _stamp(p) for p in paths}
        check()
        shown = ", ".join(sorted({p.name for p in paths}))
        sys.stderr.write(f"watching {len(paths)} file(s): {shown} (Ctrl-C to stop)\n")
        sys.stderr.flush()
        while all(_stamp(p) == stamps[p] for p in paths):
            sleep(interval)
        sleep(interval / 2)  # let the editor finish writing before reading
