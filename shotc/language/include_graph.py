"""The files a script reaches through `INCLUDE`, parsed: for the editor's completion of
included elements and for `check --watch`, which checks again when any of them is saved.

Unreadable or missing includes are skipped here (the compiler reports them as E404)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from shotc.language.source import SourceError, parse_text, read_text
from shotc.language.syntax import Include, Script

MAX_FILES = 500  # a larger include graph is not walked further


def include_target(base: Path, include: Include) -> Path:
    """The absolute path an `INCLUDE` of the file `base` names (as the compiler resolves it)."""
    return Path(os.path.abspath(base.parent / os.path.expanduser(include.path)))


def reachable(
    path: Path,
    script: Script | None = None,
    buffers: Mapping[Path, str] | None = None,
    parsed: Mapping[Path, Script] | None = None,
) -> list[tuple[Path, Script]]:
    """`path` and every file it includes, directly or not, each once, breadth first.
    `parsed` holds files already parsed (a compile's `files`), which are not read again."""
    buffers = buffers or {}
    parsed = parsed or {}
    path = Path(os.path.abspath(path))
    first = script if script is not None else _parse(path, buffers)
    if first is None:
        return []
    order = [(path, first)]
    seen = {path}
    index = 0
    while index < len(order) and len(seen) < MAX_FILES:
        base, current = order[index]
        index += 1
        for include in current.includes:
            target = include_target(base, include)
            if target in seen:
                continue
            seen.add(target)
            sub = parsed[target] if target in parsed else _parse(target, buffers)
            if sub is not None:
                order.append((target, sub))
    return order


def _parse(path: Path, buffers: Mapping[Path, str]) -> Script | None:
    try:
        text = buffers[path] if path in buffers else read_text(path)
    except (SourceError, OSError):
        return None
    return parse_text(text, str(path), path.stem).script
