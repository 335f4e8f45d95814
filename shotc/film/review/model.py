"""The review page's data: what each scene is (shots, prompts, frames), where it stands (state,
elapsed time, failure reason), what it costs, and its takes. Files are referred to by a media
id; the server maps ids to the files it may serve and nothing else."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Shot:
    seconds: int | None
    prompt: str  # as compiled (cues stay `@name`; the page marks them)


@dataclass(frozen=True, slots=True)
class Frame:
    which: str  # "first" or "last"
    label: str  # the reference as written, or the scene it comes from (`after X`)
    media: str | None  # a media id when the image is a local file, else None
    url: str | None = None  # an http(s) reference, shown as a link


@dataclass(frozen=True, slots=True)
class Take:
    take: int
    mode: str
    task_id: str | None
    media: str | None  # the clip's media id; None while it is not on disk
    state: str  # done, running, failed, ...
    draft: bool = False  # made in another mode than the scene's own
    in_cut: bool = False


@dataclass(frozen=True, slots=True)
class Scene:
    scene_id: str
    title: str
    shots: tuple[Shot, ...]
    frames: tuple[Frame, ...]
    state: str  # new, running, done, failed, changed, unknown, waiting, blocked
    seconds: int
    mode: str
    credits: float | None
    usd: float | None = None
    elapsed: float | None = None  # seconds since submission, while running
    reason: str | None = None  # why it failed or is blocked
    takes: tuple[Take, ...] = ()


@dataclass(slots=True)
class Project:
    title: str
    script: str  # the script's file name
    scenes: list[Scene] = field(default_factory=list)
    media: dict[str, Path] = field(default_factory=dict)  # media id -> absolute path
    can_pick: bool = True  # False for the static page

    def add_media(self, path: Path) -> str:
        """The media id of `path` (stable across rebuilds, so the page can keep players)."""
        path = path.resolve()
        key = hashlib.sha256(str(path).encode("utf-8")).hexdigest()[:16] + path.suffix.lower()
        self.media[key] = path
        return key

    def to_json(self, media_url: dict[str, str] | None = None) -> dict[str, Any]:
        """The page's data; `media_url` maps media ids to the URLs the page uses."""
        urls = media_url if media_url is not None else {k: f"/media/{k}" for k in self.media}
        scenes = []
        for scene in self.scenes:
            data = asdict(scene)
            for frame in data["frames"]:
                frame["src"] = urls.get(frame.pop("media") or "", None)
            for take in data["takes"]:
                take["src"] = urls.get(take.pop("media") or "", None)
            scenes.append(data)
        body = {"title": self.title, "script": self.script, "scenes": scenes}
        # a revision lets the page skip re-rendering (and restarting videos) when nothing moved
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()
        return {**body, "revision": digest[:16], "can_pick": self.can_pick}
