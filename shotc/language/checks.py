"""Stage 4: semantic checks. Validates elements, media, frames, shots and scenes against the
language's rules and Kling's limits, returning diagnostics (never raising) and, for each
scene, the resolved pieces the emitter turns into a request."""

from __future__ import annotations

import functools
import os
import re
import stat
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shotc.diagnostics import Problems
from shotc.kling import (
    CUE_WEIGHT,
    MAX_ELEMENTS,
    MAX_MULTI_PROMPT,
    MAX_SHOT,
    MAX_SHOTS,
    MAX_SINGLE_PROMPT,
    MAX_TOTAL,
    MIN_SHOT,
    MIN_TOTAL,
)
from shotc.language import media
from shotc.language.prompts import compose, sound_sent
from shotc.language.settings import Value, resolve
from shotc.language.syntax import After, Cue, Element, Reference, Scene, Script, Shot, Voice
from shotc.request.placeholder import after_url
from shotc.suggest import Suggester


@dataclass(frozen=True, slots=True)
class ResolvedElement:
    name: str
    description: str
    kind: str  # "image" or "video"
    urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ResolvedScene:
    scene: Scene
    scene_id: str
    settings: dict[str, Value]
    frames: tuple[str, ...]  # image_urls
    elements: tuple[ResolvedElement, ...]
    prompts: tuple[str, ...]  # each shot's compiled prompt, voices included
    sound: bool  # what `input.sound` sends


@functools.lru_cache(maxsize=8192)  # asked again for each title by ids, continuity, the editor
def slug(text: str) -> str:
    """`text` as lower-case ASCII words joined by `-`; "" when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def slugify(title: str, position: int) -> str:
    """A scene's id: its title's slug, or `scene-<position>` when that is empty."""
    return slug(title) or f"scene-{position}"


def _not_a_file(path: Path) -> str:
    """Why E401: nothing is there, or something that is not a regular file (stat only: a
    named pipe is never opened, which would wait for a writer forever)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return f"local file not found: {path}"
    what = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file (a pipe or device)"
    return f"local file not found: {path} is {what}"


class MediaChecker:
    """E402, E401, E403 for a reference (at most one, in that order), and its URL."""

    def __init__(self) -> None:
        self._sizes: dict[Path, int | None] = {}
        self.looked_at: list[Path] | None = None  # the editor's memo records (scene_memo.py)

    def size(self, path: Path) -> int | None:
        if self.looked_at is not None:
            self.looked_at.append(path)
        if path not in self._sizes:
            try:
                self._sizes[path] = os.stat(path).st_size if path.is_file() else None
            except (OSError, ValueError):
                self._sizes[path] = None
        return self._sizes[path]

    def check(
        self, ref: Reference, base: Path, diags: Problems, frame: bool = False
    ) -> tuple[str | None, str | None]:
        """(kind, url) or (None, None) when the reference has an error."""
        kind, why = media.kind_of(ref)
        if why is None and frame and kind == "video":
            why = "a frame must be a JPG or PNG image"
        if why is not None or kind is None:
            diags.add(
                "E402",
                f"unsupported media `{ref.target}`: {why}",
                ref.span,
                "images: .jpg .jpeg .png; element videos: .mp4 .mov",
            )
            return None, None
        if media.is_url(ref.target):
            return kind, ref.target
        path = media.local_path(ref, base)
        size = self.size(path)
        if size is None:
            diags.add(
                "E401",
                _not_a_file(path),
                ref.span,
                "paths are relative to the file that names them",
            )
            return None, None
        if kind == "image" and size > media.MAX_IMAGE_BYTES:
            diags.add(
                "E403",
                f"image is {size:,} bytes; kie.ai accepts at most 10 MiB (10,485,760 bytes)",
                ref.span,
                "resize or recompress it",
            )
            return None, None
        return kind, media.file_uri(path)


def check_element(
    element: Element, base: Path, checker: MediaChecker, diags: Problems
) -> ResolvedElement | None:
    found: list[tuple[str, str]] = []
    ok = element.header_ok and element.block_ok
    for ref in element.references:
        kind, url = checker.check(ref, base, diags)
        if kind is None or url is None:
            ok = False
        else:
            found.append((kind, url))
    if element.name is None or element.description is None:
        return None
    images = [url for kind, url in found if kind == "image"]
    videos = [url for kind, url in found if kind == "video"]
    if videos:
        diags.add(
            "W504",
            f"`@{element.name}` is a video element",
            element.span,
            "kie.ai documented video elements, then dropped them from its "
            "docs; 2 to 4 images are the safe choice",
        )
    if not ok:
        return None
    if images and videos:
        problem = "mixes images and a video"
    elif videos and len(videos) != 1:
        problem = f"has {len(videos)} videos; a video element has exactly 1"
    elif not videos and not 2 <= len(images) <= 4:
        problem = f"has {len(images)} image{'s' * (len(images) != 1)}; it needs 2 to 4"
    else:
        kind = "video" if videos else "image"
        return ResolvedElement(element.name, element.description, kind, tuple(videos or images))
    diags.add(
        "E305",
        f"element `@{element.name}` {problem}",
        element.span,
        "give 2 to 4 JPG/PNG images, or exactly 1 MP4/MOV video",
    )
    return None


