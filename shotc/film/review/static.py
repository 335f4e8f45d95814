"""`shotc review --static DIR`: the review page as files to copy or share. No buttons, no
polling; clips and frames are linked by paths relative to DIR, so DIR and the render folder
can be moved together (or DIR can sit inside the project)."""

from __future__ import annotations

import os
from pathlib import Path

from shotc.film.files import write_atomic
from shotc.film.review.model import Project
from shotc.film.review.page import render_page


def write_static(project: Project, directory: Path) -> Path:
    """Write DIR/index.html atomically; return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    base = directory.resolve()
    urls = {
        key: Path(os.path.relpath(path, base)).as_posix() for key, path in project.media.items()
    }
    project.can_pick = False
    page = render_page(project.to_json(urls))
    target = directory / "index.html"
    write_atomic(target, page.encode("utf-8"))
    return target
