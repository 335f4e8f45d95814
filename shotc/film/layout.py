"""The clip layout on disk (film.md "On disk"): the one home of clip names, and `settle`, which
files every clip the ledger knows where the script as it is now says it belongs.

    <render>/<scene-id>/take-<K>.mp4                        current version, the scene's own mode
    <render>/<scene-id>/take-<K>.<mode>.mp4                 current version, a draft
    <render>/<scene-id>/older/<key8>-take-<K>.<mode>.mp4    an earlier version (key8: its
                                                            version key's first 8 hex digits)

`settle` runs before `run` plans (and before `pick` and `status FILE`), holding the run lock.
It moves a take's clip when its place changed: an edited scene's clips go to `older/`, a
renamed scene's clips follow it to its new folder (its version is unchanged), a scene whose
`Mode` changed sees its old takes named as drafts, and the flat layout of shotc before the
film (`<id>.mp4`, `<id>.take2.mp4`, the set-aside `<id>.<hex8>.mp4` and older versions'
`<id>.<key8>.mp4`) is migrated by the same rule the first time. Nothing is deleted and only
files the ledger recorded (with their recorded size) are moved; the user's own files stay.

Crash safety: each rename is journaled in the ledger (`moves`) before it happens and marked
done, with the download's path, in one transaction after; an unfinished one is finished (or
found not to have happened) by the next `settle`. A rename never replaces a file: it is a
hard link then an unlink (or, on a file system without links, a rename after a check, under
the run lock). Running `settle` again moves nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shotc.durable import fsync_path
from shotc.language.compiler import CompiledScene
from shotc.run.errors import LocalIOError
from shotc.run.ledger import Ledger
from shotc.run.ledger_schema import Move, Submission
from shotc.run.scene_key import DigestCache, file_digest, version_key

OLDER = "older"


def take_file(take: int, mode: str, own_mode: str) -> str:
    """A current version's take: `take-K.mp4` in the scene's own mode, else a draft."""
    return f"take-{take}.mp4" if mode == own_mode else f"take-{take}.{mode}.mp4"


def older_file(version: str, take: int, mode: str) -> str:
    return f"{version[:8]}-take-{take}.{mode}.mp4"


def aside_name(name: str, digest: str) -> str:
    """The name a file found in a clip's place is renamed to, beside it: never overwritten,
    it may be a paid clip (or the user's own file)."""
    path = Path(name)
    return f"{path.stem}.{digest[:8]}{path.suffix}"


def take_path(render_dir: Path, scene_id: str, take: int, mode: str, own_mode: str) -> Path:
    return render_dir / scene_id / take_file(take, mode, own_mode)


def older_path(render_dir: Path, scene_id: str, version: str, take: int, mode: str) -> Path:
    return render_dir / scene_id / OLDER / older_file(version, take, mode)


@dataclass(frozen=True, slots=True)
class Slot:
    """A scene of the script as it is now: where its current version's takes go."""

    scene_id: str
    mode: str  # its own mode
    version: str | None  # None: its media cannot be read now, so its version is not known


class Layout:
    """Where each take of one script's scenes belongs, given the script as it is now."""

    def __init__(self, render_dir: Path, slots: Sequence[Slot]) -> None:
        self.render_dir = render_dir
        self.slots = list(slots)
        self._unknown = {s.scene_id for s in slots if s.version is None}

    @classmethod
    def of(cls, render_dir: Path, scenes: Iterable[CompiledScene], digest: DigestCache) -> Layout:
        """From one script's compiled scenes (all of them, not only those a run selects)."""
        slots = []
        for scene in scenes:
            try:
                version: str | None = version_key(scene.request, digest)
            except LocalIOError:
                version = None
            slots.append(Slot(scene.scene_id, scene.mode, version))
        return cls(render_dir, slots)

    def homes(self, sub: Submission) -> list[Path] | None:
        """Where `sub`'s clip belongs: one place per current scene of its version (two scenes
        with the same content share a take), else its older-version place under the id it was
        sent as; None when that cannot be told now (a scene whose media cannot be read)."""
        version = sub.version or sub.scene_key
        current = [s for s in self.slots if s.version == version]
        if current:
            return [
                take_path(self.render_dir, s.scene_id, sub.take, sub.mode, s.mode) for s in current
            ]
        if sub.scene_id in self._unknown:
            return None
        return [older_path(self.render_dir, sub.scene_id, version, sub.take, sub.mode)]


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.relative_to(directory)
    except ValueError:
        return False
    return True


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size if path.is_file() else None
    except OSError:
        return None


def _rename_no_replace(src: Path, dst: Path) -> None:
    """Rename `src` to `dst`, never over an existing file."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except FileExistsError:
        raise
    except OSError:
        # no hard links here (some network and FAT file systems): check, then rename; we hold
        # the run lock, so no other shotc writes here meanwhile
        if dst.exists():
            raise FileExistsError(str(dst)) from None
        os.rename(src, dst)
    else:
        os.unlink(src)
    fsync_path(dst.parent)
    if src.parent != dst.parent:
        fsync_path(src.parent)


def _move(ledger: Ledger, sid: int | None, src: Path, dst: Path) -> Move:
    move = ledger.plan_move(sid, src, dst)
    try:
        _rename_no_replace(src, dst)
    except OSError as exc:
        ledger.finish_move(move, moved=False)
        raise LocalIOError(f"cannot move {src} to {dst}: {exc.strerror or exc}") from None
    ledger.finish_move(move)
    return move


def finish_interrupted(ledger: Ledger) -> int:
    """Finish the renames a killed `settle` left half done; how many were."""
    count = 0
    for move in ledger.unfinished_moves():
        src, dst = Path(move.old_path), Path(move.new_path)
        if src.exists() and dst.exists():
            same = False
            with contextlib.suppress(OSError):
                same = os.path.samefile(src, dst)
            if same:  # linked, not yet unlinked
                src.unlink()
            ledger.finish_move(move, moved=same)
        elif src.exists():
            try:
                _rename_no_replace(src, dst)
            except OSError:
                ledger.finish_move(move, moved=False)
                continue
            ledger.finish_move(move)
        else:
            ledger.finish_move(move, moved=dst.exists())
        count += 1
    return count


@dataclass
class _Pending:
    sid: int
    src: Path
    dst: Path


def settle(ledger: Ledger, layout: Layout, script: str) -> list[Move]:
    """Move every recorded clip of `script` (as the ledger names it) inside the render
    directory to where `layout` says it belongs; the moves made, in order."""
    finish_interrupted(ledger)
    try:
        if not layout.render_dir.is_dir():
            return []  # nothing written there yet (or not a directory: the preflight says so)
        root = layout.render_dir.resolve()
    except OSError:
        return []  # a path this file system refuses: the preflight says so, before any POST
    pending: list[_Pending] = []
    for sub in ledger.all_latest([script]):
        homes = layout.homes(sub)
        if homes is None:
            continue
        present = [
            Path(d.path)
            for d in ledger.downloads(sub.id)
            if _inside(Path(d.path), root) and _size(Path(d.path)) == d.size
        ]
        free = [h for h in homes if h not in present]
        for path in present:
            if path in homes or not free:
                continue  # at home, or a spare copy where no other take's clip goes
            pending.append(_Pending(sub.id, path, free.pop(0)))
    return _run_moves(ledger, pending)


def settle_scenes(
    scenes: Sequence[CompiledScene],
    ledger_for: Callable[[Path], Ledger | None],
    render_dir_for: Callable[[Path], Path],
    digest: DigestCache | None = None,
) -> list[Move]:
    """`settle` for each script of `scenes` (all of each script's scenes: a scene left out
    would have its takes taken for an older version's): `ledger_for(script)` its ledger (None:
    nothing recorded), `render_dir_for(script)` its render directory."""
    digest = digest or DigestCache()
    by_script: dict[Path, list[CompiledScene]] = {}
    for scene in scenes:
        by_script.setdefault(scene.script, []).append(scene)
    moves: list[Move] = []
    for script, mine in by_script.items():
        ledger = ledger_for(script)
        if ledger is not None:
            from shotc.run.continuity import as_sent

            # a dependent's clips belong to the version of the frame it was sent with
            requests, sent_digest = as_sent(mine, ledger, digest)
            sent = [dataclasses.replace(s, request=r) for s, r in zip(mine, requests, strict=True)]
            layout = Layout.of(render_dir_for(script), sent, sent_digest)
            moves += settle(ledger, layout, ledger.script_name(script))
    return moves


def _run_moves(ledger: Ledger, pending: list[_Pending]) -> list[Move]:
    done: list[Move] = []
    # Each pass moves at least one file or breaks one cycle, so len(pending) + 1 passes
    # bound it (a cycle: two renamed scenes that swapped titles).
    for _ in range(2 * len(pending) + 1):
        if not pending:
            break
        progress = False
        for item in list(pending):
            sources = {p.src for p in pending if p is not item}
            if item.dst.exists() or item.dst.is_symlink():
                if item.dst in sources:
                    continue  # its occupant moves away first
                _set_aside(ledger, item.dst, done)
            done.append(_move(ledger, item.sid, item.src, item.dst))
            pending.remove(item)
            progress = True
        if not progress and pending:
            first = pending[0]
            temp = first.dst.with_name(f".{first.dst.name}.{secrets.token_hex(4)}.moving")
            done.append(_move(ledger, first.sid, first.src, temp))
            first.src = temp
    return done


def _set_aside(ledger: Ledger, path: Path, done: list[Move]) -> None:
    """A file in the way that is no take's clip by this layout: renamed beside itself
    (`take-1.<hex8>.mp4`), never removed; followed in the ledger if it is recorded."""
    base = Path(aside_name(path.name, file_digest(path)))
    aside = path.with_name(base.name)
    n = 0
    while aside.exists():  # bounded by the files in one directory
        n += 1
        aside = path.with_name(f"{base.stem}-{n}{base.suffix}")
    recorded = ledger.downloads_at(path)
    done.append(_move(ledger, recorded[0].submission_id if recorded else None, path, aside))


__all__ = [
    "OLDER",
    "Layout",
    "Slot",
    "aside_name",
    "finish_interrupted",
    "older_file",
    "older_path",
    "settle",
    "settle_scenes",
    "take_file",
    "take_path",
]
