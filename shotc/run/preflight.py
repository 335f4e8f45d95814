"""Run stage: the preflight, which makes sure before the first createTask that every file the
run will write can be written, so that nothing is paid for a clip that cannot be kept.

For each directory clips go to: it exists or can be created, it is a directory, and a file can
be created in it (a probe, removed at once: `-o /proc/self` passes every other test). For each
clip: its name, its temporary name and the name an older file at its place is set aside to fit
the directory's NAME_MAX, and their full paths its PATH_MAX. For each ledger: its side files
(WAL, lock, recovery file) fit as well. A failure is a local I/O error (exit 4), before
anything is sent.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path

from shotc.film.layout import OLDER, aside_name, older_file
from shotc.run.downloads import PART_TOKEN_CHARS, part_name
from shotc.run.errors import LocalIOError
from shotc.run.ledger import Ledger
from shotc.run.planner import Job
from shotc.run.recovery import RECOVERY_NAME

# POSIX minimums would be far too strict; these are Linux's, used only when the file system
# will not say (pathconf raises or answers -1).
_NAME_MAX, _PATH_MAX = 255, 4096
_LEDGER_SIDE_FILES = ("-wal", "-shm", "-journal")


def _limit(directory: Path, name: str, default: int) -> int:
    try:
        value = os.pathconf(directory, name)
    except (OSError, ValueError):
        return default
    return value if value > 0 else default


def written_names(clip: str) -> list[str]:
    """Every name written in a clip's directory for it: the clip, its temporary file, and the
    name a different file already at its place is set aside to."""
    return [clip, part_name(clip, "0" * PART_TOKEN_CHARS), aside_name(clip, "0" * 64)]


def later_names(job: Job) -> list[str]:
    """Names relative to a clip's scene folder that it takes later: its place under `older/`
    once the scene is edited (film.md "On disk"), and the temporary name of a move."""
    older = older_file("0" * 64, job.take, job.mode)
    return [f"{OLDER}/{older}", f".{older}.{'0' * 8}.moving"]


def _fits(directory: Path, names: Iterable[str], what: str) -> None:
    name_max = _limit(directory, "PC_NAME_MAX", _NAME_MAX)
    path_max = _limit(directory, "PC_PATH_MAX", _PATH_MAX)
    for name in names:
        size = len(os.fsencode(name))
        if size > name_max:
            raise LocalIOError(
                f"{what}: the file name {name[:60]}... is {size} bytes, more than the "
                f"{name_max} this file system allows in {directory}; nothing was sent"
            )
        full = len(os.fsencode(str(directory / name)))
        if full >= path_max:
            raise LocalIOError(
                f"{what}: the path {directory / name} is {full} bytes, more than the "
                f"{path_max - 1} this file system allows; nothing was sent"
            )


def _writable(directory: Path) -> None:
    """The directory exists (made if need be) and takes a new file."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise LocalIOError(f"{directory} is not a directory; nothing was sent") from None
    except OSError as exc:
        raise LocalIOError(
            f"cannot create the render directory {directory}: {exc.strerror or exc}; "
            "nothing was sent"
        ) from None
    if not directory.is_dir():
        raise LocalIOError(f"{directory} is not a directory; nothing was sent")
    probe = directory / part_name("shotc-preflight", secrets.token_hex(PART_TOKEN_CHARS // 2))
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"\0")
        finally:
            os.close(fd)
    except OSError as exc:
        raise LocalIOError(
            f"cannot write clips to {directory}: {exc.strerror or exc}; nothing was sent"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


def check(jobs: Sequence[Job], ledgers: Iterable[Ledger]) -> None:
    """Raise LocalIOError unless every clip (and ledger side file) of this run can be written."""
    by_dir: dict[Path, list[Job]] = {}
    for job in jobs:
        for target in job.targets:
            by_dir.setdefault(target.parent, []).append(job)
    for directory, dir_jobs in by_dir.items():
        _writable(directory)
        for job in dir_jobs:
            names = [n for t in job.targets if t.parent == directory for n in written_names(t.name)]
            names += later_names(job)
            _fits(directory, names, f"scene {job.label}")
    for ledger in ledgers:
        side = [ledger.path.name + s for s in _LEDGER_SIDE_FILES] + [RECOVERY_NAME, "run.lock"]
        _fits(ledger.path.parent, side, "the ledger")
