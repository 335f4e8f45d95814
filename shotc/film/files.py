"""Atomic output files for the film stage: write to a hidden partial file beside the target,
fsync, rename over the target. A killed or failed `cut` (or timeline, or last frame) leaves the
previous file as it was; a partial left by a killed process is removed by the next writer."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from shotc.durable import fsync_path

PARTIAL_SUFFIX = ".partial"


def partial_path(target: Path) -> Path:
    """Where the file for `target` is written before it is renamed into place."""
    return target.with_name(f".{target.name}.{os.getpid()}{PARTIAL_SUFFIX}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_partials(target: Path) -> None:
    """Delete the partial files of `target` whose writer is gone (killed mid-write)."""
    for path in target.parent.glob(f".{target.name}.*{PARTIAL_SUFFIX}"):
        pid = path.name[len(target.name) + 2 : -len(PARTIAL_SUFFIX)]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                path.unlink()


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yield a partial path to write; on a clean exit it replaces `target`, on an exception
    it is deleted and `target` is untouched."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(target)
    partial = partial_path(target)
    try:
        yield partial
        fsync_path(partial)
        os.replace(partial, target)
        fsync_path(target.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


def write_atomic(target: Path, data: bytes) -> None:
    with atomic_output(target) as partial:
        partial.write_bytes(data)
