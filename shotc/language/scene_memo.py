"""The editor's memory of checked scenes (issue 10): a scene that is the same AST object as in
a compile before (its chunk reused by the language server's front end, shotc/lsp/chunks.py),
checked in the same file context, gives the same diagnostics and the same compiled scene, so
an edit re-checks only the scenes it changed. `shotc check` and `build` never use it.

What a scene's check reads besides the scene, and how each is covered:
- the file's context (settings, the declared elements as resolved this compile, their voices,
  whether an INCLUDE failed, the file, the film's title): compared once per compile; when it
  differs, no entry made in another context is used;
- the scene its `FIRST FRAME after` names (resolved across all scenes on every compile by
  shotc.language.continuity): kept in the entry and compared;
- local media its frames name: the paths the check stat'ed and what stat found (file type and
  size), stat'ed again on every compile, so a file that appears or disappears is re-checked;
- the did-you-mean Suggester, whose budget is spent across the file's scenes in order: a scene
  that asked it is not remembered, so the scenes that ask see the budget a whole compile gives.
What depends on several scenes (E205 duplicate ids, E210/E211 continuity, W501 unused elements,
E305's settling) stays outside, computed by the compiler on every compile.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from shotc.diagnostics import Diagnostic, Problems
from shotc.language.checks import SceneContext
from shotc.language.compiler import CompiledScene
from shotc.language.syntax import Scene
from shotc.suggest import Suggester

# the scene an editor's front end made this one from, but for its place, and the lines it moved
MovedFrom = Callable[[Scene], tuple[Scene, int] | None]
# what stat says of a path: (file type bits, size), None when nothing can be stat'ed there
_State = tuple[int, int] | None


def _state(path: Path) -> _State:
    try:
        st = os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        return None
    return stat.S_IFMT(st.st_mode), st.st_size


class _Watched(Suggester):
    """A Suggester that counts the guesses asked of it."""

    __slots__ = ("asked",)

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def guess(self, word: str, options: Collection[str]) -> str | None:
        self.asked += 1
        return super().guess(word, options)


@dataclass(frozen=True, slots=True)
class _Entry:
    scene: Scene  # held, so no other object takes its id while the entry lives
    scene_id: str
    context: object  # the token of the file context it was checked in
    after: str | None  # the id its `FIRST FRAME after` resolved to
    media: tuple[tuple[Path, _State], ...]
    diagnostics: tuple[Diagnostic, ...]
    result: CompiledScene | None

    def moved(self, scene: Scene, delta: int) -> _Entry:
        """This entry for `scene`, which is its scene with the lines moved by `delta`."""
        diagnostics = tuple(d.moved(delta) for d in self.diagnostics)
        result = self.result
        if result is not None:
            result = dataclasses.replace(result, span=result.span.moved(delta))
        return dataclasses.replace(self, scene=scene, diagnostics=diagnostics, result=result)


@dataclass(slots=True)
class _File:
    contexts: list[tuple[tuple[object, ...], object]] = field(default_factory=list)
    # entries by id(scene): this compile's, the one before's and the one before that (an undo)
    now: dict[int, _Entry] = field(default_factory=dict)
    last: dict[int, _Entry] = field(default_factory=dict)
    older: dict[int, _Entry] = field(default_factory=dict)


class SceneMemo:
    """The checked scenes of each top-level file, by scene object, for the next compile.
    `moved_from` (the front end's) finds what was known of a scene whose lines moved, or whose
    ordinal changed, when lines or scenes above it were inserted or deleted: its diagnostics
    and compiled scene are moved with it, unless one's text names a line."""

    def __init__(self, moved_from: MovedFrom | None = None) -> None:
        self._files: dict[Path, _File] = {}
        self._moved_from = moved_from
        self.checked = 0  # scenes checked, not reused (for tests and the benchmark)

    def forget(self, key: Path) -> None:
        self._files.pop(key, None)

    def begin(self, key: Path, context: tuple[object, ...], ctx: SceneContext) -> FileChecks:
        """Start a compile of `key`; `context` is everything of the file a scene's check reads
        (compared with ==), `ctx` the compile's scene context."""
        file = self._files.setdefault(key, _File())
        token = next((t for known, t in file.contexts if known == context), None)
        if token is None:
            token = object()
            file.contexts = [*file.contexts[-1:], (context, token)]  # this one and one before
        file.older, file.last, file.now = file.last, file.now, {}
        ctx.guesses = _Watched()
        return FileChecks(self, file, token, ctx)


class FileChecks:
    """One compile of one file through the memo."""

    def __init__(self, memo: SceneMemo, file: _File, token: object, ctx: SceneContext) -> None:
        self.memo, self.file, self.token, self.ctx = memo, file, token, ctx
        self.states: dict[Path, _State] = {}  # stat'ed this compile

    def _state(self, path: Path) -> _State:
        if path not in self.states:
            self.states[path] = _state(path)
        return self.states[path]

    def _found(self, scene: Scene, scene_id: str, after: str | None) -> _Entry | None:
        file = self.file
        for generation in (file.now, file.last, file.older):
            entry = generation.get(id(scene))
            if (
                entry is not None
                and entry.scene is scene
                and entry.context is self.token
                and entry.scene_id == scene_id
                and entry.after == after
                and all(self._state(path) == known for path, known in entry.media)
            ):
                return entry
        return None

    def _moved(self, scene: Scene, scene_id: str, after: str | None) -> _Entry | None:
        source = self.memo._moved_from(scene) if self.memo._moved_from is not None else None
        if source is None:
            return None
        entry = self._found(source[0], scene_id, after)
        if entry is None or any(d.names_a_line() for d in entry.diagnostics):
            return None
        return entry.moved(scene, source[1])

    def run(
        self,
        scene: Scene,
        scene_id: str,
        diags: Problems,
        check: Callable[[], CompiledScene | None],
    ) -> CompiledScene | None:
        """`check()`'s result and diagnostics (added to `diags`), remembered or made now."""
        after = self.ctx.after.get(scene.index)
        entry = self._found(scene, scene_id, after) or self._moved(scene, scene_id, after)
        if entry is not None:
            diags.extend(entry.diagnostics)
            self.file.now[id(scene)] = entry
            return entry.result
        self.memo.checked += 1
        guesses, checker = self.ctx.guesses, self.ctx.checker
        asked = guesses.asked if isinstance(guesses, _Watched) else -1
        start = len(diags)
        looked_at: list[Path] = []
        checker.looked_at = looked_at
        try:
            result = check()
        finally:
            checker.looked_at = None
        if isinstance(guesses, _Watched) and guesses.asked == asked:
            media = tuple((path, self._state(path)) for path in dict.fromkeys(looked_at))
            made = tuple(diags[start:])
            entry = _Entry(scene, scene_id, self.token, after, media, made, result)
            self.file.now[id(scene)] = entry
        return result
