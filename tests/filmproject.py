"""Test support for the film commands end to end: a 6-scene script whose clips the fake kie.ai
makes as real MP4s, one colour per scene (so a decoded film shows the scene order) and one
tone per take of a scene (so it shows which take the cut used)."""

from __future__ import annotations

import re
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from fakekie.clips import COLOURS, TONES, ClipSpec, clip
from fakekie.project import FAST_CONFIG

SCENES = 6
_NUMBER = re.compile(r"scene number (\d+)")


def scene_text(i: int, *, tag: str = "", extra: str = "") -> str:
    return f"SCENE Scene {i}\n{extra}\nSHOT 4s\nA quiet shot, scene number {i}{tag}.\n"


def write_film(root: Path, *, extras: dict[int, str] | None = None) -> Path:
    """The script: title page in std; `extras[i]` are scene i's settings lines."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "shotc.toml").write_text(FAST_CONFIG)
    extras = extras or {}
    body = "\n".join(scene_text(i, extra=extras.get(i, "")) for i in range(1, SCENES + 1))
    script = root / "film.shot"
    script.write_text("Title: Test Film\nMode: std\nAspect: 16:9\n\n" + body)
    return script


def edit(script: Path, i: int, tag: str) -> None:
    text = script.read_text()
    old = f"scene number {i}."
    assert old in text
    script.write_text(text.replace(old, f"scene number {i}{tag}."))


class ClipMaker:
    """The fake kie.ai's `result_file`: scene i is COLOURS[i - 1]; the n-th task of one scene
    (takes, drafts, versions, in the order their results are first fetched) has TONES[n]. The
    clip of one task is the same at every fetch: the fake keeps one body object per task."""

    def __init__(self) -> None:
        self.made: Counter[int] = Counter()
        self._per_task: dict[int, tuple[Any, bytes]] = {}  # id(body) -> (body, clip)
        self._lock = threading.Lock()

    def __call__(self, body: Any) -> bytes:
        with self._lock:
            known = self._per_task.get(id(body))
            if known is not None and known[0] is body:
                return known[1]
            data = self._make(body)
            self._per_task[id(body)] = (body, data)
            return data

    def _make(self, body: Any) -> bytes:
        inp = body.get("input", {})
        prompt = str(inp.get("prompt", ""))
        match = _NUMBER.search(prompt)
        scene = int(match.group(1)) if match else 0
        mode = "pro" if inp.get("mode") == "pro" else "std"
        n = self.made[scene]
        self.made[scene] += 1
        spec = ClipSpec(mode=mode, colour=COLOURS[(scene - 1) % len(COLOURS)], tone=TONES[n])
        return clip(spec).read_bytes()


def scene_of_colour(rgb: tuple[int, int, int]) -> int | None:
    from fakekie.clips import closest_colour

    index = closest_colour(rgb)
    return None if index is None else index + 1
