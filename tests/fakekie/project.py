"""Test support: a throwaway project (script, local images, shotc.toml) and a way to run the
real `shotc` command line against a FakeKie in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FAST_CONFIG = """\
[run]
poll_initial = 0.05
poll_max = 0.2
retry_base = 0.01
retry_max = 0.2
"""


def png(seed: int) -> bytes:
    """A few bytes that start like a PNG, distinct per seed (the compiler checks names and
    sizes, kie.ai is faked: no decoder ever looks inside)."""
    return b"\x89PNG\r\n\x1a\n" + f"image {seed}".encode() * 16


def scene_text(i: int, *, tag: str = "") -> str:
    if i % 3 == 2:  # every third scene is multi-shot with the shared element
        return (
            f"SCENE Scene {i}\nFIRST FRAME img{i}.png\n\nSHOT 3s\nThe cast@element_cast "
            f"walks in, take {i}{tag}.\n\nSHOT 2s\nThey bow, scene {i}{tag}.\n"
        )
    return f"SCENE Scene {i}\nFIRST FRAME img{i}.png\n\nSHOT 4s\nA quiet shot number {i}{tag}.\n"


def write_project(
    root: Path, scenes: int = 12, *, config: str = FAST_CONFIG, mode: str = "std"
) -> Path:
    """A script with `scenes` scenes, each with its own local first frame, and an element
    made of two local images; returns the script's path."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(1, scenes + 1):
        (root / f"img{i}.png").write_bytes(png(i))
    (root / "cast1.png").write_bytes(png(1001))
    (root / "cast2.png").write_bytes(png(1002))
    (root / "shotc.toml").write_text(config)
    head = (
        f"Title: Test Film\nMode: {mode}\n\nELEMENT @element_cast: the cast\n"
        "  cast1.png\n  cast2.png\n\n"
    )
    script = root / "film.shot"
    body = "\n".join(scene_text(i) for i in range(1, scenes + 1))
    script.write_text(head + body)
    return script


def edit_scene(script: Path, i: int, tag: str) -> None:
    text = script.read_text()
    old = scene_text(i)
    assert old in text
    script.write_text(text.replace(old, scene_text(i, tag=tag)))


@dataclass
class Result:
    code: int
    out: str
    err: str


def shotc(args: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 120) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "shotc", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def spawn(args: list[str], *, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "shotc", *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def files_containing(root: Path, needle: bytes) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            hits.append(path)
    return hits


def clips(script: Path) -> list[str]:
    """The clips `run` wrote for `script` in its default renders directory, as paths relative
    to it (`scene-1/take-1.mp4`, `scene-1/older/0a1b2c3d-take-1.std.mp4`; film.md "On disk")."""
    root = script.parent / "renders" / script.stem
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.mp4"))
