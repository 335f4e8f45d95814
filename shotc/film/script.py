"""The film stage's view of a script: its scenes in script order, each with its title, id,
shots (seconds and compiled prompt), frames and compiled request, as `cut`, `review` and
`prune` need them.

`ScriptCache` compiles the script again only when one of its files (the script and its
includes) changed on disk: the review server's loader runs on every page poll, and compiling
a long script each time would be the slowest thing it does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shotc.diagnostics import Diagnostic
from shotc.language.compiler import CompiledScene, compile_paths
from shotc.language.syntax import After
from shotc.request.placeholder import is_placeholder
from shotc.run.scene_key import file_uri_path, is_local


@dataclass(frozen=True, slots=True)
class ShotInfo:
    seconds: int | None
    prompt: str  # as compiled (cues as `@name`)


@dataclass(frozen=True, slots=True)
class FrameInfo:
    which: str  # "first" or "last"
    label: str  # the reference as written
    path: Path | None  # a local image
    url: str | None  # an http(s) image, or a placeholder such as shotc://after/<id>


@dataclass(frozen=True, slots=True)
class SceneInfo:
    compiled: CompiledScene
    title: str
    shots: tuple[ShotInfo, ...]
    frames: tuple[FrameInfo, ...]

    @property
    def scene_id(self) -> str:
        return self.compiled.scene_id

    @property
    def seconds(self) -> int:
        return self.compiled.seconds

    @property
    def mode(self) -> str:
        return self.compiled.mode

    @property
    def aspect_ratio(self) -> str | None:
        value = self.compiled.request.get("input", {}).get("aspect_ratio")
        return str(value) if value else None


@dataclass(frozen=True, slots=True)
class CompiledScript:
    path: Path
    scenes: tuple[SceneInfo, ...]
    diagnostics: tuple[Diagnostic, ...]
    ok: bool
    film_title: str
    files: tuple[Path, ...]  # the script and everything it includes


def _shots(request: Mapping[str, Any]) -> tuple[ShotInfo, ...]:
    body = request.get("input", {})
    if body.get("multi_shots"):
        return tuple(
            ShotInfo(int(s["duration"]) if s.get("duration") is not None else None, s["prompt"])
            for s in body.get("multi_prompt", [])
        )
    return (ShotInfo(int(str(body.get("duration", "0"))), str(body.get("prompt", ""))),)


def _frames(request: Mapping[str, Any], written: list[tuple[str, str]]) -> tuple[FrameInfo, ...]:
    """Frames in `image_urls` order (first, then last), labelled as the script wrote them."""
    urls = request.get("input", {}).get("image_urls") or []
    out = []
    for i, url in enumerate(urls):
        which, label = written[i] if i < len(written) else ("first" if i == 0 else "last", url)
        if is_placeholder(url):  # FIRST FRAME after: the source's last frame, made by `run`
            out.append(FrameInfo(which, label, None, None))
        elif is_local(url):
            path = file_uri_path(url)
            out.append(FrameInfo(which, label, path, None))
        else:
            out.append(FrameInfo(which, label, None, url))
    return tuple(out)


def compile_script(script: Path) -> CompiledScript:
    """Compile `script` (ScriptReadError when it cannot be read); scenes in script order."""
    result = compile_paths([script])
    key = Path(os.path.abspath(script))
    parsed = result.files.get(key)
    by_line: dict[tuple[str, int], tuple[str, list[tuple[str, str]]]] = {}
    if parsed is not None:
        for scene in parsed.scenes:
            title = parsed.stem if scene.implicit else scene.title
            frames = [
                (f.which, f"after {f.reference.name}")
                if isinstance(f.reference, After)
                else (f.which, f.reference.target)
                for f in scene.frames
            ]
            frames.sort(key=lambda f: f[0] != "first")  # image_urls holds first, then last
            by_line[(scene.span.file, scene.span.line)] = (title, frames)
    scenes = []
    for compiled in result.scenes:
        title, written = by_line.get(
            (compiled.span.file, compiled.span.line), (compiled.scene_id, [])
        )
        scenes.append(
            SceneInfo(compiled, title, _shots(compiled.request), _frames(compiled.request, written))
        )
    film_title = scenes[0].compiled.film_title if scenes else script.stem
    return CompiledScript(
        script.resolve(),
        tuple(scenes),
        tuple(result.diagnostics),
        result.ok,
        film_title,
        tuple(sorted(result.files)),
    )


def _stamp(paths: tuple[Path, ...]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for path in paths:
        try:
            st = path.stat()
            out.append((str(path), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(path), -1, -1))
    return tuple(out)


class ScriptCache:
    """`get()`: the compiled script, compiled again only when one of its files changed."""

    def __init__(self, script: Path) -> None:
        self.script = script
        self._compiled: CompiledScript | None = None
        self._stamp: tuple[tuple[str, int, int], ...] = ()

    def get(self) -> CompiledScript:
        if self._compiled is not None and _stamp(self._compiled.files) == self._stamp:
            return self._compiled
        # Stamped before compiling, so a file edited meanwhile is compiled again next time.
        known = self._compiled.files if self._compiled is not None else ()
        before = _stamp(known)
        compiled = compile_script(self.script)
        self._compiled = compiled
        self._stamp = before if compiled.files == known else _stamp(compiled.files)
        return compiled