@dataclass(slots=True)
class SceneContext:
    file_settings: dict[str, Value]
    elements: dict[str, ResolvedElement | None]  # declared names (None: declared, invalid)
    base: Path
    checker: MediaChecker
    voices: dict[str, Voice] = field(default_factory=dict)  # declared elements' voices
    include_failed: bool = False  # an INCLUDE of the file failed (E404): cues may be missing
    guesses: Suggester = field(default_factory=Suggester)  # did-you-mean for cues, bounded
    # scene index -> the id of the scene its `FIRST FRAME after` names (shotc.language.continuity)
    after: dict[int, str] = field(default_factory=dict)


def check_scene(
    scene: Scene, scene_id: str, ctx: SceneContext, diags: Problems
) -> ResolvedScene | None:
    settings = dict(ctx.file_settings)
    settings.update(resolve(scene.settings, diags))
    multi = len(scene.shots) > 1
    frames = _frames(scene, multi, ctx, diags)
    _durations(scene, diags)
    composed = [compose(shot, ctx.voices) for shot in scene.shots]
    for shot, (prompt, cues) in zip(scene.shots, composed, strict=True):
        _prompt(shot, prompt, cues, multi, diags)
    elements = _cues([cues for _prompt_text, cues in composed], ctx, diags)
    if elements and frames is not None and not frames:
        diags.add(
            "W503",
            "this scene cues elements but has no `FIRST FRAME`",
            scene.span,
            "kie.ai's docs ask for a first frame when elements "
            "are referenced; add `FIRST FRAME image.png` to the preamble",
        )
    sound = settings.get("sound")
    if multi and sound is not None and sound.value is False:
        diags.add(
            "W502",
            "`Sound: off` applies to a multi-shot scene",
            sound.setting.span,
            "kie.ai generates multi-shot video with sound; `false` is sent but may be refused",
        )
    sent = sound_sent(scene, multi, settings.get("sound"), diags)
    if frames is None or elements is None or not scene.shots:
        return None
    if any(shot.seconds is None for shot in scene.shots):
        return None
    prompts = tuple(prompt for prompt, _cues in composed)
    return ResolvedScene(scene, scene_id, settings, frames, elements, prompts, sent)


def _frames(
    scene: Scene, multi: bool, ctx: SceneContext, diags: Problems
) -> tuple[str, ...] | None:
    first = last = None
    ok = True
    for frame in scene.frames:
        keyword = "FIRST FRAME" if frame.which == "first" else "LAST FRAME"
        if (first if frame.which == "first" else last) is not None:
            diags.add(
                "E309",
                f"a second `{keyword}` in this scene",
                frame.span,
                "a scene has one first frame and one last frame",
            )
            ok = False
            continue
        if isinstance(frame.reference, After):
            # resolved (or E210/E211 reported) by shotc.language.continuity
            source = ctx.after.get(scene.index)
            url = after_url(source) if source is not None else None
        else:
            _kind, url = ctx.checker.check(frame.reference, ctx.base, diags, frame=True)
        ok = ok and url is not None
        if frame.which == "first":
            first = url or ""
        else:
            last = url or ""
            if multi:
                diags.add(
                    "E307",
                    "`LAST FRAME` in a multi-shot scene",
                    frame.span,
                    "kie.ai takes only a first frame for multi-shot video",
                )
                ok = False
    if last is not None and first is None:
        span = next(f.span for f in scene.frames if f.which == "last")
        diags.add(
            "E308",
            "`LAST FRAME` without `FIRST FRAME`",
            span,
            "add `FIRST FRAME image.png` above it",
        )
        ok = False
    if not ok:
        return None
    return tuple(url for url in (first, last) if url)


