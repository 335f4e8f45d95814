"""Ground floor: make a written file or a rename durable (fsync), shared by the run stage's
downloads and the film stage's atomic outputs."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def fsync_path(path: Path) -> None:
    """fsync a file or a directory (best effort: some file systems refuse directories)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
