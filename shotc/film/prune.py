"""`shotc prune`: delete the clip files no one needs, and only files the ledger knows.

Every candidate is a file the ledger recorded as a download (path, size, mtime, digest). A file
is **kept** when it is the cut's clip of a scene or a take (any mode, drafts included) of a
scene's current version; it is **older** when its submission is an earlier version of a scene
(or of a scene no longer in the script), deleted only with `--older`; anything else the
ledger knows (a second copy of a take set aside by a download, a clip left at an old path) is
**stale** and deleted. A file whose size and modification time differ from the record is
checked by digest: if it is not the recorded file any more (replaced or edited by the user),
the ledger does not know it and it is left alone.

The ledger's download rows stay: they say the clip was fetched, so `run` does not fetch an
older version again because its file is gone.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["stale", "older"]
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class KnownFile:
    """A download the ledger recorded."""

    path: Path  # absolute
    sha256: str
    size: int
    mtime_ns: int
    scene_id: str
    take: int
    mode: str
    current: bool  # its submission is a scene's current version


@dataclass(frozen=True, slots=True)
class Doomed:
    path: Path
    size: int
    kind: Kind
    scene_id: str
    take: int
    mode: str


@dataclass(frozen=True, slots=True)
class Skipped:
    path: Path
    why: str


@dataclass(frozen=True, slots=True)
class PrunePlan:
    delete: tuple[Doomed, ...]
    skipped: tuple[Skipped, ...]  # recorded, on disk, but not the file recorded
    kept: int  # files kept because the cut or a current take uses them

    @property
    def bytes(self) -> int:
        return sum(d.size for d in self.delete)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _is_recorded_file(known: KnownFile) -> tuple[bool, int, str]:
    """(the file on disk is the one recorded, its size, why not)."""
    try:
        st = os.stat(known.path, follow_symlinks=False)
    except FileNotFoundError:
        return False, 0, ""
    except OSError as exc:
        return False, 0, exc.strerror or str(exc)
    if not os.path.isfile(known.path) or os.path.islink(known.path):
        return False, 0, "not a regular file"
    if st.st_size == known.size and st.st_mtime_ns == known.mtime_ns:
        return True, st.st_size, ""
    try:
        same = st.st_size == known.size and _digest(known.path) == known.sha256
    except OSError as exc:
        return False, 0, exc.strerror or str(exc)
    return (True, st.st_size, "") if same else (False, 0, "changed since it was downloaded")


def plan_prune(files: Iterable[KnownFile], keep: set[Path], *, older: bool) -> PrunePlan:
    """What to delete among the ledger's `files`; `keep` are the paths the cut and the
    current versions' takes use (never deleted, whatever the records say)."""
    delete: dict[Path, Doomed] = {}
    skipped: dict[Path, Skipped] = {}
    kept: set[Path] = set()
    by_path: dict[Path, list[KnownFile]] = {}
    for known in files:
        by_path.setdefault(known.path, []).append(known)
    for path, records in sorted(by_path.items()):
        if path in keep:
            kept.add(path)
            continue
        # Several submissions may have written one path (scenes sharing a key): a file that
        # any current submission wrote is that take's.
        kind: Kind = "stale" if any(r.current for r in records) else "older"
        if kind == "older" and not older:
            continue
        why = ""
        for record in records:
            ok, size, why = _is_recorded_file(record)
            if ok:
                delete[path] = Doomed(path, size, kind, record.scene_id, record.take, record.mode)
                break
        else:
            if why:
                skipped[path] = Skipped(path, why)
    return PrunePlan(tuple(delete.values()), tuple(skipped.values()), len(kept))


def apply_prune(plan: PrunePlan) -> tuple[list[Doomed], list[Skipped]]:
    """Delete the plan's files; (deleted, failed with why)."""
    done, failed = [], []
    for doomed in plan.delete:
        try:
            doomed.path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            failed.append(Skipped(doomed.path, exc.strerror or str(exc)))
            continue
        done.append(doomed)
    return done, failed