def _durations(scene: Scene, diags: Problems) -> None:
    shots = scene.shots
    if not shots:
        if not scene.implicit:
            diags.add(
                "E313",
                "this scene has no `SHOT`",
                scene.span,
                "add `SHOT 5s` and its prose below the preamble",
            )
        return
    if len(shots) > MAX_SHOTS:
        diags.add(
            "E303",
            f"{len(shots)} shots in one scene; kie.ai takes at most 5",
            shots[MAX_SHOTS].span,
            "split the scene in two",
        )
    if len(shots) > 1:
        for shot in shots:
            if shot.seconds is not None and not MIN_SHOT <= shot.seconds <= MAX_SHOT:
                diags.add(
                    "E302",
                    f"a shot of {shot.seconds} s; in a multi-shot scene each shot lasts 1 to 12 s",
                    shot.span,
                    f"write `SHOT {max(MIN_SHOT, min(shot.seconds, MAX_SHOT))}s`, or split "
                    "the scene",
                )
    if all(shot.seconds is not None for shot in shots):
        total = sum(shot.seconds or 0 for shot in shots)
        if not MIN_TOTAL <= total <= MAX_TOTAL:
            diags.add(
                "E301",
                f"the scene lasts {total} s; kie.ai makes 3 to 15 s",
                scene.span,
                "change the shot durations so they add up to 3 to 15 seconds",
            )


def _prompt(shot: Shot, prompt: str, cues: tuple[Cue, ...], multi: bool, diags: Problems) -> None:
    if not prompt:
        if shot.unclosed_note:
            return  # its text is inside the unclosed note: E103 says it all
        diags.add(
            "E311",
            "this shot has no prose",
            shot.span,
            "describe the shot on the lines below `SHOT`",
        )
    elif multi:
        # kie.ai counts each cue as 37 characters; a cue name longer than 36 would make the
        # weighted count smaller than the text, so the safe reading checks both
        weighted = len(prompt) + sum(CUE_WEIGHT - 1 - len(c.name) for c in cues)
        weight = max(weighted, len(prompt))
        if weight > MAX_MULTI_PROMPT:
            diags.add(
                "E306",
                f"the prompt counts {weight} characters (each cue "
                "counts 37); a multi-shot prompt takes at most 500",
                shot.span,
                "shorten the prose, or drop a cue",
            )
    elif len(prompt) > MAX_SINGLE_PROMPT:
        diags.add(
            "E310",
            f"the prompt has {len(prompt)} characters; kie.ai takes at most 2500",
            shot.span,
            "shorten the prose",
        )


def _cues(
    shots: list[tuple[Cue, ...]], ctx: SceneContext, diags: Problems
) -> tuple[ResolvedElement, ...] | None:
    order: list[str] = []
    ok = True
    for cues in shots:
        for cue in cues:
            if cue.name not in ctx.elements:
                ok = False
                guess = ctx.guesses.guess(cue.name, ctx.elements)
                if guess is None and ctx.include_failed:
                    continue  # it may be declared in the file that failed to include (E404)
                diags.add(
                    "E201",
                    f"`@{cue.name}` names no declared element",
                    cue.span,
                    f"did you mean `@{guess}`?"
                    if guess
                    else f"declare it: `ELEMENT @{cue.name}: description`",
                )
            elif cue.name not in order:
                order.append(cue.name)
                if len(order) == MAX_ELEMENTS + 1:
                    diags.add(
                        "E304",
                        "more than 3 elements cued in one scene",
                        cue.span,
                        "kie.ai takes at most 3 elements per request; split the scene",
                    )
                    ok = False
    resolved = [ctx.elements[name] for name in order[:MAX_ELEMENTS]]
    if not ok or any(r is None for r in resolved):
        return None
    return tuple(r for r in resolved if r is not None)


def unused_elements(script: Script, cued: set[str], diags: Problems) -> None:
    """W501 for this file's declarations that no prompt of the file cues."""
    if not script.has_shots:
        return
    for element in script.elements:
        if element.header_ok and element.name is not None and element.name not in cued:
            diags.add(
                "W501",
                f"`@{element.name}` is declared but never cued",
                element.span,
                f"cue it in a shot with `@{element.name}`, or remove it",
            )


def cued_names(scenes: Sequence[Scene], voices: dict[str, Voice] | None = None) -> set[str]:
    """The names the prompts cue, a speaking element's voice included."""
    names = {cue.name for scene in scenes for shot in scene.shots for cue in shot.cues}
    for name in list(names):
        voice = (voices or {}).get(name)
        if voice is not None:
            names.update(cue.name for cue in voice.cues)
    return names


# language-1.1 §6: clips are files named after the scene id (plus a take and a suffix), and
# file names stop at 255 bytes on common file systems; 120 leaves room for what run adds.
MAX_SCENE_ID = 120


def check_scene_id(scene: Scene, scene_id: str, diags: Problems) -> None:
    """E214 for a scene id too long to name its clips, at the SCENE line (first SHOT line)."""
    if len(scene_id) <= MAX_SCENE_ID:
        return
    diags.add(
        "E214",
        f"the scene id `{scene_id[:40]}…` is {len(scene_id)} characters long, over {MAX_SCENE_ID}",
        scene.span,
        "rename the file (its stem is the scene id), or add a shorter `SCENE` line"
        if scene.implicit
        else "shorten the title: the scene id names its clips' files",
    )
